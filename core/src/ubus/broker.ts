/**
 * A ubus broker: what ubusd does, in TypeScript, on whichever engine runs us. Debian has
 * no ubusd, so development hosts, CI and the network-namespace lab run this one
 * (`wrtkit ubusd`); on OpenWrt the real ubusd stays in charge.
 *
 * It follows openwrt/ubus (ubusd.c, ubusd_main.c, ubusd_proto.c, ubusd_obj.c,
 * ubusd_event.c, ubusd_monitor.c) as the captures in core/test/fixtures/ubus show it, and
 * answers byte for byte as ubusd does there (core/test/ubus/broker.test.ts replays every
 * captured connection against it; only the ids ubusd draws at random differ):
 *
 * - accept: HELLO with a random client id;
 * - LOOKUP by path, by `prefix*`, or everything: one DATA per typed object (OBJPATH,
 *   OBJID, OBJTYPE, SIGNATURE) then STATUS; NOT_FOUND when a path matches nothing;
 * - INVOKE: forwarded to the owner with peer = caller and USER/GROUP added; the owner's
 *   DATA/STATUS answers go back to the caller with peer = the object id; objects 1 (events:
 *   `register`, `send`), 2 (ACL: `query`) and 3 (monitor: `add`, `remove`) are ubusd's own;
 * - ADD_OBJECT (with SIGNATURE, with the OBJTYPE of an existing type, or anonymous) and
 *   REMOVE_OBJECT, with the `ubus.object.add` / `ubus.object.remove` events;
 * - events: patterns with a trailing `*`, delivered as INVOKE with peer 0 and METHOD = the
 *   event name, never back to the sender, once per object; the listeners' STATUS answers
 *   are dropped (they address client 0);
 * - SUBSCRIBE / UNSUBSCRIBE with NOTIFY ACTIVE to the owner when the first subscriber comes
 *   and the last one goes; an owner's NOTIFY goes to every subscriber as INVOKE;
 * - UBUS_MSG_MONITOR copies of every message received and sent, to each monitor;
 * - a client that goes away loses its objects, subscriptions and event registrations;
 * - frames above UBUS_MAX_MSGLEN, and bytes that are not a ubus message, drop that client.
 *
 * Differences from ubusd, on purpose: there are no ACL files, and every client is treated
 * as root (ubusd adds the peer's user and group, from SO_PEERCRED, to forwarded calls; the
 * Platform cannot tell a peer's credentials, so USER/GROUP are `options.identity`, by
 * default "root"/"root", as ubusd gives them for root clients). A root blob whose
 * attributes overrun it drops the client (ubusd parses what it can and goes on). Sends are
 * queued without ubusd's 32-message backlog limit. Ids come from crypto.getRandomValues
 * where the engine has it (Node), else Math.random (QuickJS); they only need to be hard to
 * guess by accident, as ubusd's are.
 *
 * A message is handled entirely when it is read, in the order read: what a client sends
 * is never reordered, and answers on one connection come in the order ubusd sends them.
 */
import type { Clock } from '../clock/clock.js';
import { ErrorCodes, WrtkitError, messageOf } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Connection, SocketServer, Sockets } from '../platform/platform.js';
import { utf8Decode } from '../util/utf8.js';
import { BLOB_ATTR_LEN_MASK, BLOB_HDR_LEN, BlobWriter, protocolError, readBlobAttrs } from './blob.js';
import { Attr, BlobmsgType, MonitorAttr, MsgType, Status, SystemObject } from './constants.js';
import { UBUS_FRAME_HEAD_LEN, frameLength } from './message.js';

/** Ids below this are ubusd's own objects (UBUS_SYSTEM_OBJECT_MAX). */
const SYSTEM_OBJECT_MAX = 1024;
/** How long close() waits for the listening socket to shut, given a clock. */
const CLOSE_WAIT_MS = 1000;
/** No status message follows (the handler answered itself, or nothing answers). */
const NO_STATUS = -1;

export interface BrokerOptions {
  sockets: Sockets;
  /** The socket to listen on (a stale socket file is replaced; a live one is refused). */
  path: string;
  /**
   * Bounds how long close() waits for the listening socket to shut (Node's waits for
   * every connection to be closed by its peer, and a stuck peer would hold it forever).
   * ubusd keeps no other timers and neither does the broker. Without it, close() waits.
   */
  clock?: Clock;
  log?: Logger;
  /** USER and GROUP added to forwarded calls and notifications (default root/root). */
  identity?: { user: string; group: string };
}

export interface Broker {
  readonly path: string;
  /** Connected clients. */
  readonly clients: number;
  /** Stops listening (removes the socket file) and closes every client connection. */
  close(): Promise<void>;
}

/** Listens on `options.path` and serves ubus until closed. */
export async function startBroker(options: BrokerOptions): Promise<Broker> {
  const broker = new UbusBroker(options);
  await broker.listen();
  return broker;
}

// ---- state -------------------------------------------------------------------------------

interface ObjectType {
  id: number;
  refs: number;
  /** The SIGNATURE nest as ubusd sends it: each method's blobmsg table, padded. */
  signature: Uint8Array;
}

interface Subscription {
  subscriber: BusObject;
  target: BusObject;
}

interface EventSource {
  obj: BusObject;
  /** The pattern without its trailing `*`. */
  key: string;
  partial: boolean;
}

