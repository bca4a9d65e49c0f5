/**
 * blobmsg (libubox blobmsg.h) on top of blob attributes: the typed, named values that
 * ubus method arguments and replies are made of. A blobmsg attribute has the extended
 * bit set, its blob id is the blobmsg type, and its payload starts with a name header:
 *
 *   u16 BE namelen | name bytes | NUL | zero padding so that 2 + namelen + 1 rounds to 4
 *
 * ARRAY elements are the same with namelen 0. Integers and doubles are big-endian.
 *
 * Two mappings to JavaScript live here, both following what `ubus` (the CLI) does:
 * - encoding plain values as libubox's blobmsg_add_json_element turns JSON into blobmsg,
 *   so an object sent from here is byte-identical to the same JSON given to `ubus call`;
 * - decoding as libubox's blobmsg_format_json prints blobmsg, so a reply reads as
 *   `ubus call` shows it.
 * Plain values lose wire details (INT16 vs INT32, key order of integer-like names,
 * repeated names), so decoding also yields typed nodes (`decodeBlobmsgAttrs`) which encode
 * back to the exact bytes; `Typed` forces a wire type when encoding.
 */
import { utf8Decode } from '../util/utf8.js';
import { BlobmsgType } from './constants.js';
import {
  BLOB_ATTR_EXTENDED,
  BLOB_ATTR_LEN_MASK,
  BlobWriter,
  encodeError,
  latin1Of,
  protocolError,
  utf8OfLatin1,
  viewOf,
  writeUtf8,
} from './blob.js';

export type BlobmsgValue = null | boolean | number | bigint | string | BlobmsgValue[] | { [key: string]: BlobmsgValue } | Typed;

/** The wire type names a `Typed` value can force. `bool` is INT8 on the wire. */
export type TypedType = 'int8' | 'int16' | 'int32' | 'int64' | 'double' | 'bool' | 'string' | 'unspec';

/** Ranges accepted per integer type: signed or unsigned, as blobmsg_add_u8/u16/u32/u64 take either. */
const INT_RANGE = {
  int8: [-0x80, 0xff],
  int16: [-0x8000, 0xffff],
  int32: [-0x80000000, 0xffffffff],
} as const;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A value with an exact wire type, for what plain values cannot say: `int16(300)`,
 * `int64(1)`, `double(3)`, an object id above 2^31 as `int32(id)` (libubus puts ids with
 * blobmsg_add_u32), or UNSPEC with a payload. Ranges are checked here, once.
 */
