import { type CommandContext, ErrorCodes, defineCommand } from '@wrtkit/sdk';
import type { VoucherEntry } from '../methods.js';
import { checkName } from '../vouchers/create.js';
import { normalizeMac } from '../vouchers/mac.js';
import { voucherLine } from './format.js';
import { type OfflineStore, openOfflineStore } from './offline.js';

/**
 * `voucher`: Pirania's voucher CLI, on the host's `pirania` object. With the host down it
 * works on the store itself, so an admin can still list, add and fix vouchers from a
 * shell on a node whose host will not start.
 */

/** What the host gives a plugin command (core's CommandContext). */
export type VoucherCommandContext = CommandContext;

export const USAGE = `usage: voucher <command> [arguments] [--json]

  add <name> <duration_m|perm> [<activation_deadline>] [--qty N] [--permanent] [--unrestricted]
                            create vouchers and print them; duration in minutes (fractions
                            allowed), deadline in Unix seconds
  list                      every voucher
  list_active | list_available | list_expired
  activate <code> <mac>     bind the voucher with this code to a device
  deactivate <id>           end the voucher's access (it can be activated again)
  invalidate <id>           end the voucher for good, on every node
  rename <id> <name>
  is_mac_authorized <mac>   print true (exit 0) or false (exit 1)
  show_authorized_macs      one MAC per line

Lines are tab-separated: id, name, code, MAC, created, duration_m, expires, mod_counter.
With the wrtkit host down, the store in pirania.base_config.db_path is used directly.
Exit status: 0 done, 1 refused or failed, 2 bad usage.`;

const VERB_USAGE: Record<string, string> = {
  add: 'voucher add <name> <duration_m|perm> [<activation_deadline>] [--qty N] [--permanent] [--unrestricted]',
  list: 'voucher list',
  list_active: 'voucher list_active',
  list_available: 'voucher list_available',
  list_expired: 'voucher list_expired',
  activate: 'voucher activate <code> <mac>',
  deactivate: 'voucher deactivate <id>',
  invalidate: 'voucher invalidate <id>',
  rename: 'voucher rename <id> <name>',
  is_mac_authorized: 'voucher is_mac_authorized <mac>',
  show_authorized_macs: 'voucher show_authorized_macs',
};

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  json: boolean;
  help: boolean;
  permanent: boolean;
  unrestricted: boolean;
  qty?: string;
}

function parseArgv(argv: readonly string[]): Parsed {
  const out: Parsed = { positional: [], json: false, help: false, permanent: false, unrestricted: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--json') out.json = true;
    else if (arg === '-h' || arg === '--help') out.help = true;
    else if (arg === '--permanent') out.permanent = true;
    else if (arg === '--unrestricted') out.unrestricted = true;
    else if (arg === '--qty' || arg.startsWith('--qty=')) {
      const value = arg === '--qty' ? argv[++i] : arg.slice('--qty='.length);
      if (value === undefined || value === '') throw new UsageError('--qty needs a number');
      out.qty = value;
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) throw new UsageError(`unknown option ${arg}`);
    else out.positional.push(arg);
  }
  return out;
}

function errorCodeOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; remote?: { code?: unknown } } | null;
  const code = e?.code ?? e?.remote?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  const e = error as { message?: unknown; remote?: { message?: unknown } } | null;
  const message = e?.remote?.message ?? e?.message;
  return typeof message === 'string' ? message : String(error);
}

/**
 * Whether the call failed because nobody serves `pirania`: no host on the control
 * socket, the plugin disabled, or the host running without it. Then the store is ours.
 */
function hostIsDown(error: unknown): boolean {
  const code = errorCodeOf(error);
  if (code === ErrorCodes.CONTROL_UNAVAILABLE || code === ErrorCodes.PLUGIN_DISABLED) return true;
  if (code !== ErrorCodes.METHOD_NOT_FOUND) return false;
  const e = error as { details?: { method?: unknown }; remote?: { details?: { method?: unknown } } };
  return (e.details?.method ?? e.remote?.details?.method) === undefined;
}

type Reply = Record<string, unknown> & { status?: unknown; message?: unknown };

/** Calls `pirania` methods on the host, or on the store when the host is down. */
class PiraniaLink {
  private offline: OfflineStore | undefined;
  private noted = false;

  constructor(private readonly ctx: VoucherCommandContext) {}

