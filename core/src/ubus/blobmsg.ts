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
import { utf8Decode, utf8Encode } from '../util/utf8.js';
import { BlobmsgType } from './constants.js';
import { BlobWriter, encodeError, protocolError, readBlobAttrs, viewOf } from './blob.js';

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
  writeTableChildren(w, table, 0);
}

export function writeNodes(w: BlobWriter, nodes: readonly BlobmsgNode[], depth: number): void {
  for (const node of nodes) writeNode(w, node, depth);
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

function writeTableChildren(w: BlobWriter, table: Readonly<Record<string, unknown>>, depth: number): void {
  for (const key of Object.keys(table)) {
    const value = toJsonish(table[key], key);
    // As JSON.stringify does: properties that JSON cannot hold are left out.
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    writeValue(w, key, value, depth);
  }
}

/** Objects with toJSON (Date...) are sent as JSON would show them. */
function toJsonish(value: unknown, key: string): unknown {
  if (typeof value === 'object' && value !== null && !(value instanceof Typed)) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return (toJSON as (key: string) => unknown).call(value, key);
  }
  return value;
}

/** Opens a blobmsg attribute: extended header, then the name header padded to 4. */
function beginNamed(w: BlobWriter, type: number, name: string): number {
  const start = w.begin(type, true);
  const nameBytes = utf8Encode(name);
  if (nameBytes.length > 0xffff) throw encodeError(`blobmsg name of ${nameBytes.length} bytes exceeds 65535`);
  w.u16(nameBytes.length);
  w.bytes(nameBytes);
  // NUL terminator plus padding: the header (2 + namelen + 1) rounds up to 4.
  w.zeros(((2 + nameBytes.length + 1 + 3) & ~3) - 2 - nameBytes.length);
  return start;
}

/** The plain JS → blobmsg mapping of blobmsg_add_json_element (libubox blobmsg_json.c). */
function writeValue(w: BlobWriter, name: string, value: unknown, depth: number): void {
  if (depth >= BLOBMSG_MAX_DEPTH) throw encodeError(`blobmsg nesting deeper than ${BLOBMSG_MAX_DEPTH} (a cycle?)`);
  if (value instanceof Typed) return writeTyped(w, name, value);
  switch (typeof value) {
    case 'boolean':
      return writeTyped(w, name, new Typed('int8', value ? 1 : 0));
    case 'number':
      // json-c hands blobmsg an int64 for integers: INT32 when it fits, else INT64.
      // Non-integers (and NaN, ±Infinity, which JSON lacks) are doubles. An integer
      // beyond int64 cannot be an int64; it stays a double rather than being clamped.
      if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff)
        return writeTyped(w, name, new Typed('int32', value));
      if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63)
        return writeTyped(w, name, new Typed('int64', value));
      return writeTyped(w, name, new Typed('double', value));
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) throw encodeError(`${value}n does not fit a blobmsg int64`);
      return writeTyped(w, name, new Typed('int64', value));
    case 'string':
      return writeTyped(w, name, new Typed('string', value));
    case 'object': {
      if (value === null) return writeTyped(w, name, new Typed('unspec', null));
      if (value instanceof Uint8Array) throw encodeError(`blobmsg ${name || 'value'}: bytes need Typed('unspec', bytes)`);
      const start = beginNamed(w, Array.isArray(value) ? BlobmsgType.ARRAY : BlobmsgType.TABLE, name);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const element = toJsonish(value[i], String(i));
          // As JSON.stringify does: array holes and non-JSON elements become null.
          const jsonable = element === undefined || typeof element === 'function' || typeof element === 'symbol' ? null : element;
          writeValue(w, '', jsonable, depth + 1);
        }
      } else {
        writeTableChildren(w, value as Record<string, unknown>, depth + 1);
      }
      w.end(start);
      return;
    }
    default:
      throw encodeError(`blobmsg ${name || 'value'}: cannot encode a ${typeof value}`);
  }
}