export class Typed {
  constructor(
    readonly type: TypedType,
    readonly value: number | bigint | boolean | string | null | Uint8Array,
  ) {
    const v = value;
    const fail = (): never => {
      throw encodeError(`blobmsg ${type} cannot hold ${describe(v)}`);
    };
    switch (type) {
      case 'int8':
      case 'int16':
      case 'int32': {
        if (type === 'int8' && typeof v === 'boolean') break;
        const [min, max] = INT_RANGE[type];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail();
        break;
      }
      case 'int64':
        if (
          typeof v === 'number'
            ? !Number.isInteger(v) || v < -(2 ** 63) || v >= 2 ** 64
            : typeof v !== 'bigint' || v < INT64_MIN || v > UINT64_MAX
        ) {
          fail();
        }
        break;
      case 'double':
        if (typeof v !== 'number') fail();
        break;
      case 'bool':
        if (typeof v !== 'boolean') fail();
        break;
      case 'string':
        if (typeof v !== 'string') fail();
        break;
      case 'unspec':
        if (v !== null && !(v instanceof Uint8Array)) fail();
        break;
      default:
        throw encodeError(`unknown blobmsg type ${String(type)}`);
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

export const int8 = (value: number | boolean): Typed => new Typed('int8', value);
export const int16 = (value: number): Typed => new Typed('int16', value);
export const int32 = (value: number): Typed => new Typed('int32', value);
export const int64 = (value: number | bigint): Typed => new Typed('int64', value);
export const double = (value: number): Typed => new Typed('double', value);

/** Blobmsg type names as decoding reports them. */
export type BlobmsgTypeName = 'unspec' | 'array' | 'table' | 'string' | 'int64' | 'int32' | 'int16' | 'int8' | 'double';

const TYPE_NAMES: readonly BlobmsgTypeName[] = [
  'unspec',
  'array',
  'table',
  'string',
  'int64',
  'int32',
  'int16',
  'int8',
  'double',
];

const TYPE_IDS: Record<BlobmsgTypeName | TypedType, number> = {
  unspec: BlobmsgType.UNSPEC,
  array: BlobmsgType.ARRAY,
  table: BlobmsgType.TABLE,
  string: BlobmsgType.STRING,
  int64: BlobmsgType.INT64,
  int32: BlobmsgType.INT32,
  int16: BlobmsgType.INT16,
  int8: BlobmsgType.INT8,
  bool: BlobmsgType.BOOL,
  double: BlobmsgType.DOUBLE,
};

/**
 * One decoded attribute with its exact wire type. `value` is what blobmsg_format_json
 * would show; `children` are the elements of an array or table; `raw` holds the payload
 * when `value` alone would not encode back to the same bytes (a NaN with its own bit
 * pattern, INT8 other than 0/1, UNSPEC with data, a string that is not valid UTF-8).
 */
export interface BlobmsgNode {
  type: BlobmsgTypeName;
  name: string;
  value: BlobmsgValue;
  children?: BlobmsgNode[];
  raw?: Uint8Array;
}

/**
 * Nesting limit, both ways: recursion must not exhaust QuickJS's stack on hostile input
 * (a 1 MiB message can nest ~130000 levels) or on a cyclic object. json-c, which the ubus
 * CLI parses with, stops at 32 levels by default.
 */
export const BLOBMSG_MAX_DEPTH = 128;

// ---- encoding --------------------------------------------------------------------------
//
// Plain values are written straight into the writer's buffer: one size check and one
// header word per scalar, names from a cache of their encoded headers (tables repeat the
// same keys), no Typed or array allocated per value. While a writer is being filled, its
// buffer, view and position live in the variables below (cheaper than properties on
// QuickJS); entry points load them from the writer and store them back, and save and
// restore what was there before, since a toJSON or a getter may encode something else
// in the middle.

let out: Uint8Array = new Uint8Array(0);
let outView: DataView = viewOf(out);
let pos = 0;

/** Fills `w` with `write`'s output (see above). On failure, the writer is left as it was. */
function filling(w: BlobWriter, write: () => void): void {
  const savedOut = out;
  const savedView = outView;
  const savedPos = pos;
  out = w.buf;
  outView = w.view;
  pos = w.pos;
  try {
    write();
    w.buf = out;
    w.view = outView;
    w.pos = pos;
  } catch (error) {
    // Keep what BlobWriter promises: nothing written past its position.
    w.buf.fill(0, w.pos);
    throw error;
  } finally {
    out = savedOut;
    outView = savedView;
    pos = savedPos;
  }
}

/** Room for `count` more bytes at `pos`. */
function grow(count: number): void {
  let size = out.length * 2;
  while (size < pos + count) size *= 2;
  const next = new Uint8Array(size);
  next.set(out.subarray(0, pos));
  out = next;
  outView = viewOf(next);
}

/** A table body (the children only): what UBUS_ATTR_DATA carries. */
export function encodeBlobmsgTable(table: Readonly<Record<string, unknown>>): Uint8Array {
  const w = new BlobWriter();
  writeTableBody(w, table);
  return w.finish();
}

/** Typed nodes (from decodeBlobmsgAttrs, maybe edited) back to bytes. */
export function encodeBlobmsgNodes(nodes: readonly BlobmsgNode[]): Uint8Array {
  const w = new BlobWriter();
  writeNodes(w, nodes, 0);
  return w.finish();
}

export function writeTableBody(w: BlobWriter, table: Readonly<Record<string, unknown>>): void {
  if (!isPlainTable(table)) throw encodeError('a blobmsg table must be an object');
  filling(w, () => writeTableChildren(table, 0));
}

export function writeNodes(w: BlobWriter, nodes: readonly BlobmsgNode[], depth: number): void {
  filling(w, () => writeNodeList(nodes, depth));
}

function isPlainOrArray(value: unknown): boolean {
  return Array.isArray(value) || isPlainTable(value);
}

function isPlainTable(value: unknown): value is Readonly<Record<string, unknown>> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Typed) &&
    !(value instanceof Uint8Array)
  );
}