type SystemHandler = (cl: Client, seq: number, peer: number, method: string, attrs: Attrs) => number;

interface BusObject {
  id: number;
  /** The owner; undefined for ubusd's own objects. */
  client: Client | undefined;
  type: ObjectType | undefined;
  path: string | undefined;
  pathBytes: Uint8Array | undefined;
  /** Header seq of NOTIFY/UNSUBSCRIBE messages about this object (ubusd's invoke_seq). */
  invokeSeq: number;
  /** The last event delivered here (ubusd's event_seen): one delivery per event. */
  eventSeen: number;
  /** Newest first, as ubusd's list_add keeps them. */
  subscribers: Subscription[];
  /** What this object is subscribed to, newest first. */
  targets: Subscription[];
  events: EventSource[];
  system: SystemHandler | undefined;
  /** OBJPATH, OBJID, OBJTYPE, SIGNATURE as a LOOKUP answer carries them (built once). */
  lookupAttrs: Uint8Array | undefined;
}

interface Client {
  id: number;
  conn: Connection;
  /** Newest first: ubusd frees them in that order when the client goes. */
  objects: BusObject[];
  gone: boolean;
  /** A header that arrived in pieces. */
  head: Uint8Array;
  headLen: number;
  /** A frame whose length is known, being filled. */
  partial: { frame: Uint8Array; filled: number } | undefined;
}

interface Monitor {
  client: Client;
  seq: number;
}

/** The attributes ubusd's policy accepts (ubusd_proto.c ubus_policy): a later one wins, a misfit is ignored. */
interface Attrs {
  status?: number;
  objpath?: Uint8Array;
  objid?: number;
  method?: Uint8Array;
  objtype?: number;
  signature?: Uint8Array;
  data?: Uint8Array;
  target?: number;
  noReply?: number;
}

// ---- byte helpers ------------------------------------------------------------------------

function u32At(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}

function setU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

function setU16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = (value >>> 8) & 0xff;
  bytes[at + 1] = value & 0xff;
}

/** A C string attribute (blob_check_type STRING: NUL-terminated) up to its first NUL. */
function cString(data: Uint8Array): Uint8Array | undefined {
  if (data.length === 0 || data[data.length - 1] !== 0) return undefined;
  return data.subarray(0, data.indexOf(0));
}

/**
 * The root's attributes, read in place (this runs for every message, so no views or
 * attribute objects). Attributes must fill the root exactly, as readBlobAttrs requires;
 * anything else is a malformed message.
 */
function parseAttrs(payload: Uint8Array): Attrs {
  const out: Attrs = {};
  let at = 0;
  while (at < payload.length) {
    if (payload.length - at < BLOB_HDR_LEN)
      throw protocolError(`ubus message: ${payload.length - at} stray byte(s) after the last attribute`);
    const idLen = u32At(payload, at);
    const rawLen = idLen & BLOB_ATTR_LEN_MASK;
    const next = at + ((rawLen + 3) & ~3);
    if (rawLen < BLOB_HDR_LEN || next > payload.length) {
      throw protocolError(`ubus message: attribute of ${rawLen} bytes does not fit (${payload.length - at} left)`);
    }
    const start = at + BLOB_HDR_LEN;
    const len = rawLen - BLOB_HDR_LEN;
    switch ((idLen >>> 24) & 0x7f) {
      case Attr.STATUS:
        if (len === 4) out.status = u32At(payload, start) | 0;
        break;
      case Attr.OBJID:
        if (len === 4) out.objid = u32At(payload, start);
        break;
      case Attr.OBJTYPE:
        if (len === 4) out.objtype = u32At(payload, start);
        break;
      case Attr.OBJPATH: {
        const s = cString(payload.subarray(start, start + len));
        if (s) out.objpath = s;
        break;
      }
      case Attr.METHOD: {
        const s = cString(payload.subarray(start, start + len));
        if (s) out.method = s;
        break;
      }
      case Attr.SIGNATURE:
        out.signature = payload.subarray(start, start + len);
        break;
      case Attr.DATA:
        out.data = payload.subarray(start, start + len);
        break;
      // No policy for these in ubusd: it reads the first bytes of whatever is there.
      case Attr.TARGET:
        if (len >= 4) out.target = u32At(payload, start);
        break;
      case Attr.NO_REPLY:
        if (len >= 1) out.noReply = payload[start] as number;
        break;
    }
    at = next;
  }
  return out;
}

interface BlobmsgField {
  type: number;
  name: string;
  /** The value, after the name header (blobmsg_data). */
  value: Uint8Array;
}

/**
 * The top-level fields of a blobmsg table as blobmsg_parse sees them (first of a name
 * wins). Anything that is not well-formed blobmsg makes the whole table unusable, as
 * blobmsg_parse's blobmsg_check_attr does.
 */
function blobmsgFields(data: Uint8Array | undefined): Map<string, BlobmsgField> | undefined {
  if (data === undefined) return undefined;
  const fields = new Map<string, BlobmsgField>();
  let attrs;
  try {
    attrs = readBlobAttrs(data, 'blobmsg');
  } catch {
    return undefined;
  }
  for (const attr of attrs) {
    const field = blobmsgField(attr.id, attr.extended, attr.data, true);
    if (!field) return undefined;
    if (!fields.has(field.name)) fields.set(field.name, field);
  }
  return fields;
}

