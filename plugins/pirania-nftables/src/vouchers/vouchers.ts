import { parseVoucher } from './codec.js';
import { type CreateParams, checkCreate, checkName } from './create.js';
import { PiraniaErrors, piraniaError } from './errors.js';
import { normalizeMac } from './mac.js';
import { mergeVouchers } from './merge.js';
import { PrunedIds } from './pruned.js';
import { type RandomBytes, newCode, newId } from './random.js';
import { endOf, expirationOf, statusOf } from './status.js';
import { type LoadProblem, type LoadResult, type StoreFs, VoucherStore } from './store.js';
import type { Authorization, Voucher, VoucherStatus } from './voucher.js';

export type VoucherChangeKind = 'created' | 'activated' | 'deactivated' | 'invalidated' | 'renamed' | 'pruned' | 'merged';

/** What changed, told after the store write succeeded (the vouchers as they are now, or were when pruned). */
export interface VoucherChange {
  kind: VoucherChangeKind;
  vouchers: Voucher[];
}

export type VoucherListener = (change: VoucherChange) => void;

export interface VouchersOptions {
  fs: StoreFs;
  /** Pirania's db_path, e.g. /etc/pirania/vouchers/. */
  dbPath: string;
  randomBytes: RandomBytes;
  /** Wall clock in milliseconds (ctx.clock); vouchers keep Unix seconds. */
  clock: { now(): number };
  /** This node's hostname, recorded as author_node of the vouchers it creates. */
  hostname: string | (() => string);
  pruneExpiredForDays: number;
  /** Where load problems and failing listeners are reported. */
  log?: { warn(message: string, fields?: Record<string, unknown>): void };
}

export interface MergeReport {
  /** Vouchers added or replaced here, as stored now. */
  changed: Voucher[];
  /** Remote entries turned away: pruned here, over already, or not a voucher. */
  refused: Array<{ id?: string; reason: string }>;
}

const DAY_S = 24 * 60 * 60;
/** Draws before giving up on a free id or code; with 26^6 codes this only trips on a broken random source. */
const MAX_DRAWS = 1000;