function writeTableChildren(table: Readonly<Record<string, unknown>>, depth: number): void {
  const keys = Object.keys(table);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    let value = table[key];
    if (typeof value === 'object' && value !== null) {
      const toJSON = toJSONOf(value);
      if (toJSON !== undefined) value = toJSON.call(value, key);
    }
    // As JSON.stringify does: properties that JSON cannot hold are left out.
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    writeValue(key, value, depth);
  }
}

/** Objects with toJSON (Date...) are sent as JSON would show them. */
function toJSONOf(value: object): ((key: string) => unknown) | undefined {
  if (value instanceof Typed) return undefined;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  return typeof toJSON === 'function' ? (toJSON as (key: string) => unknown) : undefined;
}

/** Encoded name headers (u16 length, name, NUL, padding) of recent names. */
const nameHeaders = new Map<string, Uint8Array>();
/** Names longer than this are not cached; past NAME_CACHE_SIZE entries the cache starts over. */
const NAME_CACHE_LEN = 64;
const NAME_CACHE_SIZE = 1024;

/** The name header of a blobmsg attribute: u16 BE namelen, name, NUL, zeros to a multiple of 4. */
function nameHeader(name: string): Uint8Array {
  const cached = nameHeaders.get(name);
  return cached !== undefined ? cached : newNameHeader(name);
}

function newNameHeader(name: string): Uint8Array {
  const scratch = new Uint8Array(2 + name.length * 3 + 4);
  const namelen = writeUtf8(scratch, 2, name) - 2;
  if (namelen > 0xffff) throw encodeError(`blobmsg name of ${namelen} bytes exceeds 65535`);
  scratch[0] = namelen >>> 8;
  scratch[1] = namelen & 0xff;
  // NUL terminator plus padding: the header (2 + namelen + 1) rounds up to 4.
  const header = scratch.slice(0, (2 + namelen + 1 + 3) & ~3);
  if (name.length <= NAME_CACHE_LEN) {
    if (nameHeaders.size >= NAME_CACHE_SIZE) nameHeaders.clear();
    nameHeaders.set(name, header);
  }
  return header;
}

/**
 * A whole attribute with a payload of `payloadLen` bytes: writes its header and name
 * header, moves past it and its padding (zero already), and returns where the payload
 * goes. (Callers take the offset before `outView`/`out`: this may grow the buffer.)
 */
function scalarAt(type: number, name: string, payloadLen: number): number {
  let header = nameHeaders.get(name);
  if (header === undefined) header = newNameHeader(name);
  const headerLen = header.length;
  const rawLen = 4 + headerLen + payloadLen;
  if (rawLen > 0xffffff) throw encodeError(`blob attribute of ${rawLen} bytes exceeds the 24-bit length field`);
  const at = pos;
  if (at + rawLen + 3 > out.length) grow(rawLen + 3);
  outView.setUint32(at, (0x80000000 | (type << 24) | rawLen) >>> 0);
  out.set(header, at + 4);
  pos = at + ((rawLen + 3) & ~3);
  return at + 4 + headerLen;
}

/** Opens a container: its header (length still 0) and name header; endNamed closes it. */
function beginNamed(type: number, name: string): number {
  const header = nameHeader(name);
  if (pos + 4 + header.length > out.length) grow(4 + header.length);
  const at = pos;
  outView.setUint32(at, (BLOB_ATTR_EXTENDED | (type << 24)) >>> 0);
  out.set(header, at + 4);
  pos = at + 4 + header.length;
  return at;
}

/** Closes a container: its children are padded, so it needs none. */
function endNamed(at: number): void {
  const rawLen = pos - at;
  if (rawLen > BLOB_ATTR_LEN_MASK) throw encodeError(`blob attribute of ${rawLen} bytes exceeds the 24-bit length field`);
  outView.setUint32(at, (outView.getUint32(at) | rawLen) >>> 0);
}

