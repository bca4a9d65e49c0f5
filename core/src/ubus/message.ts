/**
 * A ubus message (openwrt/ubus ubusmsg.h): an 8-byte header, then ONE blob attribute
 * (id 0) whose payload is a list of UBUS_ATTR_* attributes.
 *
 *   u8 version (0) | u8 type | u16 BE seq | u32 BE peer | root blob_attr ...
 *
 * The frame on the socket is 8 + the root's raw length (libubus and ubusd read exactly
 * that). Attribute order is not fixed by the protocol but every sender has its own, and
 * byte-identical output needs it, so a message is an ordered list of attributes.
 *
 * Decoding keeps everything needed to encode the same bytes again: an attribute whose
 * payload does not fit its kind (a STATUS of 3 bytes, DATA that is not blobmsg...) is
 * kept as raw bytes, where libubus would skip it; `attrsOf` then ignores it as libubus
 * does. Zero padding is assumed: libubox ignores what padding holds, and so does this.
 */
import { Attr, MsgType, MonitorAttr, SystemObject, UBUS_MAX_MSGLEN, UBUS_MSGHDR_LEN } from './constants.js';
import {
  BLOB_ATTR_EXTENDED,
  BLOB_ATTR_LEN_MASK,
  BLOB_HDR_LEN,
  BlobWriter,
  blobPadLen,
  encodeError,
  protocolError,
  readBlobAttrs,
  utf8Strict,
  viewOf,
  writeUtf8,
} from './blob.js';
import type { BlobAttr } from './blob.js';
import {
  type BlobmsgNode,
  type BlobmsgValue,
  decodeBlobmsgAttrs,
  decodeBlobmsgTable,
  int32,
  nodesToObject,
  writeNodes,
  writeTableBody,
} from './blobmsg.js';
import { WrtkitError } from '../errors.js';

/** A blobmsg table as callers hand it over (checked when encoded). */
export type BlobmsgTableInput = Readonly<Record<string, unknown>>;
/** `ubus -v list`: per method, per argument, the blobmsg type number of its policy. */
export type Signature = Record<string, Record<string, number>>;
export type SignatureInput = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** Any attribute as its payload bytes: unknown ids, payloads that do not fit their kind, monitor attributes. */
export interface RawAttr {
  id: number;
  value: Uint8Array;
}

/**
 * One attribute. The value kind follows the id (as libubus's policy and ubusd's use of
 * it): STATUS int32; OBJPATH/METHOD/USER/GROUP strings (NUL-terminated on the wire);
 * OBJID/OBJTYPE/TARGET u32; ACTIVE/NO_REPLY an int8 flag; DATA a blobmsg table body;
 * SIGNATURE blobmsg tables of INT32 types; SUBSCRIBERS a list of id-0 int32 attributes.
 * DATA and SIGNATURE accept plain objects when encoding and decode to typed nodes (exact
 * types, order, repeated names); `attrsOf` turns those into plain objects. A decoded
 * message builds the nodes only when `value` is first read (an accessor that then keeps
 * them); attrsOf reads DATA nobody read as nodes straight from its bytes.
 */
export type UbusAttr =
  | { id: typeof Attr.STATUS; value: number }
  | { id: typeof Attr.OBJPATH | typeof Attr.METHOD | typeof Attr.USER | typeof Attr.GROUP; value: string }
  | { id: typeof Attr.OBJID | typeof Attr.OBJTYPE | typeof Attr.TARGET; value: number }
  | { id: typeof Attr.ACTIVE | typeof Attr.NO_REPLY; value: boolean }
  | { id: typeof Attr.DATA; value: BlobmsgTableInput | BlobmsgNode[] }
  | { id: typeof Attr.SIGNATURE; value: SignatureInput | BlobmsgNode[] }
  | { id: typeof Attr.SUBSCRIBERS; value: number[] }
  | RawAttr;

export interface UbusMessage {
  version: number;
  type: number;
  seq: number;
  peer: number;
  /** In wire order. UBUS_MSG_MONITOR messages hold RawAttrs: see decodeMonitor. */
  attrs: UbusAttr[];
}

type Kind = 'int32' | 'u32' | 'string' | 'flag' | 'table' | 'signature' | 'subscribers';

