// Inputs for the codec equivalence tests that run on both engines (codec-fast.test.ts on
// Node with fast-check, codec-qjs.test.ts on QuickJS): a seeded generator of blobmsg
// bodies (valid, corrupted, hand-built with any bytes) and of plain values, and `canon`,
// which turns a decoded value or an outcome into JSON that tells apart everything the
// decoders must agree on (-0, NaN, bigint vs number, key order, prototypes, raw bytes).
// No Node built-ins: this is bundled for qjs.
import { WrtkitError } from '../../src/errors.js';
import { type BlobmsgNode, Typed, int16, int32, int64, int8, double } from '../../src/ubus/blobmsg.js';

/** mulberry32: a small seeded PRNG, the same sequence on every engine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

/** What a call gives: its value, or the code of the WrtkitError it throws (anything else is a bug and propagates). */
export function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (error instanceof WrtkitError) return { ok: false, error: error.code };
    throw error;
  }
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** A JSON form of a decoded value that keeps every distinction that matters. */
export function canon(value: unknown): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'number':
      return { n: Object.is(value, -0) ? '-0' : String(value) };
    case 'bigint':
      return { big: value.toString() };
    case 'string':
    case 'boolean':
      return value;
    case 'undefined':
      return { undefined: true };
    case 'object': {
      if (value instanceof Uint8Array) return { bytes: hex(value) };
      if (Array.isArray(value)) return { array: value.map(canon) };
      const proto = Object.getPrototypeOf(value);
      return {
        proto: proto === Object.prototype ? 'Object' : proto === null ? 'null' : 'other',
        keys: Object.keys(value).map((k) => [k, canon((value as Record<string, unknown>)[k])]),
      };
    }
    default:
      return { other: typeof value };
  }
}

/** Nodes with their values canonical (raw bytes as hex). */
export function canonNodes(nodes: readonly BlobmsgNode[]): unknown {
  return nodes.map((node) => ({
    type: node.type,
    name: node.name,
    value: canon(node.value),
    raw: node.raw === undefined ? undefined : hex(node.raw),
    children: node.children === undefined ? undefined : canonNodes(node.children),
  }));
}

export function canonOutcome(result: Outcome, as: (value: unknown) => unknown = canon): unknown {
  return result.ok ? { ok: as(result.value) } : { error: result.error };
}

// ---- generators ---------------------------------------------------------------------------

type Rand = () => number;
const int = (r: Rand, min: number, max: number): number => min + Math.floor(r() * (max - min + 1));
const pick = <T>(r: Rand, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;

/** Names that matter: common keys, prototype names, integer-like keys, punctuation, Unicode, NUL, long. */
const NAMES = [
  'mac',
  'ip',
  'hostname',
  'rx_bytes',
  'a',
  '',
  '__proto__',
  'toString',
  'constructor',
  'hasOwnProperty',
  'valueOf',
  '0',
  '1',
  '4294967295',
  '-1',
  '02:00:00:00:00:1f',
  '192.168.1.1',
  'a b',
  '%41',
  'é',
  '€',
  '😀',
  'a\u0000b',
  'x'.repeat(64),
  'y'.repeat(65),
  '\ud800',
];

function randomText(r: Rand): string {
  const n = int(r, 0, 12);
  let s = '';
  for (let i = 0; i < n; i++) {
    const kind = r();
    if (kind < 0.6) s += String.fromCharCode(int(r, 0x20, 0x7e));
    else if (kind < 0.7) s += String.fromCharCode(int(r, 0, 0x1f));
    else if (kind < 0.8) s += String.fromCharCode(int(r, 0x80, 0x7ff));
    else if (kind < 0.9) s += String.fromCharCode(int(r, 0x800, 0xffff));
    else s += String.fromCodePoint(int(r, 0x10000, 0x10ffff));
  }
  return s;
}

const name = (r: Rand): string => (r() < 0.5 ? pick(r, NAMES) : randomText(r));

const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0x7fffffff,
  -0x80000000,
  0x80000000,
  -0x80000001,
  2 ** 53 - 1,
  -(2 ** 53) + 1,
  2 ** 53,
  2 ** 62,
  -(2 ** 63),
  2 ** 63,
  2 ** 64,
  1e300,
  0.1,
  -2.5,
  NaN,
  Infinity,
  -Infinity,
  Number.MIN_VALUE,
];

/** Plain values as callers hand them over, with what JSON and blobmsg make of the odd ones. */
export function plainValue(r: Rand, depth = 0): unknown {
  const k = r();
  if (depth < 4 && k < 0.12) {
    const n = int(r, 0, 4);
    const list: unknown[] = [];
    for (let i = 0; i < n; i++) list.push(plainValue(r, depth + 1));
    if (r() < 0.05) list.length += 1; // a hole
    return list;
  }
  if (depth < 4 && k < 0.25) return plainTable(r, depth + 1);
  const s = r();
  if (s < 0.2) return pick(r, NUMBERS);
  if (s < 0.35) return int(r, -0x80000000, 0x7fffffff);
  if (s < 0.4) return (r() - 0.5) * 2 ** int(r, 0, 70);
  if (s < 0.55) return randomText(r);
  if (s < 0.6) return r() < 0.5;
  if (s < 0.63) return null;
  if (s < 0.66) return pick(r, [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n]);
  if (s < 0.69) return pick(r, [undefined, () => 1, Symbol('s')]);
  if (s < 0.71) return new Date(int(r, 0, 2 ** 40));
  if (s < 0.73) return { toJSON: (key: string) => `json:${key}` };
  if (s < 0.74) return Uint8Array.of(1, 2);
  // Typed values, within range and (rarely) with what a node could carry.
  return pick(r, [
    () => int8(int(r, -128, 255)),
    () => int8(r() < 0.5),
    () => int16(int(r, -0x8000, 0xffff)),
    () => int32(int(r, -0x80000000, 0xffffffff)),
    () => int64(pick(r, [0, -1, 2 ** 53, 2 ** 63, 2 ** 64 - 2 ** 11, -(2 ** 63)])),
    () => int64(pick(r, [0n, -(2n ** 63n), 2n ** 64n - 1n, 12345678901234567n])),
    () => double(pick(r, NUMBERS)),
    () => new Typed('bool', r() < 0.5),
    () => new Typed('string', randomText(r)),
    () => new Typed('unspec', r() < 0.5 ? null : Uint8Array.of(int(r, 0, 255), int(r, 0, 255))),
  ])();
}