function writeString(name: string, text: string): void {
  const header = nameHeader(name);
  const room = 4 + header.length + text.length * 3 + 4;
  if (pos + room > out.length) grow(room);
  const at = pos;
  out.set(header, at + 4);
  const textEnd = writeUtf8(out, at + 4 + header.length, text);
  // The NUL terminator and the padding are there: bytes past `pos` are zero.
  const rawLen = textEnd + 1 - at;
  if (rawLen > BLOB_ATTR_LEN_MASK) throw encodeError(`blob attribute of ${rawLen} bytes exceeds the 24-bit length field`);
  outView.setUint32(at, (BLOB_ATTR_EXTENDED | (BlobmsgType.STRING << 24) | rawLen) >>> 0);
  pos = at + ((rawLen + 3) & ~3);
}

/**
 * An integer in -2^63..2^64 (unsigned above 2^63, as blobmsg_add_u64 takes it) as two
 * 32-bit halves, without a BigInt: both halves are exact (division by 2^32 and the
 * remainder of an integer double are).
 */
function writeInt64Number(at: number, value: number): void {
  const high = Math.floor(value / 4294967296);
  outView.setUint32(at, high >>> 0);
  outView.setUint32(at + 4, (value - high * 4294967296) >>> 0);
}

/** The plain JS → blobmsg mapping of blobmsg_add_json_element (libubox blobmsg_json.c). */
function writeValue(name: string, value: unknown, depth: number): void {
  if (depth >= BLOBMSG_MAX_DEPTH) throw encodeError(`blobmsg nesting deeper than ${BLOBMSG_MAX_DEPTH} (a cycle?)`);
  let at: number;
  switch (typeof value) {
    case 'string':
      return writeString(name, value);
    case 'number':
      // json-c hands blobmsg an int64 for integers: INT32 when it fits, else INT64.
      // Non-integers (and NaN, ±Infinity, which JSON lacks) are doubles. An integer
      // beyond int64 cannot be an int64; it stays a double rather than being clamped.
      if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff) {
        at = scalarAt(BlobmsgType.INT32, name, 4);
        outView.setInt32(at, value);
      } else if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) {
        writeInt64Number(scalarAt(BlobmsgType.INT64, name, 8), value);
      } else {
        at = scalarAt(BlobmsgType.DOUBLE, name, 8);
        outView.setFloat64(at, value);
      }
      return;
    case 'boolean':
      at = scalarAt(BlobmsgType.INT8, name, 1);
      out[at] = value ? 1 : 0;
      return;
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) throw encodeError(`${value}n does not fit a blobmsg int64`);
      at = scalarAt(BlobmsgType.INT64, name, 8);
      outView.setBigUint64(at, BigInt.asUintN(64, value));
      return;
    case 'object': {
      if (value === null) {
        scalarAt(BlobmsgType.UNSPEC, name, 0);
        return;
      }
      if (value instanceof Typed) return writeTyped(name, value);
      if (value instanceof Uint8Array) throw encodeError(`blobmsg ${name || 'value'}: bytes need Typed('unspec', bytes)`);
      if (Array.isArray(value)) {
        const start = beginNamed(BlobmsgType.ARRAY, name);
        for (let i = 0; i < value.length; i++) {
          let element: unknown = value[i];
          if (typeof element === 'object' && element !== null) {
            const toJSON = toJSONOf(element);
            if (toJSON !== undefined) element = toJSON.call(element, String(i));
          }
          // As JSON.stringify does: array holes and non-JSON elements become null.
          if (element === undefined || typeof element === 'function' || typeof element === 'symbol') element = null;
          writeValue('', element, depth + 1);
        }
        endNamed(start);
        return;
      }
      const start = beginNamed(BlobmsgType.TABLE, name);
      writeTableChildren(value as Record<string, unknown>, depth + 1);
      endNamed(start);
      return;
    }
    default:
      throw encodeError(`blobmsg ${name || 'value'}: cannot encode a ${typeof value}`);
  }
}