function byCreation(a: Voucher, b: Voucher): number {
  if (a.creation_date !== b.creation_date) return a.creation_date - b.creation_date;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The vouchers of this node: Pirania's vouchera, on the store in db_path. It keeps them
 * in memory (a node has hundreds, not millions) and writes each change through before it
 * tells anyone, so what listeners hear about is on disk.
 */
export class Vouchers {
  readonly store: VoucherStore;
  readonly pruned: PrunedIds;
  private vouchers = new Map<string, Voucher>();
  private readonly listeners = new Set<VoucherListener>();
  /** Files that did not load at the last (re)load. */
  problems: LoadProblem[] = [];

  constructor(private readonly options: VouchersOptions) {
    this.store = new VoucherStore(options.fs, options.dbPath);
    this.pruned = new PrunedIds(options.fs, this.store.dir);
  }

  /**
   * Loads the store and, unless `prune` is false, prunes it as Pirania does at start. A
   * read-only caller (`voucher list` with the host down) passes false so looking changes
   * nothing.
   */
  static open(options: VouchersOptions & { prune?: boolean }): Vouchers {
    const vouchers = new Vouchers(options);
    vouchers.reload();
    if (options.prune !== false) vouchers.prune();
    return vouchers;
  }

  /** Unix seconds. */
  now(): number {
    return Math.floor(this.options.clock.now() / 1000);
  }

  reload(): LoadResult {
    const result = this.store.load();
    this.vouchers = new Map(result.vouchers.map((v) => [v.id, v]));
    this.problems = result.problems;
    for (const p of result.problems) this.options.log?.warn('voucher file skipped', { file: p.file, reason: p.reason });
    if (this.pruned.problem !== undefined) {
      this.options.log?.warn('pruned ids unreadable; starting empty', { file: this.pruned.file, reason: this.pruned.problem });
    }
    return result;
  }

  /** Subscribes to changes; returns the unsubscribe. */
  onChange(listener: VoucherListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every voucher, oldest first. */
  list(): Voucher[] {
    return [...this.vouchers.values()].sort(byCreation);
  }

  get(id: string): Voucher | undefined {
    return this.vouchers.get(id);
  }

  statusOf(voucher: Voucher, now = this.now()): VoucherStatus {
    return statusOf(voucher, now);
  }

  /**
   * Pirania's create: `qty` vouchers named `name` (one) or `name-1` … `name-N`, each with
   * a fresh id and code. All or nothing is not promised: if the disk fails half-way, the
   * vouchers written so far stay, and are announced.
   */
  create(params: CreateParams): Voucher[] {
    const now = this.now();
    const checked = checkCreate(params, now);
    const author = typeof this.options.hostname === 'function' ? this.options.hostname() : this.options.hostname;
    const codes = new Set([...this.vouchers.values()].map((v) => v.code.toUpperCase()));
    const made: Voucher[] = [];
    try {
      for (let n = 1; n <= checked.qty; n++) {
        const voucher: Voucher = {
          id: this.freshId(),
          name: checked.qty === 1 ? checked.name : `${checked.name}-${n}`,
          code: this.freshCode(codes),
          creation_date: now,
          mod_counter: 1,
        };
        if (checked.duration_m !== undefined) voucher.duration_m = checked.duration_m;
        if (checked.activation_deadline !== undefined) voucher.activation_deadline = checked.activation_deadline;
        if (author) voucher.author_node = author;
        if (checked.unrestricted) voucher.unrestricted = true;
        this.store.write(voucher);
        this.vouchers.set(voucher.id, voucher);
        codes.add(voucher.code);
        made.push(voucher);
      }
    } finally {
      if (made.length > 0) this.emit('created', made);
    }
    return made;
  }

  /** An id not used by any voucher here nor by one pruned lately (a replica would refuse it). */
  private freshId(): string {
    for (let i = 0; i < MAX_DRAWS; i++) {
      const id = newId(this.options.randomBytes);
      if (!this.vouchers.has(id) && !this.pruned.has(id)) return id;
    }
    throw piraniaError(PiraniaErrors.GENERATE_FAILED, 'could not draw an unused voucher id');
  }

  private freshCode(taken: ReadonlySet<string>): string {
    for (let i = 0; i < MAX_DRAWS; i++) {
      const code = newCode(this.options.randomBytes);
      if (!taken.has(code)) return code;
    }
    throw piraniaError(PiraniaErrors.GENERATE_FAILED, 'could not draw an unused voucher code');
  }

  /**
   * Binds the voucher with this code to the device. Codes are compared ignoring case and
   * surrounding blanks, since people type them. Each refusal has its own reason; the
   * portal shows one message for all of them, so a guesser learns nothing.
   */
  activate(code: string, mac: string): Voucher {
    const device = normalizeMac(mac);
    const now = this.now();
    const wanted = code.trim().toUpperCase();
    const matches = wanted === '' ? [] : [...this.vouchers.values()].filter((v) => v.code.toUpperCase() === wanted);
    if (matches.length === 0) throw piraniaError(PiraniaErrors.CODE_UNKNOWN, `no voucher has the code ${JSON.stringify(code)}`);
    matches.sort((a, b) => (a.id < b.id ? -1 : 1));
    // Codes are unique when created here; two nodes may still have drawn the same one.
    const available = matches.find((v) => statusOf(v, now) === 'available');
    if (!available) {
      const v = matches[0] as Voucher;
      const status = statusOf(v, now);
      const details = { id: v.id, status };
      if (status === 'invalidated')
        throw piraniaError(PiraniaErrors.CODE_INVALIDATED, `voucher ${v.id} was invalidated`, details);
      if (v.mac !== undefined) throw piraniaError(PiraniaErrors.CODE_USED, `voucher ${v.id} is already used`, details);
      throw piraniaError(PiraniaErrors.CODE_EXPIRED, `voucher ${v.id} passed its activation deadline unused`, details);
    }
    const updated: Voucher = { ...available, mac: device, activation_date: now, mod_counter: available.mod_counter + 1 };
    return this.commit('activated', updated);
  }

  /**
   * Unbinds the device: its access ends now. As in Pirania the voucher is then available
   * again, and activating it starts a full duration. A voucher bound to no device is left
   * as it is.
   */
  deactivate(id: string): Voucher {
    const v = this.require(id);
    if (v.mac === undefined) return v;
    const { mac: _mac, ...rest } = v;
    return this.commit('deactivated', { ...rest, mod_counter: v.mod_counter + 1 });
  }

  /**
   * Pirania's remove_globally: marks the voucher invalidated, which ends its access on
   * every node. The file stays as a tombstone until pruned, so replicas that were away
   * learn of it instead of handing the voucher back.
   */
  invalidate(id: string): Voucher {
    const v = this.require(id);
    if (v.invalidation_date !== undefined) return v;
    return this.commit('invalidated', { ...v, invalidation_date: this.now(), mod_counter: v.mod_counter + 1 });
  }

  rename(id: string, name: string): Voucher {
    const v = this.require(id);
    const checked = checkName(name);
    if (checked === v.name) return v;
    return this.commit('renamed', { ...v, name: checked, mod_counter: v.mod_counter + 1 });
  }

  private require(id: string): Voucher {
    const v = this.vouchers.get(id);
    if (!v) throw piraniaError(PiraniaErrors.ID_UNKNOWN, `no voucher with id ${JSON.stringify(id)}`, { id });
    return v;
  }

  private commit(kind: VoucherChangeKind, voucher: Voucher): Voucher {
    this.store.write(voucher);
    this.vouchers.set(voucher.id, voucher);
    this.emit(kind, [voucher]);
    return voucher;
  }

  private emit(kind: VoucherChangeKind, vouchers: Voucher[]): void {
    for (const listener of this.listeners) {
      // The change is on disk whatever a listener does; one that throws must not make
      // the caller believe the activation (say) failed.
      try {
        listener({ kind, vouchers });
      } catch (error) {
        this.options.log?.warn('voucher change listener failed', { kind, error: String(error) });
      }
    }
  }

  /** Whether an active voucher is bound to the MAC (throws MAC_INVALID for a malformed one). */
  isMacAuthorized(mac: string, now = this.now()): boolean {
    const device = normalizeMac(mac);
    for (const v of this.vouchers.values()) if (v.mac === device && statusOf(v, now) === 'active') return true;
    return false;
  }

  /**
   * One Authorization per device with an active voucher, sorted by MAC. A device with
   * several keeps the one that lasts longest: a permanent one over any, else the later
   * expiry (equal expiries: the lower id, so the answer does not depend on load order).
   */
  authorizations(now = this.now()): Authorization[] {
    const byMac = new Map<string, Authorization>();
    const sorted = [...this.vouchers.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const v of sorted) {
      if (v.mac === undefined || statusOf(v, now) !== 'active') continue;
      const auth: Authorization = { mac: v.mac, voucherId: v.id, unrestricted: v.unrestricted === true };
      const expiresAt = expirationOf(v);
      if (expiresAt !== undefined) auth.expiresAt = expiresAt;
      const held = byMac.get(v.mac);
      if (held === undefined || (held.expiresAt !== undefined && (expiresAt === undefined || expiresAt > held.expiresAt))) {
        byMac.set(v.mac, auth);
      }
    }
    return [...byMac.values()].sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }

  authorizedMacs(now = this.now()): string[] {
    return this.authorizations(now).map((a) => a.mac);
  }

  /** When the next active voucher expires (Unix seconds), so access can be ended at that second. */
  nextChange(now = this.now()): number | undefined {
    let next: number | undefined;
    for (const v of this.vouchers.values()) {
      if (statusOf(v, now) !== 'active') continue;
      const at = expirationOf(v);
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  private keepForS(): number {
    return this.options.pruneExpiredForDays * DAY_S;
  }

  /** Whether the voucher has been over (expired or invalidated) for longer than the prune period. */
  private prunable(v: Voucher, now: number): boolean {
    const end = endOf(v, now);
    return end !== undefined && end <= now - this.keepForS();
  }

  /**
   * Deletes vouchers over for longer than prune_expired_for_days, remembers their ids
   * (see PrunedIds) and returns them. Meant for load time and once a day.
   */
  prune(now = this.now()): string[] {
    const gone: Voucher[] = [];
    for (const v of this.list()) {
      if (!this.prunable(v, now)) continue;
      try {
        this.store.remove(v.id);
      } catch (error) {
        this.options.log?.warn('could not prune voucher', { id: v.id, error: String(error) });
        continue;
      }
      this.vouchers.delete(v.id);
      gone.push(v);
    }
    const ids = gone.map((v) => v.id);
    this.pruned.record(ids, now, 2 * this.keepForS());
    if (gone.length > 0) this.emit('pruned', gone);
    return ids;
  }

  /**
   * Merges vouchers from another node (parsed here: they come off the network) into the
   * store, by the rules in merge.ts. A remote voucher already over for longer than the
   * prune period is refused too: it would be written only to be deleted.
   */
  merge(remote: readonly unknown[]): MergeReport {
    const now = this.now();
    const refused: MergeReport['refused'] = [];
    const incoming: Voucher[] = [];
    for (const item of remote) {
      const parsed = parseVoucher(item);
      if (parsed.error !== undefined) {
        const id = (item as { id?: unknown } | null)?.id;
        refused.push({ ...(typeof id === 'string' ? { id } : {}), reason: `invalid: ${parsed.error}` });
      } else if (!this.vouchers.has(parsed.voucher.id) && this.prunable(parsed.voucher, now)) {
        refused.push({ id: parsed.voucher.id, reason: 'stale' });
      } else {
        incoming.push(parsed.voucher);
      }
    }
    const result = mergeVouchers([...this.vouchers.values()], incoming, this.pruned.ids());
    refused.push(...result.refused);
    const changed: Voucher[] = [];
    try {
      for (const v of result.changed) {
        this.store.write(v);
        this.vouchers.set(v.id, v);
        changed.push(v);
      }
    } finally {
      if (changed.length > 0) this.emit('merged', changed);
    }
    return { changed, refused };
  }
}
