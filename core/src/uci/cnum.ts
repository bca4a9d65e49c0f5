/**
 * The C number conversions libuci relies on (x86-64 glibc: `long` is 64 bits, results end
 * up in an `int`), so odd inputs such as `@rule[]`, `@rule[+1]` or `reorder x=-1` behave
 * as they do with the real tool.
 */

const TWO32 = 4294967296;

function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

interface Scanned {
  negative: boolean;
  digits: string;
  /** Index just after the digits, or -1 when there were none. */
  end: number;
}

function scan(text: string): Scanned {
  let i = 0;
  while (i < text.length && isCSpace(text.charCodeAt(i))) i++;
  let negative = false;
  if (text[i] === '+' || text[i] === '-') {
    negative = text[i] === '-';
    i++;
  }
  const start = i;
  while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
  if (i === start) return { negative, digits: '', end: -1 };
  return { negative, digits: text.slice(start, i).replace(/^0+/, ''), end: i };
}

function exceeds(digits: string, limit: string): boolean {
  return digits.length > limit.length || (digits.length === limit.length && digits > limit);
}

/** The low 32 bits of the magnitude. */
function low32(digits: string): number {
  let v = 0;
  for (let i = 0; i < digits.length; i++) v = (v * 10 + (digits.charCodeAt(i) - 0x30)) % TWO32;
  return v;
}

function negate32(v: number): number {
  return (TWO32 - v) % TWO32;
}

/** `strtol(text, &end, 10)` stored into an `int`; `end` is 0 when nothing was converted. */
export function cStrtolInt(text: string): { value: number; end: number } {
  const s = scan(text);
  if (s.end < 0) return { value: 0, end: 0 };
  let v: number;
  if (exceeds(s.digits, s.negative ? '9223372036854775808' : '9223372036854775807')) {
    v = s.negative ? 0 : 0xffffffff; // LONG_MIN / LONG_MAX, truncated to 32 bits
  } else {
    v = s.negative ? negate32(low32(s.digits)) : low32(s.digits);
  }
  return { value: v | 0, end: s.end };
}

/** `strtoul(text, NULL, 10)` passed as an `int` argument (uci reorder). */
export function cStrtoulInt(text: string): number {
  const s = scan(text);
  if (s.end < 0) return 0;
  if (exceeds(s.digits, '18446744073709551615')) return -1; // ULONG_MAX
  const v = low32(s.digits);
  return (s.negative ? negate32(v) : v) | 0;
}

/** `sscanf(text, "%d", &n)`: count is -1 (EOF), 0 (no number) or 1. */
export function cScanInt(text: string): { count: -1 | 0 | 1; value: number } {
  let i = 0;
  while (i < text.length && isCSpace(text.charCodeAt(i))) i++;
  if (i === text.length) return { count: -1, value: 0 };
  const r = cStrtolInt(text.slice(i));
  if (r.end === 0) return { count: 0, value: 0 };
  return { count: 1, value: r.value };
}