/** blobmsg_check_attr: an extended attribute, a (named) header, a payload that fits the type. */
function blobmsgField(id: number, extended: boolean, data: Uint8Array, named: boolean): BlobmsgField | undefined {
  if (!extended || data.length < 3 || id > BlobmsgType.DOUBLE) return undefined;
  const namelen = ((data[0] as number) << 8) | (data[1] as number);
  if (named && namelen === 0) return undefined;
  const hdrLen = (2 + namelen + 1 + 3) & ~3;
  if (data.length < hdrLen || data[2 + namelen] !== 0) return undefined;
  const value = data.subarray(hdrLen);
  const sizes: Partial<Record<number, number>> = {
    [BlobmsgType.INT8]: 1,
    [BlobmsgType.INT16]: 2,
    [BlobmsgType.INT32]: 4,
    [BlobmsgType.INT64]: 8,
    [BlobmsgType.DOUBLE]: 8,
  };
  const size = sizes[id];
  if (size !== undefined && value.length !== size) return undefined;
  if (id === BlobmsgType.STRING && (value.length === 0 || value[value.length - 1] !== 0)) return undefined;
  return { type: id, name: utf8Decode(data.subarray(2, 2 + namelen)), value };
}

/** A random id of 32 bits at or above SYSTEM_OBJECT_MAX (ubusd_id.c draws from getrandom). */
function randomId(): number {
  const crypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint32Array) => Uint32Array } }).crypto;
  for (;;) {
    const id = crypto?.getRandomValues
      ? (crypto.getRandomValues(new Uint32Array(1))[0] as number)
      : Math.floor(Math.random() * 0x100000000) >>> 0;
    if (id >= SYSTEM_OBJECT_MAX) return id;
  }
}

/** Byte order of strcmp on UTF-8 is code point order; UTF-16 code units agree on the BMP. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** ubus_strmatch_len: whether the strings are equal, and how many leading characters agree. */
function matchLength(a: string, b: string): { full: boolean; length: number } {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return { full: i === a.length && i === b.length, length: i };
}

// ---- building messages -------------------------------------------------------------------

function frameWriter(type: number, seq: number, peer: number, size = 128): { w: BlobWriter; root: number } {
  const w = new BlobWriter(size);
  w.u8(0);
  w.u8(type);
  w.u16(seq & 0xffff);
  w.u32(peer);
  return { w, root: w.begin(0) };
}

function finishFrame({ w, root }: { w: BlobWriter; root: number }): Uint8Array {
  w.end(root);
  return w.finish();
}

function putU32(w: BlobWriter, id: number, value: number): void {
  const start = w.begin(id);
  w.u32(value);
  w.end(start);
}

function putU8(w: BlobWriter, id: number, value: number): void {
  const start = w.begin(id);
  w.u8(value);
  w.end(start);
}

function putCString(w: BlobWriter, id: number, bytes: Uint8Array): void {
  const start = w.begin(id);
  w.bytes(bytes);
  w.u8(0);
  w.end(start);
}

/** A blobmsg attribute's header and name (blobmsg_new); returns the token for `w.end`. */
function beginBlobmsg(w: BlobWriter, type: number, name: string): number {
  const start = w.begin(type, true);
  w.u16(name.length);
  for (let i = 0; i < name.length; i++) w.u8(name.charCodeAt(i)); // ASCII names only here
  w.zeros(((2 + name.length + 1 + 3) & ~3) - 2 - name.length);
  return start;
}

/** A STATUS message with only the status (ubusd's per-client retmsg). */
function statusFrame(seq: number, peer: number, status: number): Uint8Array {
  const f = frameWriter(MsgType.STATUS, seq, peer, 32);
  putU32(f.w, Attr.STATUS, status);
  return finishFrame(f);
}

// ---- the broker --------------------------------------------------------------------------

class UbusBroker implements Broker {
  private server: SocketServer | undefined;
  private closed = false;
  private readonly clientsById = new Map<number, Client>();
  private readonly objects = new Map<number, BusObject>();
  private readonly types = new Map<number, ObjectType>();
  /** Named objects by path, and their paths sorted (ubusd's `path` AVL tree). */
  private readonly byPath = new Map<string, BusObject>();
  private readonly paths: string[] = [];
  /** Event patterns sorted by key, equal keys in registration order (ubusd's `patterns`). */
  private readonly patterns: EventSource[] = [];
  private readonly monitors: Monitor[] = [];
  private eventSeq = 0;
  private objEventSeq = 1;
  private readonly user: Uint8Array;
  private readonly group: Uint8Array;

  constructor(private readonly options: BrokerOptions) {
    const identity = options.identity ?? { user: 'root', group: 'root' };
    this.user = asciiBytes(identity.user);
    this.group = asciiBytes(identity.group);
    this.systemObject(SystemObject.EVENT, (cl, _seq, _peer, method, attrs) => this.eventCall(cl, method, attrs));
    this.systemObject(SystemObject.ACL, (cl, seq, peer, method, attrs) => this.aclCall(cl, seq, peer, method, attrs));
    this.systemObject(SystemObject.MONITOR, (cl, _seq, _peer, method) => this.monitorCall(cl, method));
  }

  get path(): string {
    return this.options.path;
  }

