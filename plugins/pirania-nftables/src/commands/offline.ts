import { ErrorCodes, type MethodTable, type PluginContext, type UciReader, WrtkitError } from '@wrtkit/sdk';
import { createPiraniaMethods } from '../methods.js';
import { readHostname } from '../vouchers/hostname.js';
import type { LoadProblem } from '../vouchers/store.js';
import { Vouchers } from '../vouchers/vouchers.js';

/** schema.json's defaults for the options the store needs (a test keeps them in step). */
export const STORE_DEFAULTS = { db_path: '/etc/pirania/vouchers/', prune_expired_for_days: 30 } as const;

export interface StoreConfig {
  db_path: string;
  prune_expired_for_days: number;
  /** Options that were present but invalid, and fell back to the default. */
  ignored: string[];
}

/** db_path and prune_expired_for_days from /etc/config/pirania (base_config), checked as the schema does. */
export function readStoreConfig(uci: UciReader): StoreConfig {
  const section = uci.get('pirania')?.ofType('base_config')[0];
  const out: StoreConfig = { ...STORE_DEFAULTS, ignored: [] };
  const dbPath = section?.get('db_path');
  if (dbPath !== undefined) {
    if (typeof dbPath === 'string' && dbPath.startsWith('/')) out.db_path = dbPath;
    else out.ignored.push('db_path');
  }
  const days = section?.get('prune_expired_for_days');
  if (days !== undefined) {
    const n = typeof days === 'string' && /^\d+$/.test(days.trim()) ? Number(days) : NaN;
    if (Number.isInteger(n) && n >= 1 && n <= 3650) out.prune_expired_for_days = n;
    else out.ignored.push('prune_expired_for_days');
  }
  return out;
}

export interface OfflineStore {
  dbPath: string;
  methods: MethodTable;
  problems: LoadProblem[];
  ignored: string[];
}

function notOffline(what: string): never {
  throw new WrtkitError(ErrorCodes.CONTROL_UNAVAILABLE, `${what} needs the wrtkit host running`);
}

/**
 * The `pirania` methods on the store itself, for when the host is not running: the same
 * handlers the host serves, so answers and refusals are the same. Nothing is pruned here
 * (looking must not delete); the host prunes when it starts, and brings the firewall in
 * line with the store then.
 */
export function openOfflineStore(platform: PluginContext['platform'], uci: UciReader): OfflineStore {
  const config = readStoreConfig(uci);
  const vouchers = Vouchers.open({
    fs: platform.fs,
    dbPath: config.db_path,
    randomBytes: (n) => platform.randomBytes(n),
    clock: { now: () => platform.timers.wallMs() },
    hostname: () => readHostname(platform.fs, uci),
    pruneExpiredForDays: config.prune_expired_for_days,
    prune: false,
  });
  const methods = createPiraniaMethods({
    vouchers,
    portalConfig: () => notOffline('the portal config'),
    setPortalConfig: () => notOffline('changing the portal config'),
    portalUrl: () => notOffline('the portal URL'),
    setPortalUrl: () => notOffline('changing the portal URL'),
    contentFs: platform.fs,
    contentPath: () => notOffline('the portal page content'),
  });
  return { dbPath: config.db_path, methods, problems: vouchers.problems, ignored: config.ignored };
}
