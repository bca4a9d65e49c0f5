/**
 * Our ubus client and object server talking through our broker: calls, errors, events,
 * subscriptions, wait_for, monitor, clean-up when a client goes, malformed input, and
 * reconnecting after the broker restarts. No test-framework imports, so the same cases
 * run on Node (broker.test.ts) and, bundled, on QuickJS with the native socket module
 * (broker-qjs-entry.ts). Each case starts its own broker on its own socket and throws on
 * the first thing that is not as expected.
 */
import type { Clock } from '../../src/clock/clock.js';
import { method } from '../../src/control/methods.js';
import { ErrorCodes, WrtkitError } from '../../src/errors.js';
import type { Connection, Sockets } from '../../src/platform/platform.js';
import { type Broker, startBroker } from '../../src/ubus/broker.js';
import { type ServedObject, UbusClient, UbusStatusError } from '../../src/ubus/client.js';
import { MsgType, Status } from '../../src/ubus/constants.js';
import { type MonitorRecord, attrsOf, encodeMessage } from '../../src/ubus/message.js';
import { MessageReader } from '../../src/ubus/stream.js';
import { replies } from '../../src/ubus/objects.js';

export interface SuiteEnv {
  sockets: Sockets;
  clock: Clock;
  /** A fresh socket path for a case. */
  socketPath(name: string): string;
}

export type BrokerCase = (env: SuiteEnv) => Promise<void>;

// ---- small assertion kit -----------------------------------------------------------------