/** A scalar with its wire type settled (ranges were checked by the Typed constructor). */
function writeTyped(name: string, typed: Typed): void {
  const v = typed.value;
  let at: number;
  switch (typed.type) {
    case 'int8':
    case 'bool':
      at = scalarAt(BlobmsgType.INT8, name, 1);
      out[at] = typeof v === 'boolean' ? (v ? 1 : 0) : (v as number) & 0xff;
      return;
    case 'int16':
      at = scalarAt(BlobmsgType.INT16, name, 2);
      outView.setUint16(at, (v as number) & 0xffff);
      return;
    case 'int32':
      at = scalarAt(BlobmsgType.INT32, name, 4);
      outView.setUint32(at, (v as number) >>> 0);
      return;
    case 'int64':
      at = scalarAt(BlobmsgType.INT64, name, 8);
      if (typeof v === 'number') writeInt64Number(at, v);
      else outView.setBigUint64(at, BigInt.asUintN(64, v as bigint));
      return;
    case 'double':
      at = scalarAt(BlobmsgType.DOUBLE, name, 8);
      outView.setFloat64(at, v as number);
      return;
    case 'string':
      return writeString(name, v as string);
    case 'unspec':
      if (v instanceof Uint8Array) {
        at = scalarAt(BlobmsgType.UNSPEC, name, v.length);
        out.set(v, at);
      } else scalarAt(BlobmsgType.UNSPEC, name, 0);
      return;
  }
}

function writeNodeList(nodes: readonly BlobmsgNode[], depth: number): void {
  for (const node of nodes) writeNode(node, depth);
}

function writeNode(node: BlobmsgNode, depth: number): void {
  if (depth >= BLOBMSG_MAX_DEPTH) throw encodeError(`blobmsg nesting deeper than ${BLOBMSG_MAX_DEPTH}`);
  if (node.type === 'array' || node.type === 'table') {
    if (node.children === undefined) {
      // No children given: the plain value says what is inside, and must match the type.
      if (Array.isArray(node.value) !== (node.type === 'array') || !isPlainOrArray(node.value)) {
        throw encodeError(`blobmsg ${node.type} "${node.name}" needs children or a matching value`);
      }
      return writeValue(node.name, node.value, depth);
    }
    const start = beginNamed(TYPE_IDS[node.type], node.name);
    writeNodeList(node.children, depth + 1);
    endNamed(start);
    return;
  }
  if (!(node.type in TYPE_IDS)) throw encodeError(`unknown blobmsg type ${String(node.type)}`);
  if (node.raw !== undefined) {
    const at = scalarAt(TYPE_IDS[node.type], node.name, node.raw.length);
    out.set(node.raw, at);
    return;
  }
  const value = node.value instanceof Typed ? node.value.value : node.value;
  writeTyped(node.name, new Typed(node.type, value as Typed['value']));
}

// ---- decoding --------------------------------------------------------------------------
//
// One walk over the body for both results: typed nodes (decodeBlobmsgAttrs, exact) and
// plain values (decodeBlobmsgTable/-Array, what the client hands out), the latter without
// building nodes. Offsets into one buffer and one DataView, no subarray per attribute;
// names and strings come from a Latin-1 copy of the body (made on first need) through
// utf8OfLatin1 (on V8 a long substring may share the copy's memory while it lives; on
// QuickJS substrings are copies). Every check is made on both paths, so they accept and
// refuse the same bytes (core/test/ubus/codec-fast.test.ts and codec-qjs.test.ts hold
// them to that, and to the decoder this replaced).

/** Exact payload sizes per type id (libubox blob_check_type: integers exactly, double we hold to 8); 0 for any. */
const PAYLOAD_LEN: readonly number[] = [0, 0, 0, 0, 8, 4, 2, 1, 8];

/** The body being decoded: it, a view of it, and (once a string was read) it as Latin-1. */
let body: Uint8Array = new Uint8Array(0);
let bodyView: DataView = viewOf(body);
let bodyLatin1: string | undefined;

function beginBody(bytes: Uint8Array): void {
  body = bytes;
  bodyView = viewOf(bytes);
  bodyLatin1 = undefined;
}

function endBody(): void {
  body = EMPTY;
  bodyView = EMPTY_VIEW;
  bodyLatin1 = undefined;
}

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = viewOf(EMPTY);
/** Placeholders for the container readPlain does not fill (never written to). */
const EMPTY_LIST: BlobmsgValue[] = [];
const EMPTY_TABLE: Record<string, BlobmsgValue> = {};

