/**
 * Bytes ↔ text for the wire formats the probes speak (HTTP heads, DNS names, addresses).
 * QuickJS has no TextEncoder; everything here is ASCII, so plain code does.
 */

/** ASCII text → bytes; undefined when a character is not ASCII. */
export function asciiBytes(text: string): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return undefined;
    out[i] = c;
  }
  return out;
}

/** Bytes → text, one character per byte (Latin-1): never fails, whatever the peer sent. */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}

/** An IPv6 address (no brackets, no zone) → its 16 bytes; undefined when it is not one. */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  let head = text;
  let v4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const parts = text.slice(lastColon + 1).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
    v4 = parts.map(Number);
    // keep the colon(s) before the IPv4 tail: `::1.2.3.4` → `::`, `64:ff9b::1.2.3.4` → `64:ff9b::`
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const want = 8 - v4.length / 2;
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0] as string);
  const right = halves.length === 2 ? groups(halves[1] as string) : [];
  const all = [...left, ...right];
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return undefined;
  const missing = want - all.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const values = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right].map((g) => parseInt(g, 16));
  const out = new Uint8Array(16);
  values.forEach((v, i) => {
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  out.set(v4, 12);
  return out;
}

/** 16 bytes → RFC 5952 text: lower case, the longest run of two or more zero groups as `::`. */
export function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((v) => v.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** Two spellings of one address compare equal (`FD71:0::1` and `fd71::1`); IPv4 as is. */
export function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const x = ipv6Bytes(stripZone(a));
  const y = ipv6Bytes(stripZone(b));
  return x !== undefined && y !== undefined && x.every((v, i) => v === y[i]);
}

function stripZone(a: string): string {
  const i = a.indexOf('%');
  return i < 0 ? a : a.slice(0, i);
}