  get clients(): number {
    return this.clientsById.size;
  }

  async listen(): Promise<void> {
    this.server = await this.options.sockets.listen(this.options.path, (conn) => this.accept(conn));
    this.options.log?.info('ubus broker listening', { path: this.options.path });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopped = this.server?.close();
    // As when ubusd exits: connections close, nobody is told anything. They are closed
    // before waiting for the server: Node's server.close() waits for its connections.
    for (const cl of this.clientsById.values()) {
      cl.gone = true;
      cl.conn.close();
    }
    this.clientsById.clear();
    this.monitors.length = 0;
    const clock = this.options.clock;
    await (clock ? Promise.race([stopped, clock.sleep(CLOSE_WAIT_MS)]) : stopped);
  }

  // ---- connections ---------------------------------------------------------------------

  private accept(conn: Connection): void {
    if (this.closed) {
      conn.close();
      return;
    }
    const cl: Client = {
      id: this.allocId(this.clientsById),
      conn,
      objects: [],
      gone: false,
      head: new Uint8Array(UBUS_FRAME_HEAD_LEN),
      headLen: 0,
      partial: undefined,
    };
    this.clientsById.set(cl.id, cl);
    conn.onData((chunk) => this.onData(cl, chunk));
    conn.onClose(() => this.disconnect(cl));
    this.options.log?.debug('ubus client connected', { client: cl.id });
    this.send(cl, finishFrame(frameWriter(MsgType.HELLO, 0, cl.id, 16)));
  }

  /** Splits the stream into frames and handles each as it completes. */
  private onData(cl: Client, chunk: Uint8Array): void {
    let at = 0;
    try {
      while (!cl.gone && at < chunk.length) {
        const partial = cl.partial;
        if (partial) {
          const n = Math.min(partial.frame.length - partial.filled, chunk.length - at);
          partial.frame.set(chunk.subarray(at, at + n), partial.filled);
          partial.filled += n;
          at += n;
          if (partial.filled < partial.frame.length) return;
          cl.partial = undefined;
          this.receive(cl, partial.frame);
          continue;
        }
        if (cl.headLen > 0 || chunk.length - at < UBUS_FRAME_HEAD_LEN) {
          const n = Math.min(UBUS_FRAME_HEAD_LEN - cl.headLen, chunk.length - at);
          cl.head.set(chunk.subarray(at, at + n), cl.headLen);
          cl.headLen += n;
          at += n;
          if (cl.headLen < UBUS_FRAME_HEAD_LEN) return;
          cl.headLen = 0;
          const frame = new Uint8Array(frameLength(cl.head));
          frame.set(cl.head);
          if (frame.length === UBUS_FRAME_HEAD_LEN) this.receive(cl, frame);
          else cl.partial = { frame, filled: UBUS_FRAME_HEAD_LEN };
          continue;
        }
        const length = frameLength(chunk.subarray(at, at + UBUS_FRAME_HEAD_LEN));
        if (chunk.length - at >= length) {
          this.receive(cl, chunk.subarray(at, at + length));
          at += length;
          continue;
        }
        const frame = new Uint8Array(length);
        frame.set(chunk.subarray(at));
        cl.partial = { frame, filled: chunk.length - at };
        return;
      }
    } catch (error) {
      // No frame markers: a stream that went wrong cannot be followed any further. (Any
      // other failure is a bug here; it costs that client its connection, not the broker.)
      if (error instanceof WrtkitError && error.code === ErrorCodes.UBUS_PROTOCOL) {
        this.options.log?.warn('ubus client sent a malformed message; dropping it', { client: cl.id, error: messageOf(error) });
      } else {
        this.options.log?.error('ubus broker failed on a message; dropping the client', {
          client: cl.id,
          error: messageOf(error),
        });
      }
      cl.conn.close();
      this.disconnect(cl);
    }
  }

  /** The client is gone: its objects go with it (ubusd_proto_free_client). */
  private disconnect(cl: Client): void {
    if (cl.gone) return;
    cl.gone = true;
    this.removeMonitor(cl);
    for (const obj of [...cl.objects]) this.freeObject(obj);
    this.clientsById.delete(cl.id);
    this.options.log?.debug('ubus client disconnected', { client: cl.id });
  }

  /** ubus_msg_send: monitors see it first, then it is written. */
  private send(cl: Client, frame: Uint8Array): void {
    if (frame[1] !== MsgType.MONITOR) this.monitor(cl, frame, true);
    if (!cl.gone) cl.conn.write(frame);
  }

  private allocId(used: ReadonlyMap<number, unknown>): number {
    for (;;) {
      const id = randomId();
      if (!used.has(id)) return id;
    }
  }

  // ---- messages ------------------------------------------------------------------------