const KINDS: Readonly<Partial<Record<number, Kind>>> = {
  [Attr.STATUS]: 'int32',
  [Attr.OBJPATH]: 'string',
  [Attr.OBJID]: 'u32',
  [Attr.METHOD]: 'string',
  [Attr.OBJTYPE]: 'u32',
  [Attr.SIGNATURE]: 'signature',
  [Attr.DATA]: 'table',
  [Attr.TARGET]: 'u32',
  [Attr.ACTIVE]: 'flag',
  [Attr.NO_REPLY]: 'flag',
  [Attr.SUBSCRIBERS]: 'subscribers',
  [Attr.USER]: 'string',
  [Attr.GROUP]: 'string',
};

/** Header plus the root blob's header: what must be there before a frame's length is known. */
export const UBUS_FRAME_HEAD_LEN = UBUS_MSGHDR_LEN + BLOB_HDR_LEN;

// ---- framing ---------------------------------------------------------------------------

/**
 * Checks the first 12 bytes of a frame and returns its whole length (8 + the root's raw
 * length). Refuses what libubus's ubus_validate_hdr refuses (version not 0, a root shorter
 * than its header, a padded root above UBUS_MAX_MSGLEN) and a root that is not a plain
 * id-0 blob, which no ubus sender produces.
 */
export function frameLength(head: Uint8Array): number {
  if (head.length < UBUS_FRAME_HEAD_LEN)
    throw protocolError(`ubus message of ${head.length} bytes is shorter than its 12-byte header`);
  if (head[0] !== 0) throw protocolError(`ubus message version ${String(head[0])} is not 0`);
  const idLen =
    (((head[8] as number) << 24) | ((head[9] as number) << 16) | ((head[10] as number) << 8) | (head[11] as number)) >>> 0;
  if (idLen >>> 24 !== 0) throw protocolError(`ubus root blob has id_len 0x${idLen.toString(16)}: not a plain id-0 attribute`);
  const rawLen = idLen & BLOB_ATTR_LEN_MASK;
  if (rawLen < BLOB_HDR_LEN) throw protocolError(`ubus root blob length ${rawLen} is shorter than its header`);
  if (blobPadLen(rawLen) > UBUS_MAX_MSGLEN)
    throw protocolError(`ubus message of ${rawLen} bytes exceeds UBUS_MAX_MSGLEN (${UBUS_MAX_MSGLEN})`);
  return UBUS_MSGHDR_LEN + rawLen;
}

// ---- decoding --------------------------------------------------------------------------

/** One complete frame to a message. Throws WrtkitError (UBUS_PROTOCOL) on malformed bytes. */
export function decodeMessage(bytes: Uint8Array): UbusMessage {
  const length = frameLength(bytes);
  if (bytes.length !== length) {
    throw protocolError(`ubus message is ${bytes.length} bytes but its header says ${length}`, {
      expected: length,
      actual: bytes.length,
    });
  }
  const type = bytes[1] as number;
  return {
    version: 0,
    type,
    seq: ((bytes[2] as number) << 8) | (bytes[3] as number),
    peer:
      (((bytes[4] as number) << 24) | ((bytes[5] as number) << 16) | ((bytes[6] as number) << 8) | (bytes[7] as number)) >>> 0,
    attrs: readAttrs(bytes, UBUS_FRAME_HEAD_LEN, type, 'ubus message'),
  };
}

/** The attributes of a root payload, decoded as `decodeMessage` would for a message of `type`. */
export function decodeAttrs(payload: Uint8Array, type: number): UbusAttr[] {
  return readAttrs(payload, 0, type, 'ubus attributes');
}

/**
 * The attributes in bytes[start..], checked as readBlobAttrs checks them, read in place
 * (one view, no attribute objects or subarrays in between); what is kept is copied.
 */
