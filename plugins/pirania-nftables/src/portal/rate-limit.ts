/**
 * Limits how many WRONG voucher codes can be tried: per device (MAC) and for all devices
 * together, over a sliding window. Codes are 6 letters (26^6 ≈ 3·10^8), so with the
 * defaults (5 per device and 50 in all per 5 minutes) guessing one takes years.
 *
 * Each counter keeps the times of the wrong codes inside the window (at most `limit` of
 * them), so the wait it announces is exact: until the oldest wrong code leaves the window.
 * Memory is bounded: at most `maxClients` devices are remembered; beyond that the one
 * whose last wrong code is oldest is forgotten (a flood of made-up MACs is stopped by
 * the global counter anyway).
 */
import type { AttemptLimiter, LimitVerdict } from './types.js';

export interface CodeAttemptLimits {
  /** Wrong codes one device may enter per window (code_attempts_per_client, 5). */
  perClient: number;
  /** Wrong codes all devices together may enter per window (code_attempts_global, 50). */
  global: number;
  /** The window in seconds (code_attempts_window, 300). */
  windowS: number;
  /** Devices remembered at most (default 1024). */
  maxClients?: number;
}

/** What the limiter needs of the Clock; `monotonic` is used when there (wall time jumps at NTP sync). */
export interface LimiterClock {
  now(): number;
  monotonic?(): number;
}

export const DEFAULT_MAX_CLIENTS = 1024;

export class CodeAttemptLimiter implements AttemptLimiter {
  private limits: Required<CodeAttemptLimits>;
  /** MAC → times (ms) of its wrong codes, oldest first; Map order = least recently failed first. */
  private readonly clients = new Map<string, number[]>();
  /** Times of all wrong codes in the window, oldest first. */
  private global: number[] = [];

  constructor(
    limits: CodeAttemptLimits,
    private readonly clock: LimiterClock,
  ) {
    this.limits = CodeAttemptLimiter.normalize(limits);
  }

  private static normalize(limits: CodeAttemptLimits): Required<CodeAttemptLimits> {
    const positive = (n: number, fallback: number) => (Number.isFinite(n) && n >= 1 ? Math.floor(n) : fallback);
    return {
      perClient: positive(limits.perClient, 5),
      global: positive(limits.global, 50),
      windowS: positive(limits.windowS, 300),
      maxClients: positive(limits.maxClients ?? DEFAULT_MAX_CLIENTS, DEFAULT_MAX_CLIENTS),
    };
  }

  /** New limits (config change); counts so far are kept, trimmed to the new limits. */
  configure(limits: CodeAttemptLimits): void {
    this.limits = CodeAttemptLimiter.normalize(limits);
    const now = this.time();
    this.global = this.prune(this.global, now).slice(-this.limits.global);
    for (const [mac, times] of this.clients) {
      const kept = this.prune(times, now).slice(-this.limits.perClient);
      if (kept.length === 0) this.clients.delete(mac);
      else this.clients.set(mac, kept);
    }
    this.evict();
  }

  /** May this device try a code now? */
  check(mac: string): LimitVerdict {
    const now = this.time();
    const key = mac.toLowerCase();
    const times = this.clients.get(key);
    if (times) {
      const kept = this.prune(times, now);
      if (kept.length === 0) this.clients.delete(key);
      else if (kept.length !== times.length) this.clients.set(key, kept);
      if (kept.length >= this.limits.perClient) {
        return { ok: false, retryAfterS: this.wait(kept[kept.length - this.limits.perClient] as number, now), scope: 'client' };
      }
    }
    this.global = this.prune(this.global, now);
    if (this.global.length >= this.limits.global) {
      return {
        ok: false,
        retryAfterS: this.wait(this.global[this.global.length - this.limits.global] as number, now),
        scope: 'global',
      };
    }
    return { ok: true };
  }

  /** A wrong code from this device. */
  failure(mac: string): void {
    const now = this.time();
    const key = mac.toLowerCase();
    const times = this.prune(this.clients.get(key) ?? [], now);
    times.push(now);
    if (times.length > this.limits.perClient) times.splice(0, times.length - this.limits.perClient);
    // re-insert: Map order is then "least recently failed first", which eviction uses
    this.clients.delete(key);
    this.clients.set(key, times);
    this.evict();
    this.global = this.prune(this.global, now);
    this.global.push(now);
    if (this.global.length > this.limits.global) this.global.splice(0, this.global.length - this.limits.global);
  }

  /** A right code from this device: its own count starts over (others' and the global one stay). */
  success(mac: string): void {
    this.clients.delete(mac.toLowerCase());
  }

  /** Devices currently remembered (for tests and status). */
  get size(): number {
    return this.clients.size;
  }

  /** Wrong codes in the window, all devices together. */
  globalCount(): number {
    this.global = this.prune(this.global, this.time());
    return this.global.length;
  }

  private time(): number {
    return this.clock.monotonic ? this.clock.monotonic() : this.clock.now();
  }

  /** Drops times outside the window (and times in the future: the clock went back). */
  private prune(times: number[], now: number): number[] {
    const from = now - this.limits.windowS * 1000;
    if (times.every((t) => t > from && t <= now)) return times;
    return times.filter((t) => t > from && t <= now);
  }

  /** Whole seconds until the wrong code made at `at` leaves the window (1 … window). */
  private wait(at: number, now: number): number {
    const s = Math.ceil((at + this.limits.windowS * 1000 - now) / 1000);
    return Math.min(this.limits.windowS, Math.max(1, s));
  }

  private evict(): void {
    while (this.clients.size > this.limits.maxClients) {
      const oldest = this.clients.keys().next();
      if (oldest.done) break;
      this.clients.delete(oldest.value);
    }
  }
}
