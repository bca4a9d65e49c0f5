import { PiraniaErrors, piraniaError } from './errors.js';

/** What Pirania's create takes (vouchera.create and rpcd add_vouchers). */
export interface CreateParams {
  name: string;
  /** How many; default 1. */
  qty?: number;
  /** Minutes of access from activation; fractions allowed (lab tests use seconds). */
  duration_m?: number;
  /** Unix seconds; unused after it, the voucher can no longer be activated. */
  activation_deadline?: number;
  /** No duration: access never ends. duration_m is ignored. */
  permanent?: boolean;
  unrestricted?: boolean;
}

export interface CheckedCreate {
  name: string;
  qty: number;
  duration_m?: number;
  activation_deadline?: number;
  unrestricted: boolean;
}

export const MAX_NAME_LENGTH = 100;
export const MAX_QTY = 1000;
/** A hundred years: enough for anything, and far from where dates stop being exact. */
export const MAX_DURATION_M = 100 * 365 * 24 * 60;

function invalid(message: string, field: string): never {
  throw piraniaError(PiraniaErrors.ARGUMENT_INVALID, message, { field });
}

/**
 * A voucher name: the CLI prints vouchers as tab-separated lines, so tabs, newlines and
 * other control characters would break every script that reads them.
 */
export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') invalid('name must be a non-empty string', 'name');
  if ([...name].length > MAX_NAME_LENGTH) invalid(`name must have at most ${MAX_NAME_LENGTH} characters`, 'name');
  if (/[\u0000-\u001f\u007f]/.test(name)) invalid('name must not contain tabs, newlines or other control characters', 'name');
  return name;
}

/** Validates create's arguments at `now` (Unix seconds); throws ARGUMENT_INVALID naming the field. */
export function checkCreate(params: CreateParams, now: number): CheckedCreate {
  const name = checkName(params.name);
  const qty = params.qty ?? 1;
  if (!Number.isInteger(qty) || qty < 1 || qty > MAX_QTY) invalid(`qty must be an integer from 1 to ${MAX_QTY}`, 'qty');
  const out: CheckedCreate = { name, qty, unrestricted: params.unrestricted === true };
  if (!params.permanent) {
    const d = params.duration_m;
    if (d === undefined) invalid('duration_m is required unless the voucher is permanent', 'duration_m');
    if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0 || d > MAX_DURATION_M) {
      invalid(`duration_m must be a number of minutes above 0 and at most ${MAX_DURATION_M}`, 'duration_m');
    }
    out.duration_m = d;
  }
  const deadline = params.activation_deadline;
  if (deadline !== undefined) {
    if (typeof deadline !== 'number' || !Number.isFinite(deadline)) {
      invalid('activation_deadline must be a Unix time (seconds)', 'activation_deadline');
    }
    if (deadline <= now) invalid(`activation_deadline ${deadline} is not in the future (now ${now})`, 'activation_deadline');
    out.activation_deadline = Math.ceil(deadline);
  }
  return out;
}