function readAttrs(bytes: Uint8Array, start: number, type: number, what: string): UbusAttr[] {
  const view = viewOf(bytes);
  const end = bytes.length;
  const attrs: UbusAttr[] = [];
  let at = start;
  while (at < end) {
    const left = end - at;
    if (left < BLOB_HDR_LEN)
      throw protocolError(`${what}: ${left} stray byte(s) after the last attribute`, { offset: at - start });
    const idLen = view.getUint32(at);
    const rawLen = idLen & BLOB_ATTR_LEN_MASK;
    if (rawLen < BLOB_HDR_LEN)
      throw protocolError(`${what}: attribute length ${rawLen} is shorter than its header`, { offset: at - start });
    if (blobPadLen(rawLen) > left) {
      throw protocolError(`${what}: attribute of ${rawLen} bytes overruns its container (${left} left)`, { offset: at - start });
    }
    const id = (idLen >>> 24) & 0x7f;
    if (idLen >= BLOB_ATTR_EXTENDED) throw protocolError(`ubus attribute ${id} has the blobmsg (extended) bit set`);
    attrs.push(
      type === MsgType.MONITOR
        ? { id, value: bytes.slice(at + BLOB_HDR_LEN, at + rawLen) }
        : decodeAttr(bytes, view, id, at + BLOB_HDR_LEN, at + rawLen),
    );
    at += blobPadLen(rawLen);
  }
  return attrs;
}

function decodeAttr(bytes: Uint8Array, view: DataView, id: number, from: number, to: number): UbusAttr {
  const len = to - from;
  let value: UbusAttr['value'] | undefined;
  switch (KINDS[id]) {
    case 'int32':
      if (len === 4) value = view.getInt32(from);
      break;
    case 'u32':
      if (len === 4) value = view.getUint32(from);
      break;
    case 'string':
      // NUL-terminated UTF-8 that encodes back to the same bytes, else kept raw.
      if (len > 0 && bytes[to - 1] === 0) value = utf8Strict(bytes, from, to - 1);
      break;
    case 'flag':
      if (len === 1 && (bytes[from] as number) <= 1) value = bytes[from] === 1;
      break;
    case 'table':
    case 'signature':
      return lazyBlobmsgAttr(id, bytes.slice(from, to));
    case 'subscribers':
      value = decodeSubscribers(bytes.subarray(from, to));
      break;
  }
  return value === undefined ? { id, value: bytes.slice(from, to) } : ({ id, value } as UbusAttr);
}

/**
 * The payloads of DATA and SIGNATURE attributes that nobody has read as nodes yet. Their
 * `value` decodes to nodes on first read (or stays the bytes when they are not valid
 * blobmsg, as libubus hands such DATA on unparsed: `ubus monitor`'s own INVOKE carries a
 * copy of its OBJID and METHOD attributes as DATA, see monitorMessage). Until then
 * attrsOf reads the bytes straight to plain values and encodeMessage writes them as
 * they came, so a client that only wants the plain table never builds nodes.
 */
const unreadBlobmsg = new WeakMap<object, Uint8Array>();

function lazyBlobmsgAttr(id: number, bytes: Uint8Array): UbusAttr {
  let value: BlobmsgNode[] | Uint8Array | undefined;
  const attr = {
    id,
    get value(): BlobmsgNode[] | Uint8Array {
      if (value === undefined) {
        value = tryBlobmsg(bytes) ?? bytes;
        unreadBlobmsg.delete(attr);
      }
      return value;
    },
    set value(replacement: BlobmsgNode[] | Uint8Array) {
      unreadBlobmsg.delete(attr);
      Object.defineProperty(attr, 'value', { value: replacement, writable: true, enumerable: true, configurable: true });
    },
  };
  unreadBlobmsg.set(attr, bytes);
  return attr as UbusAttr;
}

function tryBlobmsg(data: Uint8Array): BlobmsgNode[] | undefined {
  try {
    return decodeBlobmsgAttrs(data);
  } catch (error) {
    if (error instanceof WrtkitError) return undefined;
    throw error;
  }
}

function tryBlobmsgTable(data: Uint8Array): Record<string, BlobmsgValue> | undefined {
  try {
    return decodeBlobmsgTable(data);
  } catch (error) {
    if (error instanceof WrtkitError) return undefined;
    throw error;
  }
}

/**
 * ubusd lists subscribers as a nest of 32-bit ints with attribute id 0
 * (`blob_put_int32(&b, 0, id)` in ubusd_handle_notify); libubus reads any id there.
 */
function decodeSubscribers(data: Uint8Array): number[] | undefined {
  let attrs: BlobAttr[];
  try {
    attrs = readBlobAttrs(data, 'subscribers');
  } catch (error) {
    if (error instanceof WrtkitError) return undefined;
    throw error;
  }
  const ids: number[] = [];
  for (const attr of attrs) {
    if (attr.extended || attr.data.length !== 4) return undefined;
    ids.push(viewOf(attr.data).getUint32(0));
  }
  return ids;
}