  private receive(cl: Client, frame: Uint8Array): void {
    this.monitor(cl, frame, false);
    const type = frame[1] as number;
    const seq = ((frame[2] as number) << 8) | (frame[3] as number);
    const peer = u32At(frame, 4);
    const attrs = parseAttrs(frame.subarray(UBUS_FRAME_HEAD_LEN));
    let status: number;
    switch (type) {
      case MsgType.PING: {
        const pong = frame.slice();
        pong[1] = MsgType.DATA;
        this.send(cl, pong);
        status = Status.OK;
        break;
      }
      case MsgType.ADD_OBJECT:
        status = this.addObject(cl, seq, peer, attrs);
        break;
      case MsgType.REMOVE_OBJECT:
        status = this.removeObject(cl, seq, peer, attrs);
        break;
      case MsgType.LOOKUP:
        status = this.lookup(cl, seq, peer, attrs);
        break;
      case MsgType.INVOKE:
        status = this.invoke(cl, seq, peer, attrs);
        break;
      case MsgType.STATUS:
      case MsgType.DATA:
        status = this.response(cl, frame, type, attrs);
        break;
      case MsgType.SUBSCRIBE:
        status = this.subscribe(cl, attrs);
        break;
      case MsgType.UNSUBSCRIBE:
        status = this.unsubscribeCall(cl, attrs);
        break;
      case MsgType.NOTIFY:
        status = this.notify(cl, seq, peer, attrs);
        break;
      default:
        status = Status.INVALID_COMMAND;
    }
    if (status !== NO_STATUS) this.send(cl, statusFrame(seq, peer, status));
  }

  private lookup(cl: Client, seq: number, peer: number, attrs: Attrs): number {
    if (attrs.objpath === undefined) {
      for (const path of this.paths) this.sendObject(cl, seq, peer, this.byPath.get(path) as BusObject);
      return Status.OK;
    }
    const pattern = utf8Decode(attrs.objpath);
    if (pattern.length === 0) return Status.INVALID_ARGUMENT;
    if (!pattern.endsWith('*')) {
      const obj = this.byPath.get(pattern);
      if (!obj) return Status.NOT_FOUND;
      this.sendObject(cl, seq, peer, obj);
      return Status.OK;
    }
    const prefix = pattern.slice(0, -1);
    let found = false;
    for (let i = lowerBound(this.paths, prefix); i < this.paths.length; i++) {
      const path = this.paths[i] as string;
      if (!path.startsWith(prefix)) break;
      found = true;
      this.sendObject(cl, seq, peer, this.byPath.get(path) as BusObject);
    }
    return found ? Status.OK : Status.NOT_FOUND;
  }

  /** One LOOKUP answer; objects without a type are found but not shown (ubusd_send_obj). */
  private sendObject(cl: Client, seq: number, peer: number, obj: BusObject): void {
    const type = obj.type;
    if (!type) return;
    if (!obj.lookupAttrs) {
      const w = new BlobWriter(type.signature.length + (obj.pathBytes?.length ?? 0) + 48);
      putCString(w, Attr.OBJPATH, obj.pathBytes as Uint8Array);
      putU32(w, Attr.OBJID, obj.id);
      putU32(w, Attr.OBJTYPE, type.id);
      w.put(Attr.SIGNATURE, type.signature);
      obj.lookupAttrs = w.finish();
    }
    const f = frameWriter(MsgType.DATA, seq, peer, obj.lookupAttrs.length + 16);
    f.w.bytes(obj.lookupAttrs);
    this.send(cl, finishFrame(f));
  }

  private invoke(cl: Client, seq: number, peer: number, attrs: Attrs): number {
    if (attrs.method === undefined || attrs.objid === undefined) return Status.INVALID_ARGUMENT;
    const obj = this.objects.get(attrs.objid);
    if (!obj) return Status.NOT_FOUND;
    if (!obj.client) return (obj.system as SystemHandler)(cl, seq, peer, utf8Decode(attrs.method), attrs);
    this.forwardInvoke(obj, seq, cl.id, attrs.method, attrs.data, false);
    return NO_STATUS;
  }

  /**
   * ubusd_forward_invoke: [NO_REPLY], OBJID, METHOD, USER, GROUP, [DATA] to the object's
   * owner. Every call passes here, so the message is laid out at its exact size at once.
   */
  private forwardInvoke(
    obj: BusObject,
    seq: number,
    peer: number,
    method: Uint8Array,
    data: Uint8Array | undefined,
    noReply: boolean,
  ): void {
    const padded = (n: number) => (BLOB_HDR_LEN + n + 3) & ~3;
    const rootLen =
      BLOB_HDR_LEN +
      (noReply ? padded(1) : 0) +
      padded(4) +
      padded(method.length + 1) +
      padded(this.user.length + 1) +
      padded(this.group.length + 1) +
      (data ? padded(data.length) : 0);
    const frame = new Uint8Array(8 + rootLen);
    frame[1] = MsgType.INVOKE;
    setU16(frame, 2, seq);
    setU32(frame, 4, peer);
    setU32(frame, 8, rootLen);
    let at = 12;
    const attr = (id: number, payloadLen: number): number => {
      setU32(frame, at, ((id << 24) | (BLOB_HDR_LEN + payloadLen)) >>> 0);
      const start = at + BLOB_HDR_LEN;
      at += padded(payloadLen);
      return start;
    };
    if (noReply) frame[attr(Attr.NO_REPLY, 1)] = 1;
    setU32(frame, attr(Attr.OBJID, 4), obj.id);
    frame.set(method, attr(Attr.METHOD, method.length + 1));
    frame.set(this.user, attr(Attr.USER, this.user.length + 1));
    frame.set(this.group, attr(Attr.GROUP, this.group.length + 1));
    if (data) frame.set(data, attr(Attr.DATA, data.length));
    this.send(obj.client as Client, frame);
  }