function fail(message: string): never {
  throw new Error(message);
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

function equal(actual: unknown, expected: unknown, what: string): void {
  if (show(actual) !== show(expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

async function statusOf(work: Promise<unknown>): Promise<number | string> {
  try {
    await work;
    return 'ok';
  } catch (error) {
    if (error instanceof UbusStatusError) return error.status;
    if (error instanceof WrtkitError) return error.code;
    throw error;
  }
}

async function until(clock: Clock, condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = clock.monotonic() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (clock.monotonic() > deadline) fail(`timed out waiting for ${what}`);
    await clock.sleep(10);
  }
}

/** A broker and the clients of one case, all closed at the end. */
class Fixture {
  broker!: Broker;
  readonly clients: UbusClient[] = [];
  readonly path: string;

  constructor(
    readonly env: SuiteEnv,
    name: string,
  ) {
    this.path = env.socketPath(name);
  }

  async start(): Promise<this> {
    this.broker = await startBroker({ sockets: this.env.sockets, path: this.path, clock: this.env.clock });
    return this;
  }

  async client(reconnect = false): Promise<UbusClient> {
    const client = await UbusClient.connect({
      sockets: this.env.sockets,
      clock: this.env.clock,
      path: this.path,
      timeoutMs: 3000,
      reconnect: reconnect ? { initialMs: 30, maxMs: 200 } : false,
    });
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.close();
    await this.broker?.close();
  }
}

async function withFixture(env: SuiteEnv, name: string, body: (fx: Fixture) => Promise<void>): Promise<void> {
  const fx = await new Fixture(env, name).start();
  try {
    await body(fx);
  } finally {
    await fx.close();
  }
}

const noArgs = { type: 'object', properties: {} } as const;

/** The object most cases serve. */
function testTable(log: string[] = []) {
  return {
    echo: method(
      {
        access: 'read',
        schema: { type: 'object', properties: { text: { type: 'string' }, n: { type: 'integer' }, list: { type: 'array' } } },
      },
      (args) => ({
        received: args,
        big: 1099511627776,
        negative: -42,
        flag: true,
        double: 3.5,
        list: [1, 'two', false],
        nested: { a: { b: 'c' } },
      }),
    ),
    multi: method({ schema: noArgs }, () => replies({ part: 'one' }, { part: 'two' }, { part: 'three' })),
    strict: method(
      {
        schema: {
          type: 'object',
          properties: { name: { type: 'string' } },
          required: ['name'],
          additionalProperties: false,
        },
      },
      (args) => {
        log.push(`strict ${args.name}`);
        return { hello: args.name };
      },
    ),
    denied: method({ schema: noArgs }, () => {
      throw new UbusStatusError(Status.PERMISSION_DENIED, 'denied');
    }),
    nothing: method({ schema: noArgs }, () => undefined),
  };
}

// ---- the cases ---------------------------------------------------------------------------

export const brokerCases: Record<string, BrokerCase> = {
  'call: replies of every type, multi-part replies, lookup by path, prefix and all': (env) =>
    withFixture(env, 'call', async (fx) => {
      const server = await fx.client();
      const caller = await fx.client();
      const served = await server.addObject('test.obj', testTable());
      await server.addObject('test.other', { ping: method({ schema: noArgs }, () => ({ pong: true })) });
      await server.addObject('zzz', { ping: method({ schema: noArgs }, () => ({ pong: 'z' })) });

      equal(
        await caller.call('test.obj', 'echo', { text: 'hi', n: 5, list: [1, { x: 'y' }] }),
        [
          {
            received: { text: 'hi', n: 5, list: [1, { x: 'y' }] },
            big: 1099511627776,
            negative: -42,
            flag: true,
            double: 3.5,
            list: [1, 'two', false],
            nested: { a: { b: 'c' } },
          },
        ],
        'echo',
      );
      equal(await caller.call('test.obj', 'multi'), [{ part: 'one' }, { part: 'two' }, { part: 'three' }], 'multi');
      equal(await caller.call('test.obj', 'nothing'), [], 'a method without a reply');
      equal(await caller.call(served.id, 'multi'), [{ part: 'one' }, { part: 'two' }, { part: 'three' }], 'call by id');

      const all = await caller.lookup();
      equal(
        all.map((o) => o.path),
        ['test.obj', 'test.other', 'zzz'],
        'lookup of everything, sorted by path',
      );
      const obj = all.find((o) => o.path === 'test.obj');
      equal(obj?.id, served.id, 'object id');
      equal(
        obj?.signature,
        { echo: { text: 3, n: 5, list: 1 }, multi: {}, strict: { name: 3 }, denied: {}, nothing: {} },
        'signature',
      );
      equal(
        (await caller.lookup('test*')).map((o) => o.path),
        ['test.obj', 'test.other'],
        'lookup test*',
      );
      equal(
        (await caller.lookup('test.other')).map((o) => o.path),
        ['test.other'],
        'lookup by path',
      );
      equal(await caller.lookup('nope*'), [], 'lookup of a prefix nothing has');
      equal(await statusOf(caller.lookupId('nope')), Status.NOT_FOUND, 'lookup of a missing path');
      equal(fx.broker.clients, 2, 'clients connected');
    }),

  'errors: method not found, invalid argument from a schema, not found, permission denied, duplicate path': (env) =>
    withFixture(env, 'errors', async (fx) => {
      const server = await fx.client();
      const caller = await fx.client();
      const log: string[] = [];
      await server.addObject('test.obj', testTable(log));
      equal(await statusOf(caller.call('test.obj', 'nosuchmethod')), Status.METHOD_NOT_FOUND, 'unknown method');
      equal(await statusOf(caller.call('test.obj', 'strict', { name: 5 })), Status.INVALID_ARGUMENT, 'wrong type');
      equal(await statusOf(caller.call('test.obj', 'strict', {})), Status.INVALID_ARGUMENT, 'missing argument');
      equal(
        await statusOf(caller.call('test.obj', 'strict', { name: 'x', extra: 1 })),
        Status.INVALID_ARGUMENT,
        'extra argument',
      );
      equal(await caller.call('test.obj', 'strict', { name: 'ok' }), [{ hello: 'ok' }], 'valid arguments');
      equal(log, ['strict ok'], 'the handler ran only for valid arguments');
      equal(await statusOf(caller.call('test.obj', 'denied')), Status.PERMISSION_DENIED, 'a status the handler chose');
      equal(await statusOf(caller.call('no.such.object', 'x')), Status.NOT_FOUND, 'unknown object (lookup)');
      equal(await statusOf(caller.call(0x12345678, 'x')), Status.NOT_FOUND, 'unknown object id (invoke)');
      equal(await statusOf(caller.send('ubus.fake', {})), Status.PERMISSION_DENIED, 'sending a ubus.* event');
      equal(await statusOf(caller.addObject('test.obj', testTable())), Status.INVALID_ARGUMENT, 'a path already taken');
      // The failed ADD_OBJECT left nothing behind.
      equal(
        (await caller.lookup()).map((o) => o.path),
        ['test.obj'],
        'objects after the failed add',
      );
    }),

  'events: exact and wildcard patterns, one delivery per listener, never back to the sender': (env) =>
    withFixture(env, 'events', async (fx) => {
      const a = await fx.client();
      const all = await fx.client();
      const sender = await fx.client();
      const gotA: unknown[] = [];
      const gotAll: unknown[] = [];
      const gotSender: unknown[] = [];
      await a.listen(['net.*', 'net.link.up'], (event, data) => gotA.push({ [event]: data }));
      await all.listen('*', (event, data) => {
        if (!event.startsWith('ubus.')) gotAll.push({ [event]: data });
      });
      await sender.listen('net.*', (event, data) => gotSender.push({ [event]: data }));
      await sender.send('net.link.up', { ifname: 'eth0', up: true });
      await sender.send('net.wan', { n: 2 });
      await sender.send('other', { list: [1, 'x'] });
      await until(env.clock, () => gotAll.length >= 3 && gotA.length >= 2, 'events');
      await env.clock.sleep(30);
      equal(gotA, [{ 'net.link.up': { ifname: 'eth0', up: true } }, { 'net.wan': { n: 2 } }], 'net.* listener');
      equal(
        gotAll,
        [{ 'net.link.up': { ifname: 'eth0', up: true } }, { 'net.wan': { n: 2 } }, { other: { list: [1, 'x'] } }],
        '* listener',
      );
      equal(gotSender, [], 'the sender hears its own events');
      // Another client's event reaches the first sender's listener.
      await a.send('net.dsl', {});
      await until(env.clock, () => gotSender.length === 1, 'event to the sender from someone else');
      equal(gotSender, [{ 'net.dsl': {} }], 'sender as listener');
    }),

  'subscribe and notify: ACTIVE to the owner, notifications to subscribers, unsubscribe and disconnect': (env) =>
    withFixture(env, 'subscribe', async (fx) => {
      const server = await fx.client();
      const sub1 = await fx.client();
      const sub2 = await fx.client();
      const active: boolean[] = [];
      const served: ServedObject = await server.addObject('test.sub', testTable(), { onSubscribers: (on) => active.push(on) });
      const got1: unknown[] = [];
      const got2: unknown[] = [];
      const stop1 = await sub1.subscribe('test.sub', (type, data) => got1.push({ [type]: data }));
      await until(env.clock, () => served.hasSubscribers, 'ACTIVE=1');
      await sub2.subscribe('test.sub', (type, data) => got2.push({ [type]: data }));
      served.notify('changed', { n: 1 });
      await until(env.clock, () => got1.length === 1 && got2.length === 1, 'notifications');
      equal(got1, [{ changed: { n: 1 } }], 'first subscriber');
      equal(got2, [{ changed: { n: 1 } }], 'second subscriber');
      await stop1();
      served.notify('changed', { n: 2 });
      await until(env.clock, () => got2.length === 2, 'second notification');
      equal(got1.length, 1, 'notifications after unsubscribing');
      equal(active, [true], 'ACTIVE while one subscriber is left');
      // The last subscriber goes away without unsubscribing.
      sub2.close();
      await until(env.clock, () => !served.hasSubscribers, 'ACTIVE=0');
      equal(active, [true, false], 'ACTIVE changes');
    }),

  'wait_for: an object that appears later, and one that never does': (env) =>
    withFixture(env, 'waitfor', async (fx) => {
      const waiter = await fx.client();
      const server = await fx.client();
      const waited = waiter.waitFor('late.object', 3000).then(() => 'appeared');
      await env.clock.sleep(50);
      await server.addObject('late.object', testTable());
      equal(await waited, 'appeared', 'waitFor');
      await waiter.waitFor('late.object', 100);
      equal(await statusOf(waiter.waitFor('never.there', 100)), ErrorCodes.UBUS_TIMEOUT, 'waitFor timeout');
    }),

  'monitor: copies of what the broker receives and sends, until removed': (env) =>
    withFixture(env, 'monitor', async (fx) => {
      const server = await fx.client();
      const caller = await fx.client();
      const watcher = await fx.client();
      const served = await server.addObject('test.obj', testTable());
      const records: MonitorRecord[] = [];
      const stop = await watcher.monitor((r) => records.push(r));
      await caller.call(served.id, 'echo', { text: 'm' });
      await until(env.clock, () => records.filter((r) => r.message.type === MsgType.STATUS).length >= 3, 'monitor records');
      const seen = records.map((r) => ({
        who:
          r.client === caller.clientId
            ? 'caller'
            : r.client === server.clientId
              ? 'server'
              : r.client === watcher.clientId
                ? 'watcher'
                : '?',
        send: r.send,
        type: r.message.type,
      }));
      equal(
        seen,
        [
          { who: 'watcher', send: true, type: MsgType.STATUS }, // the answer to `add`
          { who: 'caller', send: false, type: MsgType.INVOKE },
          { who: 'server', send: true, type: MsgType.INVOKE },
          { who: 'server', send: false, type: MsgType.DATA },
          { who: 'caller', send: true, type: MsgType.DATA },
          { who: 'server', send: false, type: MsgType.STATUS },
          { who: 'caller', send: true, type: MsgType.STATUS },
        ],
        'monitor records',
      );
      const forwarded = attrsOf(records[2]?.message as MonitorRecord['message']);
      equal(
        [forwarded.method, forwarded.user, forwarded.group, forwarded.data],
        ['echo', 'root', 'root', { text: 'm' }],
        'forwarded INVOKE',
      );
      equal(records[2]?.message.peer, caller.clientId, 'forwarded INVOKE peer');
      const count = records.length;
      await stop();
      await caller.call(served.id, 'echo', {});
      await env.clock.sleep(30);
      equal(records.length, count + 1, 'records after `remove` (only the `remove` request itself)');
    }),

  'a server that disconnects: its objects go, listeners hear ubus.object.remove, subscribers are dropped': (env) =>
    withFixture(env, 'disconnect', async (fx) => {
      const server = await fx.client();
      const listener = await fx.client();
      const subscriber = await fx.client();
      const caller = await fx.client();
      const events: unknown[] = [];
      await listener.listen(['ubus.object.add', 'ubus.object.remove'], (event, data) => events.push([event, data.path]));
      const first = await server.addObject('test.gone', testTable());
      await server.addObject('test.gone2', testTable());
      await subscriber.subscribe('test.gone', () => undefined);
      await until(env.clock, () => first.hasSubscribers, 'subscription');
      server.close();
      await until(env.clock, () => events.length === 4, 'remove events');
      equal(
        events,
        [
          ['ubus.object.add', 'test.gone'],
          ['ubus.object.add', 'test.gone2'],
          // newest first, as ubusd frees a client's objects
          ['ubus.object.remove', 'test.gone2'],
          ['ubus.object.remove', 'test.gone'],
        ],
        'object events',
      );
      equal(await caller.lookup(), [], 'objects left');
      equal(await statusOf(caller.call('test.gone', 'echo')), Status.NOT_FOUND, 'calling a removed object');
      equal(await statusOf(caller.call(first.id, 'echo')), Status.NOT_FOUND, 'calling a removed object by id');
      await until(env.clock, () => fx.broker.clients === 3, 'client count');
    }),

  'malformed input drops that client only; PING; a frame above UBUS_MAX_MSGLEN': (env) =>
    withFixture(env, 'malformed', async (fx) => {
      const server = await fx.client();
      const caller = await fx.client();
      await server.addObject('test.obj', testTable());
      const raw = async () => {
        const conn: Connection = await env.sockets.connect(fx.path);
        const reader = new MessageReader();
        const types: number[] = [];
        let closed = false;
        conn.onData((chunk) => types.push(...reader.push(chunk).map((m) => m.type)));
        conn.onClose(() => (closed = true));
        await until(env.clock, () => types.length === 1, 'HELLO');
        return { conn, types, closed: () => closed };
      };
      // PING: the same message back as DATA, then STATUS 0.
      const pinger = await raw();
      pinger.conn.write(encodeMessage({ version: 0, type: MsgType.PING, seq: 7, peer: 0, attrs: [] }));
      await until(env.clock, () => pinger.types.length === 3, 'PING answer');
      equal(pinger.types, [MsgType.HELLO, MsgType.DATA, MsgType.STATUS], 'PING answer');
      // Version 1 is not a ubus message.
      const bad = await raw();
      bad.conn.write(new Uint8Array([1, MsgType.LOOKUP, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4]));
      await until(env.clock, () => bad.closed(), 'the broker to drop a bad version');
      // A root blob of 2 MiB is refused at its header.
      const big = await raw();
      big.conn.write(new Uint8Array([0, MsgType.LOOKUP, 0, 1, 0, 0, 0, 0, 0, 0x20, 0, 4]));
      await until(env.clock, () => big.closed(), 'the broker to drop an oversized frame');
      // Attributes that overrun their root.
      const overrun = await raw();
      overrun.conn.write(new Uint8Array([0, MsgType.LOOKUP, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8, 0x02, 0, 0, 0x40]));
      await until(env.clock, () => overrun.closed(), 'the broker to drop an overrunning attribute');
      equal(pinger.closed(), false, 'a good raw client stays');
      pinger.conn.close();
      equal(await caller.call('test.obj', 'multi'), [{ part: 'one' }, { part: 'two' }, { part: 'three' }], 'others go on');
    }),

  'reconnect: a new broker on the same path, and clients register objects, listeners and subscriptions again': (env) =>
    withFixture(env, 'reconnect', async (fx) => {
      const server = await fx.client(true);
      const listener = await fx.client(true);
      const subscriber = await fx.client(true);
      const served = await server.addObject('test.re', testTable());
      const events: unknown[] = [];
      await listener.listen('re.*', (event, data) => events.push({ [event]: data }));
      const notes: unknown[] = [];
      await subscriber.subscribe('test.re', (type, data) => notes.push({ [type]: data }));
      await until(env.clock, () => served.hasSubscribers, 'subscription');
      const before = { object: served.id, server: server.clientId };

      await fx.broker.close();
      await until(
        env.clock,
        () => !server.connected && !listener.connected && !subscriber.connected,
        'clients to see the broker go',
      );
      fx.broker = await startBroker({ sockets: env.sockets, path: fx.path, clock: env.clock });

      const caller = await fx.client();
      await until(env.clock, async () => (await caller.lookup('test.re')).length === 1, 'the object back on the new broker');
      equal(await caller.call('test.re', 'multi'), [{ part: 'one' }, { part: 'two' }, { part: 'three' }], 'call after reconnect');
      check(served.id !== before.object && served.id === (await caller.lookupId('test.re')), 'the object has a new id');
      check(server.clientId !== before.server && server.clientId !== 0, 'the client has a new id');
      await until(
        env.clock,
        async () => {
          await caller.send('re.ping', { n: events.length });
          await env.clock.sleep(20);
          return events.length > 0;
        },
        'the listener back',
      );
      await until(env.clock, () => served.hasSubscribers, 'the subscription back');
      served.notify('again', { ok: true });
      await until(env.clock, () => notes.length === 1, 'a notification after reconnect');
      equal(notes, [{ again: { ok: true } }], 'notification');
    }),

  'reconnect with a subscription target missing: the objects come back at once, the subscription when its target does': (env) =>
    withFixture(env, 'reconnect-missing', async (fx) => {
      const client = await fx.client(true);
      const other = await fx.client(false);
      const served = await client.addObject('own.obj', testTable());
      await other.addObject('other.obj', testTable());
      const notes: unknown[] = [];
      await client.subscribe('other.obj', (type, data) => notes.push({ [type]: data }));

      await fx.broker.close();
      await until(env.clock, () => !client.connected, 'the client to see the broker go');
      fx.broker = await startBroker({ sockets: env.sockets, path: fx.path, clock: env.clock });

      // 'other.obj' does not come back (its owner does not reconnect): own.obj must still
      // be served again, without the client dropping and re-registering everything.
      const caller = await fx.client();
      await until(env.clock, async () => (await caller.lookup('own.obj')).length === 1, 'own.obj back');
      const id = served.id;
      await env.clock.sleep(300);
      check(served.id === id && client.connected, 'own.obj kept its new id (no flapping while the target is away)');

      const again = await fx.client(false);
      const target = await again.addObject('other.obj', testTable());
      await until(env.clock, () => target.hasSubscribers, 'the subscription re-established once its target is back', 5000);
      target.notify('back', { n: 1 });
      await until(env.clock, () => notes.length === 1, 'a notification through the re-established subscription');
    }),

  'call by name: the id is cached, and a re-registered object is found again': (env) =>
    withFixture(env, 'call-cache', async (fx) => {
      const server = await fx.client();
      const caller = await fx.client();
      const first = await server.addObject('cached.obj', testTable());
      equal(await caller.call('cached.obj', 'multi'), [{ part: 'one' }, { part: 'two' }, { part: 'three' }], 'first call');
      // What the caller sends, as the broker's monitor sees it.
      const sent: number[] = [];
      const watcher = await fx.client();
      const stop = await watcher.monitor((r) => {
        if (r.client === caller.clientId && !r.send) sent.push(r.message.type);
      });
      const count = (type: number) => sent.filter((t) => t === type).length;
      await caller.call('cached.obj', 'multi');
      await until(env.clock, () => count(MsgType.INVOKE) === 1, 'the monitor to see the second call');
      equal(count(MsgType.LOOKUP), 0, 'LOOKUPs for a second call by name');
      await first.remove();
      await server.addObject('cached.obj', testTable());
      equal((await caller.call('cached.obj', 'multi')).length, 3, 'a call after the object came back with a new id');
      // the stale id is answered NOT_FOUND, then one LOOKUP, then the call
      await until(env.clock, () => count(MsgType.INVOKE) === 3, 'the monitor to see both invokes');
      equal(count(MsgType.LOOKUP), 1, 'LOOKUPs after the id went stale');
      await stop();
    }),
};
