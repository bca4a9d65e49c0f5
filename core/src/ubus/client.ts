import type { Cancel, Clock } from '../clock/clock.js';
import type { MethodTable } from '../control/methods.js';
import { ErrorCodes, WrtkitError, messageOf } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Connection, Sockets } from '../platform/platform.js';
import { MsgType, Status, statusName } from './constants.js';
import {
  type MonitorRecord,
  type UbusMessage,
  addObjectMessage,
  attrsOf,
  dataMessage,
  decodeMonitor,
  encodeMessage,
  eventRegisterMessage,
  eventSendMessage,
  invokeMessage,
  lookupMessage,
  monitorMessage,
  notifyMessage,
  removeObjectMessage,
  statusMessage,
  subscribeMessage,
  unsubscribeMessage,
} from './message.js';
import { type ObjectSignature, dispatchInvoke, signatureOf } from './objects.js';
import { MessageReader } from './stream.js';
import { withTimeout } from '../util/timeout.js';

/** Where ubusd listens on OpenWrt. */
export const UBUS_SOCKET = '/var/run/ubus/ubus.sock';

export interface UbusClientOptions {
  sockets: Sockets;
  clock: Clock;
  log?: Logger;
  path?: string;
  /** Time limit of a request when the caller gives none (libubus default: 30 s for calls). */
  timeoutMs?: number;
  /** Reconnect after ubusd goes away: first delay, doubling up to maxMs. 0 disables. */
  reconnect?: { initialMs: number; maxMs: number } | false;
}

export interface UbusObjectInfo {
  path: string;
  id: number;
  type: number;
  signature: ObjectSignature;
}

export interface CallOptions {
  timeoutMs?: number;
}

/** An object this client serves. Its id changes when the client reconnects. */
export interface ServedObject {
  readonly name: string;
  readonly id: number;
  /** True while someone is subscribed (ubusd tells us). */
  readonly hasSubscribers: boolean;
  /** Sends a notification to subscribers (no replies are awaited, as `ubus_notify` with timeout -1). */
  notify(type: string, data?: Record<string, unknown>): void;
  remove(): Promise<void>;
}

export interface AddObjectOptions {
  /** Called when the first subscriber comes or the last one goes. */
  onSubscribers?: (active: boolean) => void;
  /**
   * Runs a call instead of the table's handler directly (the host routes calls through its
   * MethodRegistry, which knows whether the plugin behind the object is running).
   */
  invoke?: (method: string, args: Record<string, unknown>) => Promise<unknown>;
}

interface Pending {
  type: number;
  /** Runs for each DATA reply as it is read, before any later message is handled. */
  onData: ((message: UbusMessage) => void) | undefined;
  data: Array<Record<string, unknown>>;
  messages: UbusMessage[];
  resolve: (result: { status: number; data: Array<Record<string, unknown>>; messages: UbusMessage[] }) => void;
  reject: (error: Error) => void;
  cancelTimer: Cancel | undefined;
}

interface ObjectEntry {
  kind: 'object';
  name: string;
  table: MethodTable;
  signature: ObjectSignature;
  id: number;
  type: number;
  subscribers: boolean;
  options: AddObjectOptions;
  /** Settles when addObject has returned to its caller (calls wait for it, see onInvoke). */
  added?: Promise<unknown>;
}
interface ListenerEntry {
  kind: 'listener';
  id: number;
  patterns: string[];
  handler: (event: string, data: Record<string, unknown>) => void;
}
interface SubscriberEntry {
  kind: 'subscriber';
  id: number;
  target: string;
  targetId: number;
  handler: (type: string, data: Record<string, unknown>) => void;
}
type Registration = ObjectEntry | ListenerEntry | SubscriberEntry;

/** A ubus status answered by the other side, with its name (`Method not found`...). */
export class UbusStatusError extends WrtkitError {
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(ErrorCodes.UBUS_STATUS, `${what}: ${statusName(status)}`, { details: { status, statusName: statusName(status) } });
  }
}

/**
 * A ubus client speaking the native protocol over ubusd's unix socket, the way libubus
 * does: requests carry a sequence number, ubusd answers with DATA messages and one
 * STATUS; objects this client serves are invoked by ubusd with INVOKE and answered the
 * same way. The message layout follows libubus byte for byte (tested against captures of
 * the real ubusd), so anything on the router can talk to us and we to it.
 */