  /** An owner's DATA or STATUS for a call: to the caller, with peer = the object id. */
  private response(cl: Client, frame: Uint8Array, type: number, attrs: Attrs): number {
    if (attrs.objid === undefined) return NO_STATUS;
    if (type === MsgType.STATUS && attrs.status === undefined) return NO_STATUS;
    if (type === MsgType.DATA && attrs.data === undefined) return NO_STATUS;
    const obj = this.objects.get(attrs.objid);
    if (!obj || obj.client !== cl) return NO_STATUS;
    const caller = this.clientsById.get(u32At(frame, 4));
    if (!caller) return NO_STATUS;
    const copy = frame.slice();
    setU32(copy, 4, attrs.objid);
    this.send(caller, copy);
    return NO_STATUS;
  }

  // ---- objects -------------------------------------------------------------------------

  private systemObject(id: number, handler: SystemHandler): void {
    const obj = this.newObject(id, undefined);
    obj.system = handler;
    this.objects.set(id, obj);
  }

  private newObject(id: number, type: ObjectType | undefined): BusObject {
    if (type) type.refs++;
    return {
      id,
      client: undefined,
      type,
      path: undefined,
      pathBytes: undefined,
      invokeSeq: 0,
      eventSeen: 0,
      subscribers: [],
      targets: [],
      events: [],
      system: undefined,
      lookupAttrs: undefined,
    };
  }

  private addObject(cl: Client, seq: number, peer: number, attrs: Attrs): number {
    let type: ObjectType | undefined;
    if (attrs.objtype !== undefined) {
      type = this.types.get(attrs.objtype);
      if (type) type.refs++;
    } else if (attrs.signature !== undefined) {
      type = this.createType(attrs.signature);
    }
    const obj = this.newObject(this.allocId(this.objects), type);
    this.objects.set(obj.id, obj);
    if (type) this.unrefType(type);
    if (attrs.objpath !== undefined) {
      const path = utf8Decode(attrs.objpath);
      if (this.byPath.has(path)) {
        this.freeObject(obj);
        return Status.INVALID_ARGUMENT;
      }
      obj.path = path;
      obj.pathBytes = attrs.objpath.slice();
      this.byPath.set(path, obj);
      this.paths.splice(lowerBound(this.paths, path), 0, path);
      this.objectEvent(obj, true);
    }
    obj.client = cl;
    cl.objects.unshift(obj);
    const f = frameWriter(MsgType.DATA, seq, peer, 48);
    putU32(f.w, Attr.OBJID, obj.id);
    if (attrs.signature !== undefined && obj.type) putU32(f.w, Attr.OBJTYPE, obj.type.id);
    this.send(cl, finishFrame(f));
    return Status.OK;
  }

  /**
   * A type from a SIGNATURE: one blobmsg table per method, each a named blobmsg attribute
   * (ubusd stores them as they came, checking only their headers). A bad one leaves the
   * object without a type: it exists but LOOKUP does not show it, as in ubusd.
   */
  private createType(signature: Uint8Array): ObjectType | undefined {
    let methods;
    try {
      methods = readBlobAttrs(signature, 'signature');
    } catch {
      return undefined;
    }
    const w = new BlobWriter(signature.length + 4);
    for (const method of methods) {
      if (!blobmsgField(method.id, method.extended, method.data, true)) return undefined;
      const start = w.begin(method.id, true);
      w.bytes(method.data);
      w.end(start);
    }
    const type: ObjectType = { id: this.allocId(this.types), refs: 1, signature: w.finish() };
    this.types.set(type.id, type);
    return type;
  }

  private unrefType(type: ObjectType): void {
    if (--type.refs > 0) return;
    this.types.delete(type.id);
  }

  private removeObject(cl: Client, seq: number, peer: number, attrs: Attrs): number {
    if (attrs.objid === undefined) return Status.INVALID_ARGUMENT;
    const obj = this.objects.get(attrs.objid);
    if (!obj) return Status.NOT_FOUND;
    if (obj.client !== cl) return Status.PERMISSION_DENIED;
    const f = frameWriter(MsgType.DATA, seq, peer, 48);
    putU32(f.w, Attr.OBJID, obj.id);
    // The type goes too when this was its last object.
    if (obj.type && obj.type.refs === 1) putU32(f.w, Attr.OBJTYPE, obj.type.id);
    this.send(cl, finishFrame(f));
    this.freeObject(obj);
    return Status.OK;
  }

  /** ubusd_free_object: subscriptions both ways, event patterns, the remove event, the id. */
  private freeObject(obj: BusObject): void {
    for (const s of [...obj.targets]) this.unsubscribe(s);
    for (const s of [...obj.subscribers]) {
      const sub = s.subscriber;
      const f = frameWriter(MsgType.UNSUBSCRIBE, ++sub.invokeSeq, 0, 32);
      putU32(f.w, Attr.OBJID, sub.id);
      putU32(f.w, Attr.TARGET, obj.id);
      if (sub.client) this.send(sub.client, finishFrame(f));
      this.unsubscribe(s);
    }
    for (const ev of obj.events) remove(this.patterns, ev);
    obj.events = [];
    if (obj.path !== undefined) {
      this.objectEvent(obj, false);
      this.byPath.delete(obj.path);
      remove(this.paths, obj.path);
    }
    if (obj.client) remove(obj.client.objects, obj);
    this.objects.delete(obj.id);
    if (obj.type) this.unrefType(obj.type);
  }