export function plainTable(r: Rand, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = int(r, 0, 5);
  for (let i = 0; i < n; i++) {
    const key = name(r);
    // Own data properties even for __proto__, as JSON.parse makes them.
    Object.defineProperty(out, key, { value: plainValue(r, depth), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** One attribute as libubox lays it out, from any name bytes and payload; lengths as given. */
function attrBytes(type: number, nameBytes: Uint8Array, payload: Uint8Array, extended = true): Uint8Array {
  const hdrLen = (2 + nameBytes.length + 1 + 3) & ~3;
  const rawLen = 4 + hdrLen + payload.length;
  const out = new Uint8Array((rawLen + 3) & ~3);
  const view = new DataView(out.buffer);
  view.setUint32(0, ((extended ? 0x80000000 : 0) | (type << 24) | rawLen) >>> 0);
  view.setUint16(4, nameBytes.length);
  out.set(nameBytes, 6);
  out.set(payload, 4 + hdrLen);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const randomBytes = (r: Rand, n: number, high = 0.5): Uint8Array =>
  Uint8Array.from({ length: n }, () => (r() < high ? int(r, 0x80, 0xff) : int(r, 0, 0x7f)));

/** UTF-8-ish bytes: valid sequences, and now and then something invalid. */
export function utf8ishBytes(r: Rand, maxChars = 8): Uint8Array {
  const parts: number[] = [];
  const n = int(r, 0, maxChars);
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.4) parts.push(int(r, 0, 0x7f));
    else if (k < 0.5) parts.push(0xc0 | int(r, 0, 0x1f), 0x80 | int(r, 0, 0x3f));
    else if (k < 0.6) parts.push(0xe0 | int(r, 0, 0x0f), 0x80 | int(r, 0, 0x3f), 0x80 | int(r, 0, 0x3f));
    else if (k < 0.7) parts.push(0xf0 | int(r, 0, 0x07), 0x80 | int(r, 0, 0x3f), 0x80 | int(r, 0, 0x3f), 0x80 | int(r, 0, 0x3f));
    else if (k < 0.8) parts.push(int(r, 0x80, 0xff));
    else
      parts.push(
        ...pick(r, [
          [0xed, 0xa0, 0x80],
          [0xef, 0xbf, 0xbd],
          [0xc0, 0x80],
          [0xf4, 0x90, 0x80, 0x80],
          [0xe2, 0x82],
          [0xef, 0xbb, 0xbf],
        ]),
      );
  }
  return Uint8Array.from(parts);
}

/** Hand-built blobmsg: any name bytes, payloads of the right size or not, strings with or without NUL. */
export function rawBlobmsg(r: Rand, depth = 0): Uint8Array {
  const n = int(r, 0, 4);
  const attrs: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const type = r() < 0.03 ? int(r, 9, 127) : int(r, 0, 8);
    const nameBytes = r() < 0.5 ? utf8ishBytes(r, 6) : new Uint8Array(0);
    let payload: Uint8Array;
    const sizes = [0, 0, 0, 0, 8, 4, 2, 1, 8];
    if ((type === 1 || type === 2) && depth < 4) payload = rawBlobmsg(r, depth + 1);
    else if (type === 3) payload = concat([utf8ishBytes(r), r() < 0.95 ? Uint8Array.of(0) : new Uint8Array(0)]);
    else if (type >= 4 && type <= 8 && r() < 0.95) payload = randomBytes(r, sizes[type] as number);
    else payload = randomBytes(r, int(r, 0, 9));
    attrs.push(attrBytes(type, nameBytes, payload, r() < 0.98));
  }
  return concat(attrs);
}

/** A body to decode: hand-built, encoded from plain values, or either one damaged. */
export function blobmsgInput(r: Rand, encode: (table: Record<string, unknown>) => Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  const k = r();
  if (k < 0.4) bytes = rawBlobmsg(r);
  else {
    try {
      bytes = encode(plainTable(r));
    } catch {
      bytes = rawBlobmsg(r);
    }
  }
  const damage = r();
  if (damage < 0.25 && bytes.length > 0) {
    bytes = bytes.slice();
    bytes[int(r, 0, bytes.length - 1)] = int(r, 0, 255);
  } else if (damage < 0.35 && bytes.length > 0) {
    bytes = bytes.slice(0, int(r, 0, bytes.length - 1));
  } else if (damage < 0.4) {
    bytes = concat([bytes, randomBytes(r, int(r, 1, 8))]);
  } else if (damage < 0.43) {
    bytes = randomBytes(r, int(r, 0, 64));
  }
  return bytes;
}