/** A scalar with its wire type settled (ranges were checked by the Typed constructor). */
function writeTyped(w: BlobWriter, name: string, typed: Typed): void {
  const start = beginNamed(w, TYPE_IDS[typed.type], name);
  const v = typed.value;
  switch (typed.type) {
    case 'int8':
    case 'bool':
      w.u8(typeof v === 'boolean' ? (v ? 1 : 0) : (v as number));
      break;
    case 'int16':
      w.u16(v as number);
      break;
    case 'int32':
      w.u32(v as number);
      break;
    case 'int64':
      w.u64(BigInt(v as number | bigint));
      break;
    case 'double':
      w.f64(v as number);
      break;
    case 'string':
      w.bytes(utf8Encode(v as string));
      w.u8(0);
      break;
    case 'unspec':
      if (v instanceof Uint8Array) w.bytes(v);
      break;
  }
  w.end(start);
}

function writeNode(w: BlobWriter, node: BlobmsgNode, depth: number): void {
  if (depth >= BLOBMSG_MAX_DEPTH) throw encodeError(`blobmsg nesting deeper than ${BLOBMSG_MAX_DEPTH}`);
  if (node.type === 'array' || node.type === 'table') {
    if (node.children === undefined) {
      // No children given: the plain value says what is inside, and must match the type.
      if (Array.isArray(node.value) !== (node.type === 'array') || !isPlainOrArray(node.value)) {
        throw encodeError(`blobmsg ${node.type} "${node.name}" needs children or a matching value`);
      }
      return writeValue(w, node.name, node.value, depth);
    }
    const start = beginNamed(w, TYPE_IDS[node.type], node.name);
    writeNodes(w, node.children, depth + 1);
    w.end(start);
    return;
  }
  if (!(node.type in TYPE_IDS)) throw encodeError(`unknown blobmsg type ${String(node.type)}`);
  if (node.raw !== undefined) {
    const start = beginNamed(w, TYPE_IDS[node.type], node.name);
    w.bytes(node.raw);
    w.end(start);
    return;
  }
  const value = node.value instanceof Typed ? node.value.value : node.value;
  writeTyped(w, node.name, new Typed(node.type, value as Typed['value']));
}

// ---- decoding --------------------------------------------------------------------------

/** Exact payload sizes per type (libubox blob_check_type: integers exactly, double we hold to 8). */
const PAYLOAD_LEN: Partial<Record<BlobmsgTypeName, number>> = { int8: 1, int16: 2, int32: 4, int64: 8, double: 8 };

/**
 * The blobmsg attributes in `bytes` (a table or array body) as typed nodes. Throws a
 * WrtkitError (UBUS_PROTOCOL) on anything blobmsg_check_attr would reject, on
 * non-blobmsg attributes, and on nesting beyond BLOBMSG_MAX_DEPTH.
 */
export function decodeBlobmsgAttrs(bytes: Uint8Array): BlobmsgNode[] {
  return decodeNodes(bytes, 0);
}

/** A table body to a plain object, as `ubus call` prints it. */
export function decodeBlobmsgTable(bytes: Uint8Array): Record<string, BlobmsgValue> {
  return nodesToObject(decodeBlobmsgAttrs(bytes));
}

function decodeNodes(bytes: Uint8Array, depth: number): BlobmsgNode[] {
  if (depth >= BLOBMSG_MAX_DEPTH) throw protocolError(`blobmsg nesting deeper than ${BLOBMSG_MAX_DEPTH}`);
  return readBlobAttrs(bytes, 'blobmsg').map((attr) => {
    if (!attr.extended) throw protocolError(`blob attribute ${attr.id} without the extended bit is not blobmsg`);
    const type = TYPE_NAMES[attr.id];
    if (type === undefined) throw protocolError(`unknown blobmsg type ${attr.id}`);
    const { name, payload } = splitName(attr.data);
    return decodeNode(type, name, payload, depth);
  });
}

