import { parseMac } from './mac.js';
import type { Voucher } from './voucher.js';

/**
 * Vouchers to and from the JSON Pirania keeps in `<id>.json`. Reading is lenient where
 * Pirania is (null or absent is nil, mod_counter defaults to 1) and strict where a wrong
 * value would do harm (an id that is not a plain file name, a MAC that is not one).
 */

/** Ids become file names: no slashes, dots or anything a shell or glob would mangle. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export type ParseResult = { voucher: Voucher; error?: undefined } | { voucher?: undefined; error: string };

function isNil(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

function optionalNumber(record: Record<string, unknown>, key: string, min = -Infinity): number | undefined | string {
  const value = record[key];
  if (isNil(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    return `${key} must be a number${min > -Infinity ? ` >= ${min}` : ''}`;
  }
  return value;
}

export function parseVoucher(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'not a JSON object' };
  const r = value as Record<string, unknown>;
  if (typeof r.id !== 'string' || !ID.test(r.id)) return { error: 'id must be 1-64 letters, digits, _ or -' };
  if (typeof r.name !== 'string') return { error: 'name must be a string' };
  if (typeof r.code !== 'string' || r.code === '') return { error: 'code must be a non-empty string' };
  let mac: string | undefined;
  if (!isNil(r.mac)) {
    mac = typeof r.mac === 'string' ? parseMac(r.mac) : undefined;
    if (mac === undefined) return { error: 'mac must be aa:bb:cc:dd:ee:ff' };
  }
  if (typeof r.creation_date !== 'number' || !Number.isFinite(r.creation_date))
    return { error: 'creation_date must be a number' };
  const numbers: Record<string, number | undefined> = {};
  for (const [key, min] of [
    ['duration_m', 0],
    ['activation_date', -Infinity],
    ['activation_deadline', -Infinity],
    ['invalidation_date', -Infinity],
  ] as const) {
    const parsed = optionalNumber(r, key, min);
    if (typeof parsed === 'string') return { error: parsed };
    numbers[key] = parsed;
  }
  if (!isNil(r.author_node) && typeof r.author_node !== 'string') return { error: 'author_node must be a string' };
  let modCounter = 1;
  if (!isNil(r.mod_counter)) {
    if (typeof r.mod_counter !== 'number' || !Number.isSafeInteger(r.mod_counter) || r.mod_counter < 0) {
      return { error: 'mod_counter must be a non-negative integer' };
    }
    modCounter = r.mod_counter;
  }
  if (!isNil(r.unrestricted) && typeof r.unrestricted !== 'boolean') return { error: 'unrestricted must be a boolean' };

  const voucher: Voucher = {
    id: r.id,
    name: r.name,
    code: r.code,
    creation_date: r.creation_date,
    mod_counter: modCounter,
  };
  if (mac !== undefined) voucher.mac = mac;
  if (numbers.duration_m !== undefined) voucher.duration_m = numbers.duration_m;
  if (numbers.activation_date !== undefined) voucher.activation_date = numbers.activation_date;
  if (numbers.activation_deadline !== undefined) voucher.activation_deadline = numbers.activation_deadline;
  if (numbers.invalidation_date !== undefined) voucher.invalidation_date = numbers.invalidation_date;
  if (typeof r.author_node === 'string') voucher.author_node = r.author_node;
  // false and absent mean the same; keeping one spelling makes equal vouchers serialize equally.
  if (r.unrestricted === true) voucher.unrestricted = true;
  return { voucher };
}

/** Pirania's field order; absent fields are left out, as Lua's JSON encoder leaves out nil. */
const FIELDS: ReadonlyArray<keyof Voucher> = [
  'id',
  'name',
  'code',
  'mac',
  'duration_m',
  'creation_date',
  'activation_date',
  'activation_deadline',
  'invalidation_date',
  'author_node',
  'mod_counter',
  'unrestricted',
];

/**
 * The file content of a voucher. The key order is fixed, so equal vouchers give equal
 * text: the store compares texts to skip rewrites and merge uses it as a tie-break.
 */
export function serializeVoucher(v: Voucher): string {
  const out: Record<string, unknown> = {};
  for (const key of FIELDS) {
    if (key === 'unrestricted' && v.unrestricted !== true) continue;
    if (v[key] !== undefined) out[key] = v[key];
  }
  return JSON.stringify(out);
}

export function sameVoucher(a: Voucher, b: Voucher): boolean {
  return serializeVoucher(a) === serializeVoucher(b);
}