// ---- encoding --------------------------------------------------------------------------

/** A message to the bytes to write on the socket. Throws WrtkitError (INVALID_ARGUMENT). */
export function encodeMessage(msg: UbusMessage): Uint8Array {
  const version = checkInt(msg.version, 0, 0xff, 'message version');
  const type = checkInt(msg.type, 0, 0xff, 'message type');
  const seq = checkInt(msg.seq, 0, 0xffff, 'message seq');
  const peer = checkInt(msg.peer, 0, 0xffffffff, 'message peer');
  const w = new BlobWriter();
  w.view.setUint32(0, ((version << 24) | (type << 16) | seq) >>> 0);
  w.view.setUint32(4, peer);
  w.pos = UBUS_MSGHDR_LEN;
  const root = w.begin(0);
  writeAttrs(w, msg.attrs, msg.type);
  w.end(root);
  // libubus refuses to send more than ubusd accepts (ubus_start_request); so do we.
  const rootLen = w.length - UBUS_MSGHDR_LEN;
  if (rootLen > UBUS_MAX_MSGLEN)
    throw encodeError(`ubus message of ${rootLen} bytes exceeds UBUS_MAX_MSGLEN (${UBUS_MAX_MSGLEN})`);
  return w.finish();
}

/** Attributes alone (a root payload): what a monitor's DATA or monitorMessage's DATA holds. */
export function encodeAttrs(attrs: readonly UbusAttr[], type: number = MsgType.INVOKE): Uint8Array {
  const w = new BlobWriter();
  writeAttrs(w, attrs, type);
  return w.finish();
}

function writeAttrs(w: BlobWriter, attrs: readonly UbusAttr[], type: number): void {
  for (const attr of attrs) {
    // Blobmsg as it was received and never read as nodes: the same bytes, as they came.
    const unread = attr.id === Attr.DATA || attr.id === Attr.SIGNATURE ? unreadBlobmsg.get(attr) : undefined;
    if (unread !== undefined) w.put(attr.id, unread);
    else writeAttr(w, attr, type === MsgType.MONITOR ? undefined : KINDS[attr.id]);
  }
}

function checkInt(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw encodeError(`${what} ${String(value)} is not an integer in ${min}..${max}`);
  }
  return value;
}

function writeAttr(w: BlobWriter, attr: UbusAttr, kind: Kind | undefined): void {
  const { id, value } = attr;
  if (value instanceof Uint8Array) return w.put(id, value);
  // The small fixed kinds in place (ids with a kind are valid ids): header and payload.
  switch (kind) {
    case 'int32':
    case 'u32': {
      // blob_put_int32 takes either signedness; ids are u32, STATUS is int32.
      if (typeof value !== 'number' || !Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff)
        checkInt(value, -0x80000000, 0xffffffff, `ubus attribute ${id}`);
      w.reserve(8);
      const at = w.pos;
      w.view.setUint32(at, (id << 24) | 8);
      w.view.setUint32(at + 4, (value as number) >>> 0);
      w.pos = at + 8;
      return;
    }
    case 'flag': {
      if (typeof value !== 'boolean') throw encodeError(`ubus attribute ${id} must be a boolean`);
      w.reserve(8);
      const at = w.pos;
      w.view.setUint32(at, (id << 24) | 5);
      w.buf[at + 4] = value ? 1 : 0;
      w.pos = at + 8; // padding: zero already
      return;
    }
    case 'string': {
      if (typeof value !== 'string') throw encodeError(`ubus attribute ${id} must be a string`);
      w.reserve(4 + value.length * 3 + 4);
      const at = w.pos;
      const end = writeUtf8(w.buf, at + 4, value);
      const rawLen = end + 1 - at; // the NUL is there: bytes past pos are zero
      if (rawLen > BLOB_ATTR_LEN_MASK) {
        w.buf.fill(0, at, end);
        throw encodeError(`blob attribute of ${rawLen} bytes exceeds the 24-bit length field`);
      }
      w.view.setUint32(at, (id << 24) | rawLen);
      w.pos = at + blobPadLen(rawLen);
      return;
    }
  }
  const start = w.begin(id);
  switch (kind) {
    case 'table':
      if (Array.isArray(value)) writeNodes(w, value as BlobmsgNode[], 0);
      else writeTableBody(w, value as BlobmsgTableInput);
      break;
    case 'signature':
      if (Array.isArray(value)) writeNodes(w, value as BlobmsgNode[], 0);
      else writeSignature(w, value as SignatureInput);
      break;
    case 'subscribers':
      if (!Array.isArray(value)) throw encodeError(`ubus attribute ${id} must be a list of object ids`);
      for (const objid of value) {
        const sub = w.begin(0);
        w.u32(checkInt(objid, 0, 0xffffffff, 'subscriber id'));
        w.end(sub);
      }
      break;
    default:
      throw encodeError(`ubus attribute ${id} has no known value kind: give its payload as a Uint8Array`);
  }
  w.end(start);
}

