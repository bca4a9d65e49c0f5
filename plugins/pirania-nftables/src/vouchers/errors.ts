import { ErrorCodes, WrtkitError } from '@wrtkit/sdk';

/**
 * Why a voucher operation was refused, as stable strings the CLI, ubus callers and tests
 * can match on. WrtkitError only takes the host's own codes (ErrorCodes), so these ride
 * in `details.reason` of a WRTKIT_ERR_INVALID_ARGUMENT: the host passes such errors
 * through unchanged, and tools that know nothing of Pirania still see a caller error.
 */
export const PiraniaErrors = {
  /** No voucher has that code. */
  CODE_UNKNOWN: 'PIRANIA_ERR_CODE_UNKNOWN',
  /** The voucher is bound to a device already. */
  CODE_USED: 'PIRANIA_ERR_CODE_USED',
  /** Unused past its activation deadline. */
  CODE_EXPIRED: 'PIRANIA_ERR_CODE_EXPIRED',
  CODE_INVALIDATED: 'PIRANIA_ERR_CODE_INVALIDATED',
  /** Not a unicast `aa:bb:cc:dd:ee:ff`. */
  MAC_INVALID: 'PIRANIA_ERR_MAC_INVALID',
  ID_UNKNOWN: 'PIRANIA_ERR_ID_UNKNOWN',
  /** A name, quantity, duration or deadline out of range. */
  ARGUMENT_INVALID: 'PIRANIA_ERR_ARGUMENT_INVALID',
  /** Portal page content that would not be safe or sensible to serve. */
  CONTENT_INVALID: 'PIRANIA_ERR_CONTENT_INVALID',
  /** No free id or code after many draws: the store is absurdly full. */
  GENERATE_FAILED: 'PIRANIA_ERR_GENERATE_FAILED',
} as const;

export type PiraniaErrorCode = (typeof PiraniaErrors)[keyof typeof PiraniaErrors];

export function piraniaError(reason: PiraniaErrorCode, message: string, details: Record<string, unknown> = {}): WrtkitError {
  return new WrtkitError(ErrorCodes.INVALID_ARGUMENT, message, { details: { ...details, reason } });
}

const known = new Set<string>(Object.values(PiraniaErrors));

/**
 * The Pirania reason of an error, or undefined. Works on a local WrtkitError and on an
 * error that crossed the control socket (the client keeps the host's record in `remote`).
 */
export function piraniaReasonOf(error: unknown): PiraniaErrorCode | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const record = error as { details?: { reason?: unknown }; remote?: { details?: { reason?: unknown } } };
  const reason = record.details?.reason ?? record.remote?.details?.reason;
  return typeof reason === 'string' && known.has(reason) ? (reason as PiraniaErrorCode) : undefined;
}