/** body[start..end) as strict UTF-8, or undefined (see utf8OfLatin1). */
function strictText(start: number, end: number): string | undefined {
  if (start === end) return '';
  if (bodyLatin1 === undefined) bodyLatin1 = latin1Of(body, 0, body.length);
  return utf8OfLatin1(bodyLatin1.substring(start, end));
}

/** body[start..end) as utf8Decode reads it: invalid sequences become U+FFFD. */
function text(start: number, end: number): string {
  const value = strictText(start, end);
  return value !== undefined ? value : utf8Decode(body.subarray(start, end));
}

/**
 * The blobmsg attributes in `bytes` (a table or array body) as typed nodes. Throws a
 * WrtkitError (UBUS_PROTOCOL) on anything blobmsg_check_attr would reject, on
 * non-blobmsg attributes, and on nesting beyond BLOBMSG_MAX_DEPTH.
 */
export function decodeBlobmsgAttrs(bytes: Uint8Array): BlobmsgNode[] {
  beginBody(bytes);
  try {
    return readNodes(0, bytes.length, 0);
  } finally {
    endBody();
  }
}

/**
 * A table body to a plain object, as `ubus call` prints it: the same as
 * nodesToObject(decodeBlobmsgAttrs(bytes)), and the same errors, without the nodes.
 */
export function decodeBlobmsgTable(bytes: Uint8Array): Record<string, BlobmsgValue> {
  if (bytes.length === 0) return {}; // a call without arguments
  beginBody(bytes);
  bodyLatin1 = latin1Of(bytes, 0, bytes.length);
  try {
    return readPlain(0, bytes.length, 0, false) as Record<string, BlobmsgValue>;
  } finally {
    endBody();
  }
}

/** An array body to plain values: nodesToArray(decodeBlobmsgAttrs(bytes)), without the nodes. */
export function decodeBlobmsgArray(bytes: Uint8Array): BlobmsgValue[] {
  beginBody(bytes);
  bodyLatin1 = latin1Of(bytes, 0, bytes.length);
  try {
    return readPlain(0, bytes.length, 0, true) as BlobmsgValue[];
  } finally {
    endBody();
  }
}

// The attribute being read: set by nextAttr for the loops below.
let attrType = 0;
let nameStart = 0;
let nameEnd = 0;
let payloadStart = 0;
let payloadEnd = 0;

/**
 * Checks the attribute at `at` within [.., end) as readBlobAttrs and blobmsg_check_attr
 * do, sets the fields above, and returns where the next one starts.
 */
function nextAttr(at: number, end: number, start: number): number {
  const left = end - at;
  if (left < 4) throw protocolError(`blobmsg: ${left} stray byte(s) after the last attribute`, { offset: at - start });
  const idLen = bodyView.getUint32(at);
  const rawLen = idLen & BLOB_ATTR_LEN_MASK;
  if (rawLen < 4) throw protocolError(`blobmsg: attribute length ${rawLen} is shorter than its header`, { offset: at - start });
  const next = at + ((rawLen + 3) & ~3);
  if (next > end) {
    throw protocolError(`blobmsg: attribute of ${rawLen} bytes overruns its container (${left} left)`, { offset: at - start });
  }
  const id = (idLen >>> 24) & 0x7f;
  if (idLen < BLOB_ATTR_EXTENDED) throw protocolError(`blob attribute ${id} without the extended bit is not blobmsg`);
  if (id > BlobmsgType.DOUBLE) throw protocolError(`unknown blobmsg type ${id}`);
  // The name header, as blobmsg_check_name checks it.
  const dataLen = rawLen - 4;
  if (dataLen < 2) throw protocolError('blobmsg attribute too short for its name header');
  const namelen = bodyView.getUint16(at + 4);
  const hdrLen = (2 + namelen + 1 + 3) & ~3;
  if (hdrLen > dataLen) throw protocolError(`blobmsg name of ${namelen} bytes overruns its attribute (${dataLen} bytes)`);
  nameStart = at + 6;
  nameEnd = nameStart + namelen;
  if (body[nameEnd] !== 0) throw protocolError('blobmsg name is not NUL-terminated');
  attrType = id;
  payloadStart = at + 4 + hdrLen;
  payloadEnd = at + rawLen;
  const size = PAYLOAD_LEN[id] as number;
  if (size !== 0 && payloadEnd - payloadStart !== size) {
    throw protocolError(
      `blobmsg ${TYPE_NAMES[id]} "${text(nameStart, nameEnd)}" has ${payloadEnd - payloadStart} bytes, not ${size}`,
    );
  }
  if (id === BlobmsgType.STRING && (payloadEnd === payloadStart || body[payloadEnd - 1] !== 0)) {
    throw protocolError(`blobmsg string "${text(nameStart, nameEnd)}" is not NUL-terminated`);
  }
  return next;
}

