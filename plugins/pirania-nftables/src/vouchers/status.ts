import type { Voucher, VoucherStatus } from './voucher.js';

/**
 * Whether the voucher is a tombstone. Besides invalidation_date, a voucher with
 * duration_m 0 counts: older Pirania removed vouchers globally that way, and activating
 * one would grant nothing anyway.
 */
export function isInvalidated(v: Voucher): boolean {
  return v.invalidation_date !== undefined || v.duration_m === 0;
}

/**
 * When access granted by the voucher ends (Unix seconds): activation plus duration, for a
 * timed voucher bound to a device; undefined otherwise (unused, or permanent). Rounded to
 * the second, because fractional minutes (lab tests use seconds) give float noise.
 */
export function expirationOf(v: Voucher): number | undefined {
  if (v.duration_m === undefined || v.mac === undefined || v.activation_date === undefined) return undefined;
  return v.activation_date + Math.round(v.duration_m * 60);
}

/**
 * available → active → expired, or invalidated at any point.
 *
 * An expiration equal to now already counts as expired (as Pirania's is_active): the
 * plugin schedules "deauthorized" at exactly that second and must see it as over.
 *
 * Pirania expires a voucher by its activation_deadline whether it was used or not; here
 * only an *unused* voucher expires by its deadline. The deadline is the last day to
 * start using the voucher: someone who activated it in time keeps the duration they
 * paid for.
 */
export function statusOf(v: Voucher, now: number): VoucherStatus {
  if (isInvalidated(v)) return 'invalidated';
  const expiration = expirationOf(v);
  if (expiration !== undefined && expiration <= now) return 'expired';
  if (v.mac !== undefined) return 'active';
  if (v.activation_deadline !== undefined && v.activation_deadline < now) return 'expired';
  return 'available';
}

/**
 * Since when the voucher is of no use to anyone (Unix seconds), for pruning; undefined
 * while it still is (or could become) useful. Upstream prunes by expiration only, which
 * keeps an unused voucher past its deadline forever; it can never be activated, so it
 * goes too. A legacy tombstone (duration_m 0) has no removal date: its creation date
 * stands in.
 */
export function endOf(v: Voucher, now: number): number | undefined {
  if (v.invalidation_date !== undefined) return v.invalidation_date;
  const status = statusOf(v, now);
  if (status === 'invalidated') return expirationOf(v) ?? v.creation_date;
  if (status !== 'expired') return undefined;
  return expirationOf(v) ?? v.activation_deadline;
}
