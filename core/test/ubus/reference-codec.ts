// The blob/blobmsg codec as it was before the fast paths (core/src/ubus/blob.ts and
// blobmsg.ts at 5c0d12c, trimmed to the encoder and the node decoder): the reference the
// fast encoder and decoders are held to in codec-fast.test.ts. Do not "improve" it.
import { ErrorCodes, WrtkitError } from '../../src/errors.js';
import { BlobmsgType } from '../../src/ubus/constants.js';
import { type BlobmsgNode, type BlobmsgTypeName, type BlobmsgValue, Typed, type TypedType } from '../../src/ubus/blobmsg.js';
import { utf8Decode, utf8Encode } from '../../src/util/utf8.js';

const BLOB_HDR_LEN = 4;
const BLOB_ATTR_EXTENDED = 0x80000000;
const BLOB_ATTR_ID_MAX = 0x7f;
const BLOB_ATTR_LEN_MASK = 0x00ffffff;
const BLOBMSG_MAX_DEPTH = 128;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function blobPadLen(rawLen: number): number {
  return (rawLen + 3) & ~3;
}

function protocolError(message: string, details?: Record<string, unknown>): WrtkitError {
  return new WrtkitError(ErrorCodes.UBUS_PROTOCOL, message, details === undefined ? {} : { details });
}

function encodeError(message: string, details?: Record<string, unknown>): WrtkitError {
  return new WrtkitError(ErrorCodes.INVALID_ARGUMENT, message, details === undefined ? {} : { details });
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface BlobAttr {
  id: number;
  extended: boolean;
  data: Uint8Array;
  rawLen: number;
}

function readBlobAttrs(bytes: Uint8Array, what = 'blob'): BlobAttr[] {
  const view = viewOf(bytes);
  const attrs: BlobAttr[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const left = bytes.length - offset;
    if (left < BLOB_HDR_LEN) throw protocolError(`${what}: ${left} stray byte(s) after the last attribute`, { offset });
    const idLen = view.getUint32(offset);
    const rawLen = idLen & BLOB_ATTR_LEN_MASK;
    if (rawLen < BLOB_HDR_LEN) throw protocolError(`${what}: attribute length ${rawLen} is shorter than its header`, { offset });
    // Each step advances by at least 4 bytes, so the loop ends.
    if (blobPadLen(rawLen) > left) {
      throw protocolError(`${what}: attribute of ${rawLen} bytes overruns its container (${left} left)`, { offset });
    }
    attrs.push({
      id: (idLen >>> 24) & BLOB_ATTR_ID_MAX,
      extended: (idLen & BLOB_ATTR_EXTENDED) !== 0,
      data: bytes.subarray(offset + BLOB_HDR_LEN, offset + rawLen),
      rawLen,
    });
    offset += blobPadLen(rawLen);
  }
  return attrs;
}

class BlobWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(Math.max(16, initialSize));
    this.view = viewOf(this.buf);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Opens an attribute; returns the token `end` needs. */
  begin(id: number, extended = false): number {
    if (!Number.isInteger(id) || id < 0 || id > BLOB_ATTR_ID_MAX) throw encodeError(`blob attribute id ${id} is not 0..127`);
    const start = this.pos;
    this.u32(((extended ? BLOB_ATTR_EXTENDED : 0) | (id << 24)) >>> 0);
    return start;
  }

  /** Closes the attribute opened at `start`: its length is everything since, then padding. */
  end(start: number): void {
    const rawLen = this.pos - start;
    if (rawLen > BLOB_ATTR_LEN_MASK) throw encodeError(`blob attribute of ${rawLen} bytes exceeds the 24-bit length field`);
    this.view.setUint32(start, (this.view.getUint32(start) | rawLen) >>> 0);
    this.zeros(blobPadLen(rawLen) - rawLen);
  }

  /** A whole attribute with the given payload. */
  put(id: number, payload: Uint8Array, extended = false): void {
    const start = this.begin(id, extended);
    this.bytes(payload);
    this.end(start);
  }

  u8(value: number): void {
    this.reserve(1);
    this.buf[this.pos++] = value & 0xff;
  }

  u16(value: number): void {
    this.reserve(2);
    this.view.setUint16(this.pos, value & 0xffff);
    this.pos += 2;
  }

  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.pos, value >>> 0);
    this.pos += 4;
  }

  /** 64-bit two's complement; the caller checks the range. */
  u64(value: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, value));
    this.pos += 8;
  }

  f64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  zeros(count: number): void {
    this.reserve(count);
    this.buf.fill(0, this.pos, this.pos + count);
    this.pos += count;
  }

  /** Overwrites a 32-bit field written earlier (message header fields). */
  patchU32(offset: number, value: number): void {
    this.view.setUint32(offset, value >>> 0);
  }

  /** The bytes written, in an array of their own. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  private reserve(count: number): void {
    if (this.pos + count <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + count) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = viewOf(next);
  }
}

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

/** A table body (the children only): what UBUS_ATTR_DATA carries. */
export function refEncodeBlobmsgTable(table: Readonly<Record<string, unknown>>): Uint8Array {
  const w = new BlobWriter();
  writeTableBody(w, table);
  return w.finish();
}

/** Typed nodes (from decodeBlobmsgAttrs, maybe edited) back to bytes. */
export function refEncodeBlobmsgNodes(nodes: readonly BlobmsgNode[]): Uint8Array {
  const w = new BlobWriter();
  writeNodes(w, nodes, 0);
  return w.finish();
}

function writeTableBody(w: BlobWriter, table: Readonly<Record<string, unknown>>): void {
  if (!isPlainTable(table)) throw encodeError('a blobmsg table must be an object');
  writeTableChildren(w, table, 0);
}

function writeNodes(w: BlobWriter, nodes: readonly BlobmsgNode[], depth: number): void {
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

/** Exact payload sizes per type (libubox blob_check_type: integers exactly, double we hold to 8). */
const PAYLOAD_LEN: Partial<Record<BlobmsgTypeName, number>> = { int8: 1, int16: 2, int32: 4, int64: 8, double: 8 };

/**
 * The blobmsg attributes in `bytes` (a table or array body) as typed nodes. Throws a
 * WrtkitError (UBUS_PROTOCOL) on anything blobmsg_check_attr would reject, on
 * non-blobmsg attributes, and on nesting beyond BLOBMSG_MAX_DEPTH.
 */
export function refDecodeBlobmsgAttrs(bytes: Uint8Array): BlobmsgNode[] {
  return decodeNodes(bytes, 0);
}

/** A table body to a plain object, as `ubus call` prints it. */
export function refDecodeBlobmsgTable(bytes: Uint8Array): Record<string, BlobmsgValue> {
  return refNodesToObject(refDecodeBlobmsgAttrs(bytes));
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
      return { type, name, value: type === 'array' ? refNodesToArray(children) : refNodesToObject(children), children };
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Table children to an object. A name given twice keeps its first value, as
 * blobmsg_parse does; `__proto__` is an ordinary key (no prototype games).
 */
export function refNodesToObject(nodes: readonly BlobmsgNode[]): Record<string, BlobmsgValue> {
  const out: Record<string, BlobmsgValue> = {};
  for (const node of nodes) {
    if (Object.prototype.hasOwnProperty.call(out, node.name)) continue;
    Object.defineProperty(out, node.name, { value: node.value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Array elements to an array (element names, normally empty, are dropped). */
export function refNodesToArray(nodes: readonly BlobmsgNode[]): BlobmsgValue[] {
  return nodes.map((node) => node.value);
}