/** As libubus's ubus_push_object_type: one table per method, one INT32 per argument. */
function writeSignature(w: BlobWriter, signature: SignatureInput): void {
  if (typeof signature !== 'object' || signature === null) throw encodeError('a signature must be an object of methods');
  const table = Object.fromEntries(
    Object.entries(signature).map(([method, args]) => {
      if (typeof args !== 'object' || args === null)
        throw encodeError(`signature of ${method} must be an object of argument types`);
      return [method, Object.fromEntries(Object.entries(args).map(([arg, type]) => [arg, int32(type)]))];
    }),
  );
  writeTableBody(w, table);
}

// ---- reading a message -----------------------------------------------------------------

/** The attributes of a message by name, for reading. */
export interface UbusAttrs {
  status?: number;
  objpath?: string;
  objid?: number;
  method?: string;
  objtype?: number;
  signature?: Signature;
  data?: Record<string, BlobmsgValue>;
  target?: number;
  active?: boolean;
  noReply?: boolean;
  subscribers?: number[];
  user?: string;
  group?: string;
}

/**
 * The attributes as a record. Like libubus's blob_parse, a later attribute with the same
 * id wins and one that does not fit its kind (kept raw) is ignored. Monitor messages have
 * other ids: read them with decodeMonitor.
 */
export function attrsOf(msg: UbusMessage): UbusAttrs {
  const out: UbusAttrs = {};
  if (msg.type === MsgType.MONITOR) return out;
  for (const attr of msg.attrs) {
    if (attr.id === Attr.DATA || attr.id === Attr.SIGNATURE) {
      // Unread DATA goes straight from bytes to plain values (no nodes, and no node
      // cache left behind); blobmsg that does not decode is ignored, as kept raw is.
      const unread = unreadBlobmsg.get(attr);
      if (unread !== undefined) {
        if (attr.id === Attr.DATA) {
          const data = tryBlobmsgTable(unread);
          if (data !== undefined) out.data = data;
        } else {
          const nodes = tryBlobmsg(unread);
          if (nodes !== undefined) out.signature = signatureOfNodes(nodes);
        }
        continue;
      }
    }
    if (attr.value instanceof Uint8Array) continue;
    const v = attr.value;
    switch (attr.id) {
      case Attr.STATUS:
        out.status = v as number;
        break;
      case Attr.OBJPATH:
        out.objpath = v as string;
        break;
      case Attr.OBJID:
        out.objid = v as number;
        break;
      case Attr.METHOD:
        out.method = v as string;
        break;
      case Attr.OBJTYPE:
        out.objtype = v as number;
        break;
      case Attr.SIGNATURE:
        out.signature = Array.isArray(v) ? signatureOfNodes(v as BlobmsgNode[]) : (v as Signature);
        break;
      case Attr.DATA:
        out.data = Array.isArray(v) ? nodesToObject(v as BlobmsgNode[]) : (v as Record<string, BlobmsgValue>);
        break;
      case Attr.TARGET:
        out.target = v as number;
        break;
      case Attr.ACTIVE:
        out.active = v as boolean;
        break;
      case Attr.NO_REPLY:
        out.noReply = v as boolean;
        break;
      case Attr.SUBSCRIBERS:
        out.subscribers = v as number[];
        break;
      case Attr.USER:
        out.user = v as string;
        break;
      case Attr.GROUP:
        out.group = v as string;
        break;
    }
  }
  return out;
}

