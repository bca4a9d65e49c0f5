import { type MethodTable, method } from '@wrtkit/sdk';
import { type ContentFs, MAX_LOGO_BYTES, MAX_TEXT_BYTES, type PortalContent, readContent, writeContent } from './content.js';
import { MAX_DURATION_M, MAX_NAME_LENGTH, MAX_QTY } from './vouchers/create.js';
import { piraniaReasonOf } from './vouchers/errors.js';
import { expirationOf, statusOf } from './vouchers/status.js';
import type { Voucher, VoucherStatus } from './vouchers/voucher.js';
import type { Vouchers } from './vouchers/vouchers.js';

/** What the methods act on; the plugin wires them to its config, UCI and store. */
export interface PiraniaMethodsDeps {
  vouchers: Vouchers;
  /** base_config as it is now. */
  portalConfig(): { enabled: boolean; with_vouchers: boolean };
  /** Switches the portal on or off (the plugin writes base_config.enabled to UCI). */
  setPortalConfig(change: { activated: boolean }): void | Promise<void>;
  /** Where clients are sent: portal_url, or the default made from portal_domain and portal_port. */
  portalUrl(): string;
  setPortalUrl(url: string): void | Promise<void>;
  contentFs: ContentFs;
  /** base_config.content_path. */
  contentPath(): string;
  /**
   * Resolves when what a change set in motion is done (the firewall follows the store):
   * a reply to activate or invalidate is sent after the gate changed.
   */
  settled?(): Promise<void>;
}

/** A voucher as list_vouchers reports it: Pirania's fields plus status, and mod_counter for the CLI. */
export interface VoucherEntry extends Omit<Voucher, 'unrestricted'> {
  expiration_date?: number;
  is_active: boolean;
  permanent: boolean;
  status: VoucherStatus;
  unrestricted: boolean;
}

/** Absent values are left out (Lua's nil), never sent as null: ubus has no null. */
export function voucherEntry(v: Voucher, now: number): VoucherEntry {
  const status = statusOf(v, now);
  const entry: VoucherEntry = {
    id: v.id,
    name: v.name,
    code: v.code,
    creation_date: v.creation_date,
    is_active: status === 'active',
    permanent: v.duration_m === undefined,
    status,
    unrestricted: v.unrestricted === true,
    mod_counter: v.mod_counter,
  };
  const expiration = expirationOf(v);
  if (v.mac !== undefined) entry.mac = v.mac;
  if (v.duration_m !== undefined) entry.duration_m = v.duration_m;
  if (v.activation_date !== undefined) entry.activation_date = v.activation_date;
  if (expiration !== undefined) entry.expiration_date = expiration;
  if (v.activation_deadline !== undefined) entry.activation_deadline = v.activation_deadline;
  if (v.author_node !== undefined) entry.author_node = v.author_node;
  if (v.invalidation_date !== undefined) entry.invalidation_date = v.invalidation_date;
  return entry;
}

/** Pirania's failure reply, plus the stable reason for callers that tell failures apart. */
export interface ErrorReply {
  status: 'error';
  message: string;
  code?: string;
}

/**
 * Runs a handler body, turning a refused voucher operation into Pirania's
 * `{ status: 'error', message }`. Anything else (a disk error) propagates and the host
 * reports it as the method failing.
 */
async function reply<T>(body: () => T | Promise<T>): Promise<T | ErrorReply> {
  try {
    return await body();
  } catch (error) {
    const reason = piraniaReasonOf(error);
    if (reason === undefined) throw error;
    return { status: 'error', message: (error as Error).message, code: reason };
  }
}

const NO_ARGS = { type: 'object', properties: {}, additionalProperties: false } as const;
const ID = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const;
const NAME = { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH } as const;
// MACs and codes are checked by the handler, which can say precisely what is wrong.
const MAC = { type: 'string', minLength: 1, maxLength: 64 } as const;
const TEXT = { type: 'string', maxLength: MAX_TEXT_BYTES } as const;

/**
 * Pirania's rpcd object `pirania`, with the same method names and replies, plus the
 * methods the `voucher` CLI needs. Arguments are checked against the schemas by the host
 * before a handler runs.
 */