/** The name header (as blobmsg_check_name checks it) and the payload after it. */
function splitName(data: Uint8Array): { name: string; payload: Uint8Array } {
  if (data.length < 2) throw protocolError('blobmsg attribute too short for its name header');
  const namelen = viewOf(data).getUint16(0);
  const hdrLen = (2 + namelen + 1 + 3) & ~3;
  if (2 + namelen + 1 > data.length || hdrLen > data.length) {
    throw protocolError(`blobmsg name of ${namelen} bytes overruns its attribute (${data.length} bytes)`);
  }
  if (data[2 + namelen] !== 0) throw protocolError('blobmsg name is not NUL-terminated');
  return { name: utf8Decode(data.subarray(2, 2 + namelen)), payload: data.subarray(hdrLen) };
}

function decodeNode(type: BlobmsgTypeName, name: string, payload: Uint8Array, depth: number): BlobmsgNode {
  const size = PAYLOAD_LEN[type];
  if (size !== undefined && payload.length !== size)
    throw protocolError(`blobmsg ${type} "${name}" has ${payload.length} bytes, not ${size}`);
  const view = viewOf(payload);
  switch (type) {
    case 'array':
    case 'table': {
      const children = decodeNodes(payload, depth + 1);
      return { type, name, value: type === 'array' ? nodesToArray(children) : nodesToObject(children), children };
    }
    case 'int8': {
      // blobmsg_format_json: any non-zero byte is true.
      const byte = payload[0] as number;
      return byte > 1 ? { type, name, value: true, raw: payload.slice() } : { type, name, value: byte === 1 };
    }
    case 'int16':
      // blobmsg_format_json prints be16_to_cpu() with %d: unsigned, 0..65535.
      return { type, name, value: view.getUint16(0) };
    case 'int32':
      return { type, name, value: view.getInt32(0) };
    case 'int64': {
      const big = view.getBigInt64(0);
      const small = Number(big);
      return { type, name, value: Number.isSafeInteger(small) ? small : big };
    }
    case 'double': {
      const value = view.getFloat64(0);
      // NaN payloads do not survive a JS number: keep the bits when they would change.
      return sameDoubleBits(value, payload) ? { type, name, value } : { type, name, value, raw: payload.slice() };
    }
    case 'string': {
      // blob_check_type: at least the terminator, and the last byte is NUL.
      if (payload.length === 0 || payload[payload.length - 1] !== 0)
        throw protocolError(`blobmsg string "${name}" is not NUL-terminated`);
      const text = payload.subarray(0, payload.length - 1);
      const value = utf8Decode(text);
      return sameBytes(utf8Encode(value), text) ? { type, name, value } : { type, name, value, raw: payload.slice() };
    }
    case 'unspec':
      // Any payload is allowed (libubox checks UNSPEC as BINARY); JSON shows null.
      return payload.length === 0 ? { type, name, value: null } : { type, name, value: null, raw: payload.slice() };
  }
}

function sameDoubleBits(value: number, bytes: Uint8Array): boolean {
  const again = new Uint8Array(8);
  viewOf(again).setFloat64(0, value);
  return sameBytes(again, bytes);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Table children to an object. A name given twice keeps its first value, as
 * blobmsg_parse does; `__proto__` is an ordinary key (no prototype games).
 */
export function nodesToObject(nodes: readonly BlobmsgNode[]): Record<string, BlobmsgValue> {
  const out: Record<string, BlobmsgValue> = {};
  for (const node of nodes) {
    if (Object.prototype.hasOwnProperty.call(out, node.name)) continue;
    Object.defineProperty(out, node.name, { value: node.value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Array elements to an array (element names, normally empty, are dropped). */
export function nodesToArray(nodes: readonly BlobmsgNode[]): BlobmsgValue[] {
  return nodes.map((node) => node.value);
}