/** Signature nodes to `{ method: { arg: type } }`; anything but tables of integers is skipped. */
function signatureOfNodes(nodes: readonly BlobmsgNode[]): Signature {
  const methods: Array<[string, Record<string, number>]> = [];
  for (const node of nodes) {
    if (node.type !== 'table' || node.children === undefined) continue;
    const args: Array<[string, number]> = [];
    for (const arg of node.children) if (typeof arg.value === 'number') args.push([arg.name, arg.value]);
    methods.push([node.name, firstWins(args)]);
  }
  return firstWins(methods);
}

/** Object.fromEntries keeps the last of a repeated key; blobmsg_parse keeps the first. */
function firstWins<T>(entries: ReadonlyArray<[string, T]>): Record<string, T> {
  const seen = new Set<string>();
  return Object.fromEntries(entries.filter(([key]) => !seen.has(key) && seen.add(key)));
}

// ---- monitor ---------------------------------------------------------------------------

/** One UBUS_MSG_MONITOR: a message ubusd received (send false) or sent (send true). */
export interface MonitorRecord {
  /** The id of the client whose socket it passed. */
  client: number;
  send: boolean;
  /** The monitored message (its header rebuilt from UBUS_MONITOR_PEER/SEQ/TYPE). */
  message: UbusMessage;
}

/** Reads a monitor message (ubusd_monitor.c: CLIENT, PEER, SEQ, TYPE as int32, SEND int8, DATA). */
export function decodeMonitor(msg: UbusMessage): MonitorRecord {
  if (msg.type !== MsgType.MONITOR) throw protocolError(`message type ${msg.type} is not UBUS_MSG_MONITOR`);
  const fields = new Map<number, Uint8Array>();
  for (const attr of msg.attrs) {
    if (!(attr.value instanceof Uint8Array)) throw protocolError('monitor attributes must be raw, as decodeMessage leaves them');
    fields.set(attr.id, attr.value);
  }
  const u32 = (id: number, name: string, max: number): number => {
    const data = fields.get(id);
    if (data === undefined || data.length !== 4) throw protocolError(`monitor message without a 4-byte ${name}`);
    const value = viewOf(data).getUint32(0);
    if (value > max) throw protocolError(`monitor ${name} ${value} is out of range`);
    return value;
  };
  const send = fields.get(MonitorAttr.SEND);
  if (send === undefined || send.length !== 1) throw protocolError('monitor message without a 1-byte SEND');
  const data = fields.get(MonitorAttr.DATA);
  if (data === undefined) throw protocolError('monitor message without DATA');
  const type = u32(MonitorAttr.TYPE, 'TYPE', 0xff);
  return {
    client: u32(MonitorAttr.CLIENT, 'CLIENT', 0xffffffff),
    send: send[0] !== 0,
    message: {
      version: 0,
      type,
      seq: u32(MonitorAttr.SEQ, 'SEQ', 0xffff),
      peer: u32(MonitorAttr.PEER, 'PEER', 0xffffffff),
      attrs: decodeAttrs(data, type),
    },
  };
}

// ---- what a client sends, in libubus's attribute order -----------------------------------

const msg = (type: number, seq: number, peer: number, attrs: UbusAttr[]): UbusMessage => ({ version: 0, type, seq, peer, attrs });

/** ubus_lookup / ubus_lookup_id: without a path, every object (`ubus list`). */
export function lookupMessage(seq: number, path?: string): UbusMessage {
  return msg(MsgType.LOOKUP, seq, 0, path === undefined ? [] : [{ id: Attr.OBJPATH, value: path }]);
}

/** ubus_invoke: DATA only when there is a table (the CLI always sends one, maybe empty). */
export function invokeMessage(seq: number, objid: number, method: string, data?: BlobmsgTableInput): UbusMessage {
  const attrs: UbusAttr[] = [
    { id: Attr.OBJID, value: objid },
    { id: Attr.METHOD, value: method },
  ];
  if (data !== undefined) attrs.push({ id: Attr.DATA, value: data });
  return msg(MsgType.INVOKE, seq, objid, attrs);
}

/** ubus_send_reply: one DATA answer to an INVOKE (seq and peer from the INVOKE's header). */
export function dataMessage(seq: number, peer: number, objid: number, data: BlobmsgTableInput): UbusMessage {
  return msg(MsgType.DATA, seq, peer, [
    { id: Attr.OBJID, value: objid },
    { id: Attr.DATA, value: data },
  ]);
}

