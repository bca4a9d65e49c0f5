// Fakes for the portal's unit tests: requests as plain objects, a voucher store in a Map,
// a logger that keeps its records.
import { ErrorCodes, WrtkitError } from '@wrtkit/sdk';
import type { Logger } from '@wrtkit/sdk';
import { CodeAttemptLimiter } from '../../src/portal/rate-limit.js';
import type { PortalContent, PortalDeps, PortalRequest, PortalSettings } from '../../src/portal/types.js';
import { PiraniaErrors } from '../../src/vouchers/errors.js';
import type { Authorization, Voucher } from '../../src/vouchers/voucher.js';

export const CLIENT_IP = '10.1.0.2';
export const CLIENT_MAC = 'aa:bb:cc:dd:ee:01';
export const ROUTER_IP = '10.1.0.1';
export const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

export interface RequestInit {
  method?: string;
  target?: string;
  host?: string | null;
  headers?: Record<string, string>;
  form?: Record<string, string>;
  remote?: string | null;
  local?: string;
}

/** A request as core's HTTP server would hand it over. */
export function request(init: RequestInit = {}): PortalRequest {
  const target = init.target ?? '/';
  const [rawPath, rawQuery = ''] = target.replace(/^https?:\/\/[^/]+/i, '').split('?', 2) as [string, string?];
  const query: Record<string, string> = {};
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const [k, v = ''] = pair.split('=', 2) as [string, string?];
    query[decodeURIComponent(k.replace(/\+/g, ' '))] = decodeURIComponent(v.replace(/\+/g, ' '));
  }
  const headers: Record<string, string> = { ...init.headers };
  if (init.host !== null) headers.host = init.host ?? 'thisnode.info:59080';
  return {
    method: init.method ?? 'GET',
    target,
    path: decodeURIComponent(rawPath || '/'),
    query,
    headers,
    ...(init.remote === null ? {} : { remote: { address: init.remote ?? CLIENT_IP, port: 40000 } }),
    local: { address: init.local ?? ROUTER_IP, port: 59080 },
    form: () => ({ ...init.form }),
  };
}

export interface LogEntry {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

export function recordingLogger(into: LogEntry[] = []): Logger & { entries: LogEntry[] } {
  const make = (): Logger & { entries: LogEntry[] } => ({
    entries: into,
    error: (message, fields) => void into.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
    warn: (message, fields) => void into.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    info: (message, fields) => void into.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
    debug: (message, fields) => void into.push({ level: 'debug', message, ...(fields ? { fields } : {}) }),
    child: () => make(),
  });
  return make();
}

/** A voucher store with Pirania's rules, enough for the portal. */
export class FakeVouchers {
  readonly vouchers = new Map<string, Voucher>();
  readonly activations: Array<{ code: string; mac: string }> = [];
  /** Makes activate throw this instead (system failures). */
  failWith: unknown;

  constructor(private readonly now: () => number) {}

  add(code: string, fields: Partial<Voucher> = {}): Voucher {
    const v: Voucher = {
      id: `id${this.vouchers.size}`,
      name: 'test',
      code,
      creation_date: Math.floor(this.now() / 1000) - 3600,
      mod_counter: 1,
      ...fields,
    };
    this.vouchers.set(code, v);
    return v;
  }

  activate(code: string, mac: string): Voucher {
    this.activations.push({ code, mac });
    if (this.failWith !== undefined) throw this.failWith;
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1) {
      throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, 'bad mac', { details: { reason: PiraniaErrors.MAC_INVALID } });
    }
    const v = this.vouchers.get(code);
    const reject = (reason: string) => new WrtkitError(ErrorCodes.INVALID_ARGUMENT, 'no', { details: { reason } });
    if (!v) throw reject(PiraniaErrors.CODE_UNKNOWN);
    if (v.invalidation_date !== undefined) throw reject(PiraniaErrors.CODE_INVALIDATED);
    if (v.mac !== undefined) throw reject(PiraniaErrors.CODE_USED);
    v.mac = mac;
    v.activation_date = Math.floor(this.now() / 1000);
    return v;
  }

  authorizationOf(mac: string): Authorization | undefined {
    for (const v of this.vouchers.values()) {
      if (v.mac !== mac || v.activation_date === undefined) continue;
      const expiresAt = v.duration_m === undefined ? undefined : v.activation_date + v.duration_m * 60;
      return { mac, voucherId: v.id, unrestricted: false, ...(expiresAt !== undefined ? { expiresAt } : {}) };
    }
    return undefined;
  }
}

export interface Fixture {
  deps: PortalDeps;
  vouchers: FakeVouchers;
  limiter: CodeAttemptLimiter;
  logs: LogEntry[];
  activated: Array<{ voucher: Voucher; mac: string }>;
  state: {
    online: boolean;
    now: number;
    content: PortalContent;
    settings: PortalSettings;
    macs: Map<string, string>;
  };
}

export function fixture(overrides: Partial<PortalDeps> = {}): Fixture {
  const state: Fixture['state'] = {
    online: true,
    now: NOW,
    content: {
      title: 'Red Libre del Barrio',
      main_text: 'Bienvenida.\nAsk at the bakery for a voucher.',
      background_color: '#ffe0b0',
      link_title: 'About us',
      link_url: 'http://10.0.0.5/about',
    },
    settings: {
      portalDomain: 'thisnode.info',
      portalPort: 59080,
      portalUrl: 'http://thisnode.info:59080/',
      withVouchers: true,
    },
    macs: new Map([[CLIENT_IP, CLIENT_MAC]]),
  };
  const vouchers = new FakeVouchers(() => state.now);
  const clock = { now: () => state.now };
  const limiter = new CodeAttemptLimiter({ perClient: 3, global: 10, windowS: 300 }, clock);
  const logs: LogEntry[] = [];
  const activated: Fixture['activated'] = [];
  const deps: PortalDeps = {
    vouchers,
    content: () => state.content,
    settings: () => state.settings,
    online: () => state.online,
    macOf: async (address) => state.macs.get(address),
    limiter,
    clock,
    log: recordingLogger(logs),
    onActivated: (voucher, mac) => void activated.push({ voucher, mac }),
    formatTime: (ms) => new Date(ms).toISOString().slice(0, 16).replace('T', ' '),
    ...overrides,
  };
  return { deps, vouchers, limiter, logs, activated, state };
}