export function createPiraniaMethods(deps: PiraniaMethodsDeps): MethodTable {
  // Read at each call: the plugin swaps the store when db_path changes.
  const vouchers = (): Vouchers => deps.vouchers;
  // A change is answered once the gate followed it: a client told "activated" can pass.
  const changed = <T>(body: () => T): Promise<T | ErrorReply> =>
    reply(async () => {
      const result = body();
      await deps.settled?.();
      return result;
    });
  return {
    get_portal_config: method({ access: 'read', schema: NO_ARGS }, () => {
      const config = deps.portalConfig();
      return { status: 'ok', activated: config.enabled, with_vouchers: config.with_vouchers };
    }),
    set_portal_config: method(
      {
        access: 'write',
        schema: {
          type: 'object',
          properties: { activated: { type: 'boolean' }, with_vouchers: { type: 'boolean' } },
          required: ['activated', 'with_vouchers'],
          additionalProperties: false,
        },
      },
      async (args) => {
        if (!args.with_vouchers) return { status: 'error', message: 'with_vouchers=false is not supported yet' };
        await deps.setPortalConfig({ activated: args.activated });
        return { status: 'ok' };
      },
    ),
    // Clients without a voucher ask where the portal is (RFC 8910 style); the URL is no secret.
    show_url: method({ access: 'public', schema: NO_ARGS }, () => ({ status: 'ok', url: deps.portalUrl() })),
    change_url: method(
      {
        access: 'write',
        schema: {
          type: 'object',
          properties: { url: { type: 'string', pattern: '^https?://[^\\s"\'<>`]+$', maxLength: 2048 } },
          required: ['url'],
          additionalProperties: false,
        },
      },
      async (args) => {
        await deps.setPortalUrl(args.url);
        return { status: 'ok', url: args.url };
      },
    ),
    add_vouchers: method(
      {
        access: 'write',
        schema: {
          type: 'object',
          properties: {
            name: NAME,
            qty: { type: 'integer', minimum: 1, maximum: MAX_QTY },
            // null is accepted as "not given": LimeApp sends it for empty fields.
            duration_m: { type: ['number', 'null'], minimum: 0, maximum: MAX_DURATION_M },
            activation_deadline: { type: ['integer', 'null'], minimum: 0 },
            permanent: { type: 'boolean' },
            unrestricted: { type: 'boolean' },
          },
          required: ['name', 'qty'],
          additionalProperties: false,
        },
      },
      (args) =>
        changed(() => {
          const made = vouchers().create({
            name: args.name,
            qty: args.qty,
            ...(args.duration_m != null ? { duration_m: args.duration_m } : {}),
            ...(args.activation_deadline != null ? { activation_deadline: args.activation_deadline } : {}),
            permanent: args.permanent === true,
            unrestricted: args.unrestricted === true,
          });
          return { status: 'ok', vouchers: made.map((v) => ({ id: v.id, code: v.code })) };
        }),
    ),
    list_vouchers: method({ access: 'read', schema: NO_ARGS }, () => {
      const now = vouchers().now();
      return {
        status: 'ok',
        vouchers: vouchers()
          .list()
          .map((v) => voucherEntry(v, now)),
      };
    }),
    rename: method(
      {
        access: 'write',
        schema: { type: 'object', properties: { id: ID, name: NAME }, required: ['id', 'name'], additionalProperties: false },
      },
      (args) =>
        changed(() => {
          vouchers().rename(args.id, args.name);
          return { status: 'ok' };
        }),
    ),
    invalidate: method(
      { access: 'write', schema: { type: 'object', properties: { id: ID }, required: ['id'], additionalProperties: false } },
      (args) =>
        changed(() => {
          vouchers().invalidate(args.id);
          return { status: 'ok' };
        }),
    ),
    // The portal page shows it to clients before they have a voucher.
    get_portal_page_content: method({ access: 'public', schema: NO_ARGS }, () => readContent(deps.contentFs, deps.contentPath())),
    set_portal_page_content: method(
      {
        access: 'write',
        schema: {
          type: 'object',
          properties: {
            title: TEXT,
            main_text: TEXT,
            logo: { type: 'string', maxLength: MAX_LOGO_BYTES },
            link_title: TEXT,
            link_url: TEXT,
            background_color: { type: 'string', maxLength: 9 },
          },
          additionalProperties: false,
        },
      },
      (args) =>
        changed(() => {
          const path = deps.contentPath();
          const patch: Partial<PortalContent> = {};
          for (const [key, value] of Object.entries(args)) if (value !== undefined) patch[key as keyof PortalContent] = value;
          writeContent(deps.contentFs, path, { ...readContent(deps.contentFs, path), ...patch });
          return { status: 'ok' };
        }),
    ),
    activate: method(
      {
        access: 'write',
        schema: {
          type: 'object',
          properties: { code: { type: 'string', minLength: 1, maxLength: 64 }, mac: MAC },
          required: ['code', 'mac'],
          additionalProperties: false,
        },
      },
      (args) =>
        changed(() => {
          const v = vouchers().activate(args.code, args.mac);
          return { status: 'ok', voucher: voucherEntry(v, vouchers().now()) };
        }),
    ),
    deactivate: method(
      { access: 'write', schema: { type: 'object', properties: { id: ID }, required: ['id'], additionalProperties: false } },
      (args) =>
        changed(() => {
          vouchers().deactivate(args.id);
          return { status: 'ok' };
        }),
    ),
    is_mac_authorized: method(
      { access: 'read', schema: { type: 'object', properties: { mac: MAC }, required: ['mac'], additionalProperties: false } },
      (args) => reply(() => ({ status: 'ok', authorized: vouchers().isMacAuthorized(args.mac) })),
    ),
    show_authorized_macs: method({ access: 'read', schema: NO_ARGS }, () => ({
      status: 'ok',
      macs: vouchers().authorizedMacs(),
    })),
  };
}