/** ubus_complete_deferred_request: the STATUS that ends an answer (after any DATA). */
export function statusMessage(seq: number, peer: number, status: number, objid: number): UbusMessage {
  return msg(MsgType.STATUS, seq, peer, [
    { id: Attr.STATUS, value: status },
    { id: Attr.OBJID, value: objid },
  ]);
}

/**
 * ubus_add_object: a named object with its signature (or the type id ubusd gave an
 * earlier object of the same type); no argument for the anonymous objects libubus uses to
 * receive events and notifications.
 */
export function addObjectMessage(
  seq: number,
  object?: { path: string; signature?: SignatureInput; objtype?: number },
): UbusMessage {
  const attrs: UbusAttr[] = [];
  if (object !== undefined) {
    attrs.push({ id: Attr.OBJPATH, value: object.path });
    if (object.objtype !== undefined && object.objtype !== 0) attrs.push({ id: Attr.OBJTYPE, value: object.objtype });
    else attrs.push({ id: Attr.SIGNATURE, value: object.signature ?? {} });
  }
  return msg(MsgType.ADD_OBJECT, seq, 0, attrs);
}

export function removeObjectMessage(seq: number, objid: number): UbusMessage {
  return msg(MsgType.REMOVE_OBJECT, seq, 0, [{ id: Attr.OBJID, value: objid }]);
}

/** ubus_subscribe: our (anonymous) subscriber object, then the object to watch. */
export function subscribeMessage(seq: number, objid: number, target: number): UbusMessage {
  return msg(MsgType.SUBSCRIBE, seq, 0, [
    { id: Attr.OBJID, value: objid },
    { id: Attr.TARGET, value: target },
  ]);
}

export function unsubscribeMessage(seq: number, objid: number, target: number): UbusMessage {
  return msg(MsgType.UNSUBSCRIBE, seq, 0, [
    { id: Attr.OBJID, value: objid },
    { id: Attr.TARGET, value: target },
  ]);
}

/**
 * ubus_notify: NO_REPLY (when subscribers' answers are not awaited, timeout < 0) comes
 * after DATA in the captured libubus, not before as older libubus sources have it.
 */
export function notifyMessage(
  seq: number,
  objid: number,
  type: string,
  data?: BlobmsgTableInput,
  options: { noReply?: boolean } = {},
): UbusMessage {
  const attrs: UbusAttr[] = [
    { id: Attr.OBJID, value: objid },
    { id: Attr.METHOD, value: type },
  ];
  if (data !== undefined) attrs.push({ id: Attr.DATA, value: data });
  if (options.noReply) attrs.push({ id: Attr.NO_REPLY, value: true });
  return msg(MsgType.NOTIFY, seq, objid, attrs);
}

/**
 * ubus_register_event_handler: INVOKE `register` on ubusd's event object. libubus puts
 * the object id with blobmsg_add_u32, so it is an INT32 even above 2^31 (a plain number
 * that large would become an INT64).
 */
export function eventRegisterMessage(seq: number, objid: number, pattern?: string): UbusMessage {
  const data: Record<string, unknown> = { object: int32(objid) };
  if (pattern !== undefined) data.pattern = pattern;
  return invokeMessage(seq, SystemObject.EVENT, 'register', data);
}

/** ubus_send_event: INVOKE `send` on the event object with `{ id: <event>, data: <table> }`. */
export function eventSendMessage(seq: number, event: string, data: BlobmsgTableInput = {}): UbusMessage {
  return invokeMessage(seq, SystemObject.EVENT, 'send', { id: event, data });
}

/**
 * `ubus monitor` start/stop: INVOKE `add`/`remove` on ubusd's monitor object. libubus
 * passes its shared blob_buf as the argument and then rebuilds that same buffer for the
 * request, so DATA is a copy of the message's own OBJID and METHOD attributes (not
 * blobmsg). ubusd ignores it; we send the same bytes.
 */
export function monitorMessage(seq: number, method: 'add' | 'remove'): UbusMessage {
  const head: UbusAttr[] = [
    { id: Attr.OBJID, value: SystemObject.MONITOR },
    { id: Attr.METHOD, value: method },
  ];
  return msg(MsgType.INVOKE, seq, SystemObject.MONITOR, [...head, { id: Attr.DATA, value: encodeAttrs(head) }]);
}