export class UbusClient {
  /** The id ubusd gave this connection (HELLO). */
  clientId = 0;
  private connection: Connection | undefined;
  private reader = new MessageReader();
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly registrations: Registration[] = [];
  private readonly byId = new Map<number, Registration>();
  private closed = false;
  private connecting: Promise<void> | undefined;
  private reconnectCancel: Cancel | undefined;
  private reconnectDelay: number;
  private readonly listeners = new Set<(state: 'connected' | 'disconnected') => void>();
  private monitorHandler: ((record: MonitorRecord) => void) | undefined;
  /** Object ids by path, so a call by name costs one round trip; dropped on NOT_FOUND and reconnect. */
  private readonly ids = new Map<string, number>();

  private constructor(private readonly options: UbusClientOptions) {
    this.reconnectDelay = options.reconnect ? options.reconnect.initialMs : 0;
  }

  /** Connects and waits for ubusd's HELLO. Rejects with WRTKIT_ERR_CONTROL_UNAVAILABLE when nobody listens. */
  static async connect(options: UbusClientOptions): Promise<UbusClient> {
    const client = new UbusClient(options);
    await client.open();
    return client;
  }

  get path(): string {
    return this.options.path ?? UBUS_SOCKET;
  }

  get connected(): boolean {
    return this.connection !== undefined && this.clientId !== 0;
  }