  async call(method: string, args: Record<string, unknown> = {}): Promise<Reply> {
    if (this.offline === undefined) {
      try {
        return (await this.ctx.call('pirania', method, args)) as Reply;
      } catch (error) {
        if (!hostIsDown(error)) throw error;
        this.offline = this.openOffline();
      }
    }
    const spec = this.offline.methods[method];
    if (!spec) throw new Error(`no method ${method}`);
    const reply = (await spec.handler(args)) as Reply;
    if (spec.access === 'write' && reply.status === 'ok' && !this.noted) {
      this.noted = true;
      this.ctx.err(
        `note: the wrtkit host is not running; changed the store in ${this.offline.dbPath} directly. ` +
          'The firewall is brought in line with it when the host starts.\n',
      );
    }
    return reply;
  }

  private openOffline(): OfflineStore {
    const store = openOfflineStore(this.ctx.platform, this.ctx.uci);
    for (const option of store.ignored) this.ctx.err(`voucher: pirania.base_config.${option} is invalid; using the default\n`);
    for (const p of store.problems) this.ctx.err(`voucher: skipped ${p.file}: ${p.reason}\n`);
    return store;
  }
}

function arity(verb: string, positional: readonly string[], min: number, max = min): void {
  if (positional.length < min) throw new UsageError(`missing arguments\nusage: ${VERB_USAGE[verb]}`);
  if (positional.length > max) throw new UsageError(`too many arguments\nusage: ${VERB_USAGE[verb]}`);
}

function checkId(id: string): string {
  if (!ID.test(id)) throw new UsageError(`invalid voucher id ${JSON.stringify(id)}`);
  return id;
}