/** Throws the error nextAttr finds in the attribute at `at` (the fast path saw there is one). */
function malformed(at: number, end: number, start: number): never {
  nextAttr(at, end, start);
  throw protocolError('blobmsg: malformed attribute');
}

function checkDepth(depth: number): void {
  if (depth >= BLOBMSG_MAX_DEPTH) throw protocolError(`blobmsg nesting deeper than ${BLOBMSG_MAX_DEPTH}`);
}

/** INT64 at `at`: a number while safe, else a bigint (blobmsg_format_json prints it exactly). */
function int64At(at: number): number | bigint {
  const value = bodyView.getInt32(at) * 4294967296 + bodyView.getUint32(at + 4);
  // Exact whenever it is safe; anything the sum rounded is beyond 2^53 and not safe.
  return Number.isSafeInteger(value) ? value : bodyView.getBigInt64(at);
}

/**
 * The plain reader: nextAttr and `text` inlined into one loop (this is the hot path of
 * every ubus reply and event), with the checks merged into one test per attribute and
 * the error worked out by nextAttr when that test fails.
 */
function readPlain(start: number, end: number, depth: number, array: boolean): Record<string, BlobmsgValue> | BlobmsgValue[] {
  checkDepth(depth);
  const list: BlobmsgValue[] = array ? [] : EMPTY_LIST;
  const table: Record<string, BlobmsgValue> = array ? EMPTY_TABLE : {};
  // Locals and literals: module variables and imported constants cost more on QuickJS.
  const bytes = body;
  const view = bodyView;
  const latin1 = bodyLatin1 as string;
  let at = start;
  while (at < end) {
    // Offsets are multiples of 4 (the body starts at 0 and every length is padded).
    const idLen = end - at >= 4 ? view.getUint32(at) : 0;
    const rawLen = idLen & 0xffffff;
    const next = at + ((rawLen + 3) & ~3);
    // Extended, a known type, room for a name header, within the container.
    if (idLen < 0x80000000 || idLen >= 0x89000000 || rawLen < 6 || next > end) {
      malformed(at, end, start);
    }
    const nameEnd = at + 6 + view.getUint16(at + 4);
    const from = (nameEnd + 4) & ~3;
    const to = at + rawLen;
    if (from > to || bytes[nameEnd] !== 0) malformed(at, end, start);
    let value: BlobmsgValue;
    switch (idLen >>> 24) {
      case 0x83: {
        // STRING
        if (from === to || bytes[to - 1] !== 0) malformed(at, end, start);
        if (from + 1 === to) {
          value = '';
          break;
        }
        const latin = latin1.substring(from, to - 1);
        value = escape(latin) === latin ? latin : text(from, to - 1);
        break;
      }
      case 0x85:
        // INT32
        if (to - from !== 4) malformed(at, end, start);
        value = view.getInt32(from);
        break;
      case 0x87:
        // INT8. blobmsg_format_json: any non-zero byte is true.
        if (to - from !== 1) malformed(at, end, start);
        value = bytes[from] !== 0;
        break;
      case 0x82:
      case 0x81:
        // TABLE, ARRAY
        value = readPlain(from, to, depth + 1, idLen < 0x82000000);
        break;
      case 0x84:
        // INT64
        if (to - from !== 8) malformed(at, end, start);
        value = int64At(from);
        break;
      case 0x88:
        // DOUBLE
        if (to - from !== 8) malformed(at, end, start);
        value = view.getFloat64(from);
        break;
      case 0x86:
        // INT16. blobmsg_format_json prints be16_to_cpu() with %d: unsigned, 0..65535.
        if (to - from !== 2) malformed(at, end, start);
        value = view.getUint16(from);
        break;
      default:
        // UNSPEC: any payload is allowed (libubox checks UNSPEC as BINARY); JSON shows null.
        value = null;
    }
    if (array) list.push(value);
    else {
      let name = '';
      if (nameEnd > at + 6) {
        name = latin1.substring(at + 6, nameEnd);
        if (escape(name) !== name) name = text(at + 6, nameEnd);
      }
      // setFirst, inlined.
      if (table[name] === undefined) table[name] = value;
      else if (!hasOwn.call(table, name))
        Object.defineProperty(table, name, { value, enumerable: true, writable: true, configurable: true });
    }
    at = next;
  }
  return array ? list : table;
}

