// The voucher store and its rules, for the plugin, the portal and the voucher command.
export type { Authorization, Voucher, VoucherStatus } from './voucher.js';
export { PiraniaErrors, piraniaError, piraniaReasonOf } from './errors.js';
export type { PiraniaErrorCode } from './errors.js';
export { normalizeMac, parseMac } from './mac.js';
export { parseVoucher, sameVoucher, serializeVoucher } from './codec.js';
export { endOf, expirationOf, isInvalidated, statusOf } from './status.js';
export { checkCreate, checkName } from './create.js';
export type { CreateParams } from './create.js';
export { VoucherStore } from './store.js';
export type { LoadProblem, LoadResult, StoreFs } from './store.js';
export { PrunedIds } from './pruned.js';
export { mergeVouchers, preferred } from './merge.js';
export type { MergeResult } from './merge.js';
export { Vouchers } from './vouchers.js';
export type { MergeReport, VoucherChange, VoucherChangeKind, VoucherListener, VouchersOptions } from './vouchers.js';
export { readHostname } from './hostname.js';