  // ---- subscriptions -------------------------------------------------------------------

  private subscribe(cl: Client, attrs: Attrs): number {
    if (attrs.objid === undefined || attrs.target === undefined) return Status.INVALID_ARGUMENT;
    const obj = this.objects.get(attrs.objid);
    if (!obj) return Status.NOT_FOUND;
    if (obj.client !== cl) return Status.INVALID_ARGUMENT;
    const target = this.objects.get(attrs.target);
    if (!target || !target.client) return Status.NOT_FOUND;
    if (target.client === cl) return Status.INVALID_ARGUMENT;
    const first = target.subscribers.length === 0;
    const s: Subscription = { subscriber: obj, target };
    target.subscribers.unshift(s);
    obj.targets.unshift(s);
    if (first) this.notifySubscription(target);
    return Status.OK;
  }

  private unsubscribeCall(cl: Client, attrs: Attrs): number {
    if (attrs.objid === undefined || attrs.target === undefined) return Status.INVALID_ARGUMENT;
    const obj = this.objects.get(attrs.objid);
    if (!obj) return Status.NOT_FOUND;
    if (obj.client !== cl) return Status.INVALID_ARGUMENT;
    const s = obj.targets.find((t) => t.target.id === attrs.target);
    if (!s) return Status.NOT_FOUND;
    this.unsubscribe(s);
    return Status.OK;
  }

  private unsubscribe(s: Subscription): void {
    remove(s.target.subscribers, s);
    remove(s.subscriber.targets, s);
    if (s.target.subscribers.length === 0) this.notifySubscription(s.target);
  }

  /** NOTIFY with ACTIVE to the owner: someone is (or nobody is any more) subscribed. */
  private notifySubscription(obj: BusObject): void {
    const f = frameWriter(MsgType.NOTIFY, ++obj.invokeSeq, 0, 32);
    putU32(f.w, Attr.OBJID, obj.id);
    putU8(f.w, Attr.ACTIVE, obj.subscribers.length > 0 ? 1 : 0);
    if (obj.client) this.send(obj.client, finishFrame(f));
  }

  /** An owner's notification: to every subscriber as INVOKE (ubusd_handle_notify). */
  private notify(cl: Client, seq: number, peer: number, attrs: Attrs): number {
    if (attrs.method === undefined || attrs.objid === undefined) return Status.INVALID_ARGUMENT;
    const noReply = (attrs.noReply ?? 0) !== 0;
    const obj = this.objects.get(attrs.objid);
    if (!obj) return Status.NOT_FOUND;
    if (obj.client !== cl) return Status.PERMISSION_DENIED;
    if (!noReply) {
      // The subscribers' ids (as id-0 attributes, as ubusd nests them), then status 0; their
      // own answers follow through `response`.
      const f = frameWriter(MsgType.STATUS, seq, peer, 32 + 8 * obj.subscribers.length);
      putU32(f.w, Attr.OBJID, obj.id);
      const nest = f.w.begin(Attr.SUBSCRIBERS);
      for (const s of obj.subscribers) putU32(f.w, 0, s.subscriber.id);
      f.w.end(nest);
      putU32(f.w, Attr.STATUS, Status.OK);
      this.send(cl, finishFrame(f));
    }
    for (const s of obj.subscribers) this.forwardInvoke(s.subscriber, seq, cl.id, attrs.method, attrs.data, noReply);
    return NO_STATUS;
  }

  // ---- events --------------------------------------------------------------------------

  private eventCall(cl: Client, method: string, attrs: Attrs): number {
    if (method === 'register') {
      const fields = blobmsgFields(attrs.data);
      const object = fields?.get('object');
      const pattern = fields?.get('pattern');
      if (!object || object.type !== BlobmsgType.INT32 || !pattern || pattern.type !== BlobmsgType.STRING) {
        return Status.INVALID_ARGUMENT;
      }
      const id = u32At(object.value, 0);
      if (id < SYSTEM_OBJECT_MAX) return Status.PERMISSION_DENIED;
      const obj = this.objects.get(id);
      if (!obj) return Status.NOT_FOUND;
      if (obj.client !== cl) return Status.PERMISSION_DENIED;
      let key = utf8Decode(pattern.value.subarray(0, pattern.value.indexOf(0)));
      const partial = key.endsWith('*');
      if (partial) key = key.slice(0, -1);
      const ev: EventSource = { obj, key, partial };
      obj.events.unshift(ev);
      this.patterns.splice(upperBound(this.patterns, key), 0, ev);
      return Status.OK;
    }
    if (method === 'send') {
      const fields = blobmsgFields(attrs.data);
      const id = fields?.get('id');
      const data = fields?.get('data');
      if (!id || id.type !== BlobmsgType.STRING || !data || data.type !== BlobmsgType.TABLE) return Status.INVALID_ARGUMENT;
      const idBytes = id.value.subarray(0, id.value.indexOf(0));
      const name = utf8Decode(idBytes);
      if (name.startsWith('ubus.')) return Status.PERMISSION_DENIED;
      this.sendEvent(cl, name, idBytes, (w) => w.put(Attr.DATA, data.value));
      return Status.OK;
    }
    return Status.INVALID_COMMAND;
  }