function readNodes(start: number, end: number, depth: number): BlobmsgNode[] {
  checkDepth(depth);
  const nodes: BlobmsgNode[] = [];
  let at = start;
  while (at < end) {
    at = nextAttr(at, end, start);
    const type = TYPE_NAMES[attrType] as BlobmsgTypeName;
    const name = text(nameStart, nameEnd);
    const from = payloadStart;
    const to = payloadEnd;
    switch (attrType) {
      case BlobmsgType.ARRAY:
      case BlobmsgType.TABLE: {
        const children = readNodes(from, to, depth + 1);
        nodes.push({ type, name, value: type === 'array' ? nodesToArray(children) : nodesToObject(children), children });
        break;
      }
      case BlobmsgType.INT8: {
        const byte = body[from] as number;
        nodes.push(byte > 1 ? { type, name, value: true, raw: body.slice(from, to) } : { type, name, value: byte === 1 });
        break;
      }
      case BlobmsgType.INT16:
        nodes.push({ type, name, value: bodyView.getUint16(from) });
        break;
      case BlobmsgType.INT32:
        nodes.push({ type, name, value: bodyView.getInt32(from) });
        break;
      case BlobmsgType.INT64:
        nodes.push({ type, name, value: int64At(from) });
        break;
      case BlobmsgType.DOUBLE: {
        const value = bodyView.getFloat64(from);
        // NaN payloads do not survive a JS number: keep the bits when they would change.
        nodes.push(sameDoubleBits(value, from) ? { type, name, value } : { type, name, value, raw: body.slice(from, to) });
        break;
      }
      case BlobmsgType.STRING: {
        const value = strictText(from, to - 1);
        nodes.push(
          value !== undefined
            ? { type, name, value }
            : { type, name, value: utf8Decode(body.subarray(from, to - 1)), raw: body.slice(from, to) },
        );
        break;
      }
      default:
        nodes.push(from === to ? { type, name, value: null } : { type, name, value: null, raw: body.slice(from, to) });
    }
  }
  return nodes;
}

const doubleScratch = new DataView(new ArrayBuffer(8));

function sameDoubleBits(value: number, at: number): boolean {
  doubleScratch.setFloat64(0, value);
  return doubleScratch.getUint32(0) === bodyView.getUint32(at) && doubleScratch.getUint32(4) === bodyView.getUint32(at + 4);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Sets a table key unless it is there already (blobmsg_parse keeps the first of a
 * repeated name). Plain assignment, except for a key that is not yet own but reads as
 * something: inherited (`toString`...) or `__proto__`, whose assignment would set the
 * prototype. Values are never undefined, so an own key always reads as defined.
 */
function setFirst(out: Record<string, BlobmsgValue>, name: string, value: BlobmsgValue): void {
  if (out[name] === undefined) out[name] = value;
  else if (!hasOwn.call(out, name))
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Table children to an object. A name given twice keeps its first value, as
 * blobmsg_parse does; `__proto__` is an ordinary key (no prototype games).
 */
export function nodesToObject(nodes: readonly BlobmsgNode[]): Record<string, BlobmsgValue> {
  const out: Record<string, BlobmsgValue> = {};
  for (const node of nodes) setFirst(out, node.name, node.value);
  return out;
}

/** Array elements to an array (element names, normally empty, are dropped). */
export function nodesToArray(nodes: readonly BlobmsgNode[]): BlobmsgValue[] {
  return nodes.map((node) => node.value);
}