  /** Hears about connection changes (after a reconnect, objects and subscriptions are back). */
  onState(listener: (state: 'connected' | 'disconnected') => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Objects whose path matches (`*` at the end is a wildcard, as in `ubus list`); all without a pattern. */
  async lookup(pattern?: string, options: CallOptions = {}): Promise<UbusObjectInfo[]> {
    const { status, messages } = await this.request((seq) => lookupMessage(seq, pattern), options.timeoutMs);
    if (status === Status.NOT_FOUND) return [];
    this.check(status, `lookup ${pattern ?? '*'}`);
    return messages
      .map((m) => attrsOf(m))
      .filter((a) => a.objpath !== undefined && a.objid !== undefined)
      .map((a) => ({ path: a.objpath as string, id: a.objid as number, type: a.objtype ?? 0, signature: a.signature ?? {} }));
  }

  /** The id of one object; rejects with a UbusStatusError NOT_FOUND when there is none. */
  async lookupId(path: string, options: CallOptions = {}): Promise<number> {
    const { status, messages } = await this.request((seq) => lookupMessage(seq, path), options.timeoutMs);
    this.check(status, `lookup ${path}`);
    const found = messages.map((m) => attrsOf(m)).find((a) => a.objid !== undefined);
    if (!found) throw new UbusStatusError(Status.NOT_FOUND, `lookup ${path}`);
    return found.objid as number;
  }

  /**
   * Calls a method: every DATA reply, in order (most methods send one, some several).
   * A non-zero status rejects with UbusStatusError; no answer in time with WRTKIT_ERR_UBUS_TIMEOUT.
   */
  async call(
    object: string | number,
    method: string,
    args: Record<string, unknown> = {},
    options: CallOptions = {},
  ): Promise<Array<Record<string, unknown>>> {
    if (typeof object === 'number') return this.invoke(object, object, method, args, options);
    const cached = this.ids.get(object);
    if (cached !== undefined) {
      try {
        return await this.invoke(object, cached, method, args, options);
      } catch (error) {
        // The object went away or came back with a new id (its owner restarted): look again.
        if (!(error instanceof UbusStatusError && error.status === Status.NOT_FOUND)) throw error;
        this.ids.delete(object);
      }
    }
    const id = await this.lookupId(object, options);
    this.ids.set(object, id);
    return this.invoke(object, id, method, args, options);
  }

  private async invoke(label: string | number, id: number, method: string, args: Record<string, unknown>, options: CallOptions) {
    const { status, data } = await this.request((seq) => invokeMessage(seq, id, method, args), options.timeoutMs);
    this.check(status, `call ${String(label)} ${method}`);
    return data;
  }

  /** Sends an event (`ubus send`). */
  async send(event: string, data: Record<string, unknown> = {}): Promise<void> {
    const { status } = await this.request((seq) => eventSendMessage(seq, event, data));
    this.check(status, `send ${event}`);
  }

  /** Receives events whose name matches the pattern(s) (`ubus listen`); returns a function to stop. */
  async listen(
    pattern: string | string[],
    handler: (event: string, data: Record<string, unknown>) => void,
  ): Promise<() => Promise<void>> {
    const entry: ListenerEntry = { kind: 'listener', id: 0, patterns: Array.isArray(pattern) ? pattern : [pattern], handler };
    await this.registerListener(entry);
    this.registrations.push(entry);
    return () => this.unregister(entry);
  }

  /** Receives an object's notifications (`ubus subscribe`); returns a function to stop. */
  async subscribe(object: string, handler: (type: string, data: Record<string, unknown>) => void): Promise<() => Promise<void>> {
    const entry: SubscriberEntry = { kind: 'subscriber', id: 0, target: object, targetId: 0, handler };
    await this.registerSubscriber(entry);
    this.registrations.push(entry);
    return () => this.unregister(entry);
  }

  /**
   * Serves an object. Its methods are the same table the control socket uses: calls are
   * validated against each method's schema and answered with ubus status codes.
   */
  async addObject(name: string, table: MethodTable, options: AddObjectOptions = {}): Promise<ServedObject> {
    const entry: ObjectEntry = {
      kind: 'object',
      name,
      table,
      signature: signatureOf(table),
      id: 0,
      type: 0,
      subscribers: false,
      options,
    };
    const added = this.registerObject(entry).then(() => {
      this.registrations.push(entry);
      return handle;
    });
    entry.added = added;
    const client = this;
    const handle: ServedObject = {
      name,
      get id() {
        return entry.id;
      },
      get hasSubscribers() {
        return entry.subscribers;
      },
      notify(type, data = {}) {
        client.notify(entry, type, data);
      },
      remove: () => this.unregister(entry),
    };
    return added;
  }

  /**
   * Sees every message ubusd passes between its clients (`ubus monitor`; root only on a
   * router). Returns a function to stop.
   */
  async monitor(handler: (record: MonitorRecord) => void): Promise<() => Promise<void>> {
    // Records can arrive before the answer to `add`: listen first.
    this.monitorHandler = handler;
    const { status } = await this.request((seq) => monitorMessage(seq, 'add')).catch((error: unknown) => {
      this.monitorHandler = undefined;
      throw error;
    });
    if (status !== Status.OK) this.monitorHandler = undefined;
    this.check(status, 'monitor');
    return async () => {
      // ubusd stops after answering `remove` (and still reports that request itself).
      try {
        if (this.connected) this.check((await this.request((seq) => monitorMessage(seq, 'remove'))).status, 'monitor remove');
      } finally {
        this.monitorHandler = undefined;
      }
    };
  }

  /** Waits until an object exists (`ubus wait_for`). */
  async waitFor(path: string, timeoutMs: number): Promise<void> {
    let done: () => void = () => undefined;
    const appeared = new Promise<void>((resolve) => (done = resolve));
    const stop = await this.listen('ubus.object.add', (_event, data) => {
      if (data.path === path) done();
    });
    try {
      if ((await this.lookup()).some((o) => o.path === path)) return;
      await new Promise<void>((resolve, reject) => {
        const cancel = this.options.clock.setTimeout(
          () => reject(new WrtkitError(ErrorCodes.UBUS_TIMEOUT, `ubus object ${path} did not appear within ${timeoutMs} ms`)),
          timeoutMs,
        );
        void appeared.then(() => {
          cancel();
          resolve();
        });
      });
    } finally {
      // Not awaited: ubusd drops the listener with the object; nobody needs to wait for that.
      void stop().catch(() => undefined);
    }
  }

  /** Closes the connection for good (no reconnect). */
  close(): void {
    this.closed = true;
    this.reconnectCancel?.();
    this.connection?.close();
    this.dropConnection(new WrtkitError(ErrorCodes.UBUS_DISCONNECTED, 'ubus client closed'));
  }

  // ---- connection ------------------------------------------------------------------

  private open(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.doOpen().finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async doOpen(): Promise<void> {
    const connection = await this.options.sockets.connect(this.path);
    this.reader = new MessageReader();
    this.clientId = 0;
    let helloResolve!: () => void;
    let helloReject!: (e: Error) => void;
    const hello = new Promise<void>((resolve, reject) => {
      helloResolve = resolve;
      helloReject = reject;
    });
    connection.onData((chunk) => {
      let messages: UbusMessage[];
      try {
        messages = this.reader.push(chunk);
      } catch (error) {
        // A stream we cannot parse cannot be resynchronised: drop it, reconnect.
        this.options.log?.error('ubus: malformed message from ubusd; reconnecting', { error: messageOf(error) });
        connection.close();
        return;
      }
      for (const message of messages) {
        if (message.type === MsgType.HELLO && this.clientId === 0) {
          this.clientId = message.peer;
          helloResolve();
          continue;
        }
        this.dispatch(message);
      }
    });
    connection.onClose(() => {
      if (this.connection !== connection) return;
      helloReject(new WrtkitError(ErrorCodes.UBUS_DISCONNECTED, 'ubusd closed the connection'));
      this.dropConnection(new WrtkitError(ErrorCodes.UBUS_DISCONNECTED, 'ubusd closed the connection'));
      this.scheduleReconnect();
    });
    this.connection = connection;
    await withTimeout(this.options.clock, hello, this.timeout(undefined), () => {
      connection.close();
      return new WrtkitError(ErrorCodes.UBUS_TIMEOUT, `no HELLO from ubusd at ${this.path}`);
    });
    this.reconnectDelay = this.options.reconnect ? this.options.reconnect.initialMs : 0;
    for (const listener of this.listeners) listener('connected');
  }

  private dropConnection(error: Error): void {
    const wasConnected = this.connection !== undefined;
    this.connection = undefined;
    this.clientId = 0;
    this.ids.clear();
    for (const [seq, pending] of this.pending) {
      pending.cancelTimer?.();
      pending.reject(error);
      this.pending.delete(seq);
    }
    for (const registration of this.registrations) {
      this.byId.delete(registration.id);
      registration.id = 0;
    }
    if (wasConnected) for (const listener of this.listeners) listener('disconnected');
  }

  private scheduleReconnect(): void {
    const policy = this.options.reconnect;
    if (this.closed || !policy || this.reconnectCancel) return;
    const delay = Math.max(this.reconnectDelay, policy.initialMs);
    this.reconnectDelay = Math.min(delay * 2, policy.maxMs);
    this.options.log?.warn('ubus: disconnected; reconnecting', { inMs: delay, path: this.path });
    this.reconnectCancel = this.options.clock.setTimeout(() => {
      this.reconnectCancel = undefined;
      void this.reconnect();
    }, delay);
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    try {
      await this.open();
    } catch (error) {
      this.options.log?.debug('ubus: reconnect failed', { error: messageOf(error) });
      this.connection?.close();
      this.dropConnection(error instanceof Error ? error : new Error(String(error)));
      this.scheduleReconnect();
      return;
    }
    // ubusd forgot us: register everything again (objects get new ids). One that fails
    // (a subscription whose object is not back yet) is retried on its own, without
    // disturbing the others.
    await this.registerAgain([...this.registrations], this.options.reconnect ? this.options.reconnect.initialMs : 1000);
    this.options.log?.info('ubus: reconnected', { registrations: this.registrations.length });
  }

  private async registerAgain(registrations: Registration[], delay: number): Promise<void> {
    const failed: Registration[] = [];
    for (const registration of registrations) {
      if (!this.connected || !this.registrations.includes(registration)) continue;
      try {
        if (registration.kind === 'object') await this.registerObject(registration);
        else if (registration.kind === 'listener') await this.registerListener(registration);
        else await this.registerSubscriber(registration);
      } catch (error) {
        failed.push(registration);
        this.options.log?.warn('ubus: cannot register again; retrying', {
          what:
            registration.kind === 'object'
              ? registration.name
              : registration.kind === 'subscriber'
                ? `subscription to ${registration.target}`
                : 'listener',
          error: messageOf(error),
        });
      }
    }
    if (failed.length === 0 || this.closed) return;
    const maxMs = this.options.reconnect ? this.options.reconnect.maxMs : 30_000;
    this.options.clock.setTimeout(() => void this.registerAgain(failed, Math.min(delay * 2, maxMs)), delay);
  }

  // ---- requests --------------------------------------------------------------------

  private timeout(timeoutMs: number | undefined): number {
    return timeoutMs ?? this.options.timeoutMs ?? 30_000;
  }

  private nextSeq(): number {
    // 16-bit on the wire; skip 0 and any number still waiting for its answer.
    do this.seq = (this.seq + 1) & 0xffff;
    while (this.seq === 0 || this.pending.has(this.seq));
    return this.seq;
  }

  private write(message: UbusMessage): void {
    if (!this.connection) throw new WrtkitError(ErrorCodes.UBUS_DISCONNECTED, `not connected to ubusd at ${this.path}`);
    this.connection.write(encodeMessage(message));
  }

  /** Sends a request built for the next sequence number; resolves with its DATA replies and STATUS. */
  private request(build: (seq: number) => UbusMessage, timeoutMs?: number, onData?: (message: UbusMessage) => void) {
    return new Promise<{ status: number; data: Array<Record<string, unknown>>; messages: UbusMessage[] }>((resolve, reject) => {
      if (!this.connection) {
        reject(new WrtkitError(ErrorCodes.UBUS_DISCONNECTED, `not connected to ubusd at ${this.path}`));
        return;
      }
      const seq = this.nextSeq();
      const ms = this.timeout(timeoutMs);
      const message = build(seq);
      const pending: Pending = { type: message.type, onData, data: [], messages: [], resolve, reject, cancelTimer: undefined };
      pending.cancelTimer = this.options.clock.setTimeout(() => {
        this.pending.delete(seq);
        reject(
          new WrtkitError(ErrorCodes.UBUS_TIMEOUT, `ubus request timed out after ${ms} ms`, {
            details: { status: Status.TIMEOUT },
          }),
        );
      }, ms);
      this.pending.set(seq, pending);
      this.write(message);
    });
  }

  private check(status: number, what: string): void {
    if (status !== Status.OK) throw new UbusStatusError(status, what);
  }

  // ---- incoming --------------------------------------------------------------------

  private dispatch(message: UbusMessage): void {
    switch (message.type) {
      case MsgType.DATA:
      case MsgType.STATUS: {
        const pending = this.pending.get(message.seq);
        if (!pending) return; // late answer to a request that timed out
        if (message.type === MsgType.DATA) {
          pending.onData?.(message);
          pending.messages.push(message);
          const data = attrsOf(message).data;
          if (data !== undefined) pending.data.push(data as Record<string, unknown>);
          return;
        }
        this.pending.delete(message.seq);
        pending.cancelTimer?.();
        pending.resolve({
          status: attrsOf(message).status ?? Status.UNKNOWN_ERROR,
          data: pending.data,
          messages: pending.messages,
        });
        return;
      }
      case MsgType.INVOKE:
        void this.onInvoke(message);
        return;
      case MsgType.NOTIFY: {
        const attrs = attrsOf(message);
        const entry = attrs.objid !== undefined ? this.byId.get(attrs.objid) : undefined;
        if (entry?.kind === 'object' && attrs.active !== undefined) {
          entry.subscribers = attrs.active;
          entry.options.onSubscribers?.(attrs.active);
        }
        return;
      }
      case MsgType.MONITOR: {
        const handler = this.monitorHandler;
        if (!handler) return;
        try {
          handler(decodeMonitor(message));
        } catch (error) {
          this.options.log?.debug('ubus monitor record not understood', { error: messageOf(error) });
        }
        return;
      }
      default:
        return;
    }
  }

  private async onInvoke(message: UbusMessage): Promise<void> {
    const attrs = attrsOf(message);
    const objid = attrs.objid ?? 0;
    const entry = this.byId.get(objid);
    const reply = (status: number, data?: Record<string, unknown>[]) => {
      if (attrs.noReply) return;
      try {
        for (const part of data ?? []) this.write(dataMessage(message.seq, message.peer, objid, part));
        this.write(statusMessage(message.seq, message.peer, status, objid));
      } catch {
        // the connection went away while the handler ran; the caller sees ubusd's timeout
      }
    };
    const method = attrs.method ?? '';
    const data = (attrs.data ?? {}) as Record<string, unknown>;
    if (!entry) return reply(Status.NOT_FOUND);
    if (entry.kind === 'listener') {
      safely(this.options.log, 'ubus event handler', () => entry.handler(method, data));
      return reply(Status.OK);
    }
    if (entry.kind === 'subscriber') {
      safely(this.options.log, 'ubus notification handler', () => entry.handler(method, data));
      return reply(Status.OK);
    }
    // A call can arrive right behind ubusd's answer to ADD_OBJECT. Handle it only once
    // addObject has returned, so the caller holds the object (to notify, say) by then.
    await entry.added?.catch(() => undefined);
    const { status, replies } = await dispatchInvoke(
      entry.table,
      entry.name,
      method,
      data,
      entry.options.invoke,
      this.options.log,
    );
    reply(status, replies);
  }

  // ---- registrations ---------------------------------------------------------------

  private async registerObject(entry: ObjectEntry): Promise<void> {
    entry.subscribers = false;
    // The id is taken as soon as ubusd's answer is read: a call to the new object may come
    // in the same read, right behind it (libubus handles messages strictly in order too).
    const take = (message: UbusMessage) => {
      const attrs = attrsOf(message);
      if (attrs.objid === undefined) return;
      entry.id = attrs.objid;
      entry.type = attrs.objtype ?? 0;
      this.byId.set(entry.id, entry);
    };
    const { status } = await this.request(
      (seq) => addObjectMessage(seq, { path: entry.name, signature: entry.signature }),
      undefined,
      take,
    );
    if (status !== Status.OK) {
      this.byId.delete(entry.id);
      entry.id = 0;
    }
    this.check(status, `add object ${entry.name}`);
    if (entry.id === 0) throw new WrtkitError(ErrorCodes.UBUS_PROTOCOL, `ubusd did not give ${entry.name} an id`);
  }

  /** An object with no path and no methods: what libubus uses to receive events and notifications. */
  private async anonymousObject(entry: ListenerEntry | SubscriberEntry): Promise<void> {
    const take = (message: UbusMessage) => {
      const objid = attrsOf(message).objid;
      if (objid === undefined) return;
      entry.id = objid;
      this.byId.set(objid, entry);
    };
    const { status } = await this.request((seq) => addObjectMessage(seq), undefined, take);
    this.check(status, 'add object');
    if (entry.id === 0) throw new WrtkitError(ErrorCodes.UBUS_PROTOCOL, 'ubusd did not give the object an id');
  }

  private async registerListener(entry: ListenerEntry): Promise<void> {
    if (entry.id === 0) await this.anonymousObject(entry);
    for (const pattern of entry.patterns) {
      const id = entry.id;
      const { status } = await this.request((seq) => eventRegisterMessage(seq, id, pattern));
      this.check(status, `listen ${pattern}`);
    }
  }

  private async registerSubscriber(entry: SubscriberEntry): Promise<void> {
    // A retry after a failure keeps the object it already got on this connection.
    if (entry.id === 0) await this.anonymousObject(entry);
    entry.targetId = await this.lookupId(entry.target);
    const { id, targetId } = entry;
    const { status } = await this.request((seq) => subscribeMessage(seq, id, targetId));
    this.check(status, `subscribe ${entry.target}`);
  }

  private async unregister(entry: Registration): Promise<void> {
    const index = this.registrations.indexOf(entry);
    if (index < 0) return;
    this.registrations.splice(index, 1);
    if (!this.connected || entry.id === 0) return;
    this.byId.delete(entry.id);
    if (entry.kind === 'subscriber') {
      const { id, targetId } = entry;
      await this.request((seq) => unsubscribeMessage(seq, id, targetId)).catch(() => undefined);
    }
    // Removing the object also drops its event registrations in ubusd.
    const id = entry.id;
    const { status } = await this.request((seq) => removeObjectMessage(seq, id));
    this.check(status, 'remove object');
    entry.id = 0;
  }

  private notify(entry: ObjectEntry, type: string, data: Record<string, unknown>): void {
    if (!this.connected || entry.id === 0) return;
    // NO_REPLY: like ubus_notify(..., timeout -1) — subscribers are not waited for.
    this.write(notifyMessage(this.nextSeq(), entry.id, type, data, { noReply: true }));
  }
}

function safely(log: Logger | undefined, what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    log?.error(`${what} failed`, { error: messageOf(error) });
  }
}