  /**
   * ubusd_send_event: walks the sorted patterns while the matched length does not shrink
   * (ubusd's shortcut; it finds every exact and every prefix match), one INVOKE per
   * listening object, never to the sender's own objects.
   */
  private sendEvent(sender: Client | undefined, name: string, nameBytes: Uint8Array, putData: (w: BlobWriter) => void): void {
    const seen = ++this.objEventSeq;
    let matched = 0;
    let frame: Uint8Array | undefined;
    for (const ev of this.patterns) {
      const { full, length } = matchLength(name, ev.key);
      if (length < matched) break;
      matched = length;
      if (!full && (!ev.partial || matched !== ev.key.length)) continue;
      const obj = ev.obj;
      if (obj.client === sender || obj.eventSeen === seen || !obj.client) continue;
      obj.eventSeen = seen;
      if (!frame) {
        const f = frameWriter(MsgType.INVOKE, 0, 0, nameBytes.length + 64);
        putU32(f.w, Attr.OBJID, 0);
        putCString(f.w, Attr.METHOD, nameBytes);
        putData(f.w);
        frame = finishFrame(f);
      }
      // The OBJID payload is the first thing in the root: header 8 + root 4 + attr header 4.
      setU32(frame, 16, obj.id);
      this.eventSeq = (this.eventSeq + 1) & 0xffff;
      setU16(frame, 2, this.eventSeq);
      this.send(obj.client, frame);
    }
  }

  /** `ubus.object.add` / `ubus.object.remove` with `{ id, path }` (blobmsg_add_u32, _string). */
  private objectEvent(obj: BusObject, add: boolean): void {
    const name = add ? 'ubus.object.add' : 'ubus.object.remove';
    this.sendEvent(undefined, name, asciiBytes(name), (w) => {
      const data = w.begin(Attr.DATA);
      let field = beginBlobmsg(w, BlobmsgType.INT32, 'id');
      w.u32(obj.id);
      w.end(field);
      field = beginBlobmsg(w, BlobmsgType.STRING, 'path');
      w.bytes(obj.pathBytes as Uint8Array);
      w.u8(0);
      w.end(field);
      w.end(data);
    });
  }

  // ---- ubusd's other objects -----------------------------------------------------------

  /** Object 2, `query`: the ACLs that apply to the caller's objects; there are none here. */
  private aclCall(cl: Client, seq: number, peer: number, method: string, attrs: Attrs): number {
    if (method !== 'query') return Status.INVALID_COMMAND;
    if (attrs.objid === undefined) return Status.INVALID_ARGUMENT;
    const obj = this.objects.get(attrs.objid);
    if (!obj) return Status.NOT_FOUND;
    const f = frameWriter(MsgType.DATA, seq, peer, 64);
    putU32(f.w, Attr.OBJID, obj.id);
    const data = f.w.begin(Attr.DATA);
    const seqField = beginBlobmsg(f.w, BlobmsgType.INT32, 'seq');
    f.w.u32(0);
    f.w.end(seqField);
    f.w.end(beginBlobmsg(f.w, BlobmsgType.ARRAY, 'acl'));
    f.w.end(data);
    this.send(cl, finishFrame(f));
    return Status.OK;
  }

  /** Object 3: `add` / `remove` a monitor (root only in ubusd; every client is root here). */
  private monitorCall(cl: Client, method: string): number {
    if (method === 'add') {
      this.removeMonitor(cl);
      this.monitors.push({ client: cl, seq: 0 });
      return Status.OK;
    }
    if (method === 'remove') {
      this.removeMonitor(cl);
      return Status.OK;
    }
    return Status.METHOD_NOT_FOUND;
  }

  private removeMonitor(cl: Client): void {
    const i = this.monitors.findIndex((m) => m.client === cl);
    if (i >= 0) this.monitors.splice(i, 1);
  }

  /** ubusd_monitor_message: CLIENT, PEER, SEQ, TYPE, SEND, DATA (the root's attributes). */
  private monitor(cl: Client, frame: Uint8Array, sent: boolean): void {
    if (this.monitors.length === 0) return;
    const f = frameWriter(MsgType.MONITOR, 0, 0, frame.length + 64);
    putU32(f.w, MonitorAttr.CLIENT, cl.id);
    putU32(f.w, MonitorAttr.PEER, u32At(frame, 4));
    putU32(f.w, MonitorAttr.SEQ, ((frame[2] as number) << 8) | (frame[3] as number));
    putU32(f.w, MonitorAttr.TYPE, frame[1] as number);
    putU8(f.w, MonitorAttr.SEND, sent ? 1 : 0);
    f.w.put(MonitorAttr.DATA, frame.subarray(UBUS_FRAME_HEAD_LEN, 8 + (u32At(frame, 8) & BLOB_ATTR_LEN_MASK)));
    const out = finishFrame(f);
    for (const m of [...this.monitors]) {
      m.seq = (m.seq + 1) & 0xffff;
      setU16(out, 2, m.seq);
      this.send(m.client, out);
    }
  }
}

// ---- small helpers -----------------------------------------------------------------------

function asciiBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

/** First index whose path is not below `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(sorted[mid] as string, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose pattern key is above `key` (equal keys stay in registration order). */
function upperBound(sorted: readonly EventSource[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys((sorted[mid] as EventSource).key, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