function addArgs(p: Parsed): Record<string, unknown> {
  arity('add', p.positional, p.permanent ? 1 : 2, 3);
  const [name, duration, deadline] = p.positional as [string, string | undefined, string | undefined];
  try {
    checkName(name);
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
  const args: Record<string, unknown> = { name, qty: 1, permanent: p.permanent, unrestricted: p.unrestricted };
  if (duration === 'perm') args.permanent = true;
  else if (duration !== undefined) {
    if (p.permanent) throw new UsageError(`--permanent and a duration (${duration}) contradict; give 'perm' or no duration`);
    const minutes = /^\d+(\.\d+)?$/.test(duration) ? Number(duration) : NaN;
    if (!(minutes > 0)) throw new UsageError(`invalid duration ${JSON.stringify(duration)}: minutes above 0, or 'perm'`);
    args.duration_m = minutes;
  }
  if (deadline !== undefined) {
    if (!/^\d+$/.test(deadline)) throw new UsageError(`invalid activation deadline ${JSON.stringify(deadline)}: Unix seconds`);
    args.activation_deadline = Number(deadline);
  }
  if (p.qty !== undefined) {
    const qty = /^\d+$/.test(p.qty) ? Number(p.qty) : NaN;
    if (!(qty >= 1 && qty <= 1000)) throw new UsageError(`invalid --qty ${JSON.stringify(p.qty)}: 1 to 1000`);
    args.qty = qty;
  }
  return args;
}

const LISTS: Record<string, (e: VoucherEntry) => boolean> = {
  list: () => true,
  list_active: (e) => e.status === 'active',
  list_available: (e) => e.status === 'available',
  list_expired: (e) => e.status === 'expired',
};

export async function runVoucher(ctx: VoucherCommandContext): Promise<number> {
  const print = (text: string) => ctx.out(text.endsWith('\n') ? text : `${text}\n`);
  const fail = (text: string) => ctx.err(text.endsWith('\n') ? text : `${text}\n`);
  const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));

  let parsed: Parsed;
  try {
    parsed = parseArgv(ctx.argv);
  } catch (error) {
    fail(`voucher: ${messageOf(error)}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const json = ctx.json || parsed.json;
  const [verb, ...rest] = parsed.positional;
  if (parsed.help || verb === 'help') {
    print(USAGE);
    return EXIT_OK;
  }
  if (verb === undefined) {
    fail(USAGE);
    return EXIT_USAGE;
  }
  if (!Object.prototype.hasOwnProperty.call(VERB_USAGE, verb)) {
    fail(`invalid command: ${verb}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const p: Parsed = { ...parsed, positional: rest };
  const link = new PiraniaLink(ctx);
  // A refusal of the store (unknown id, bad name): its message, exit 1.
  const refused = (reply: Reply): number => {
    if (json) printJson(reply);
    fail(`voucher: ${typeof reply.message === 'string' ? reply.message : 'failed'}`);
    return EXIT_FAILED;
  };

  try {
    if (verb !== 'add' && (p.permanent || p.unrestricted || p.qty !== undefined)) {
      throw new UsageError(`--permanent, --unrestricted and --qty go with add only\nusage: ${VERB_USAGE[verb]}`);
    }
    switch (verb) {
      case 'add': {
        const reply = await link.call('add_vouchers', addArgs(p));
        if (reply.status !== 'ok') return refused(reply);
        const ids = (reply.vouchers as Array<{ id: string }>).map((v) => v.id);
        const listing = await link.call('list_vouchers');
        const byId = new Map((listing.vouchers as VoucherEntry[]).map((e) => [e.id, e]));
        const made = ids.map((id) => byId.get(id)).filter((e): e is VoucherEntry => e !== undefined);
        if (json) printJson({ status: 'ok', vouchers: made });
        else for (const e of made) print(voucherLine(e));
        return EXIT_OK;
      }
      case 'list':
      case 'list_active':
      case 'list_available':
      case 'list_expired': {
        arity(verb, p.positional, 0);
        const reply = await link.call('list_vouchers');
        const entries = (reply.vouchers as VoucherEntry[]).filter(LISTS[verb] as (e: VoucherEntry) => boolean);
        if (json) printJson(entries);
        else if (entries.length > 0) print(entries.map(voucherLine).join('\n'));
        return EXIT_OK;
      }
      case 'activate': {
        arity(verb, p.positional, 2);
        const [code, mac] = p.positional as [string, string];
        let reply: Reply;
        try {
          reply = await link.call('activate', { code, mac });
        } catch (error) {
          // Arguments the host's schema refused (absurdly long): the same answer as any bad code.
          if (errorCodeOf(error) !== ErrorCodes.INVALID_ARGUMENT) throw error;
          reply = { status: 'error', message: messageOf(error) };
        }
        if (reply.status === 'ok') {
          if (json) printJson(reply);
          else print('Voucher activated!');
          return EXIT_OK;
        }
        if (json) printJson(reply);
        else print(`Invalid voucher code '${code}' or invalid MAC '${mac}'`);
        fail(`voucher: ${typeof reply.message === 'string' ? reply.message : 'refused'}`);
        return EXIT_FAILED;
      }
      case 'deactivate':
      case 'invalidate': {
        arity(verb, p.positional, 1);
        const reply = await link.call(verb, { id: checkId(p.positional[0] as string) });
        if (reply.status !== 'ok') return refused(reply);
        if (json) printJson(reply);
        return EXIT_OK;
      }
      case 'rename': {
        arity(verb, p.positional, 2);
        const [id, name] = p.positional as [string, string];
        try {
          checkName(name);
        } catch (error) {
          throw new UsageError(messageOf(error));
        }
        const reply = await link.call('rename', { id: checkId(id), name });
        if (reply.status !== 'ok') return refused(reply);
        if (json) printJson(reply);
        return EXIT_OK;
      }
      case 'is_mac_authorized': {
        arity(verb, p.positional, 1);
        let mac: string;
        try {
          mac = normalizeMac(p.positional[0] as string);
        } catch (error) {
          throw new UsageError(messageOf(error));
        }
        const reply = await link.call('is_mac_authorized', { mac });
        if (reply.status !== 'ok') return refused(reply);
        const authorized = reply.authorized === true;
        if (json) printJson({ authorized });
        else print(authorized ? 'true' : 'false');
        return authorized ? EXIT_OK : EXIT_FAILED;
      }
      case 'show_authorized_macs': {
        arity(verb, p.positional, 0);
        const reply = await link.call('show_authorized_macs');
        const macs = reply.macs as string[];
        if (json) printJson(macs);
        else if (macs.length > 0) print(macs.join('\n'));
        return EXIT_OK;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      fail(`voucher: ${error.message}`);
      return EXIT_USAGE;
    }
    fail(`voucher: ${messageOf(error)}${errorCodeOf(error) ? ` [${errorCodeOf(error)}]` : ''}`);
    return errorCodeOf(error) === ErrorCodes.INVALID_ARGUMENT ? EXIT_USAGE : EXIT_FAILED;
  }
  return EXIT_USAGE;
}

export const summary = "Pirania's voucher CLI: add, list, activate, deactivate and invalidate vouchers";

export default defineCommand({
  name: 'voucher',
  summary,
  usage: USAGE,
  run: (ctx) => runVoucher(ctx),
});
