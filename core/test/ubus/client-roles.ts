/**
 * What each recorded process did, done with our client: the `ubus` CLI's commands and the
 * libubus "fixture-server" object (see fixtures/ubus/README.md). No test-framework imports,
 * so the same roles run on Node and, bundled, on QuickJS.
 */
import { method } from '../../src/control/methods.js';
import { int16, int32 } from '../../src/ubus/blobmsg.js';
import { type ServedObject, type UbusClient, UbusStatusError } from '../../src/ubus/client.js';
import { Status } from '../../src/ubus/constants.js';
import type { MonitorRecord } from '../../src/ubus/message.js';
import { replies } from '../../src/ubus/objects.js';

const noArgs = { type: 'object', properties: {} } as const;

/** The libubus fixture-server's `fixture` object, built from a method table. */
export async function serveFixture(client: UbusClient, log: string[]): Promise<ServedObject> {
  let counter = 0;
  let temp: ServedObject | undefined;
  const self: { object?: ServedObject } = {};
  const object = await client.addObject(
    'fixture',
    {
      echo: method(
        {
          access: 'read',
          schema: {
            type: 'object',
            properties: {
              string: { type: 'string' },
              number: { type: 'integer' },
              flag: { type: 'boolean' },
              list: { type: 'array' },
              obj: { type: 'object' },
            },
          },
        },
        (args) => ({
          received: args,
          string: 'hello',
          empty_string: '',
          bool: true,
          int16: int16(300),
          int32: -42,
          int64: 1099511627776,
          double: 3.5,
          array: [1, 'two', false],
          table: { nested: { deep: 'yes' } },
        }),
      ),
      fail: method({ schema: noArgs }, () => {
        throw new UbusStatusError(Status.INVALID_ARGUMENT, 'fixture fail');
      }),
      multi: method({ schema: noArgs }, () => replies({ part: 'one' }, { part: 'two' })),
      notify: method({ schema: noArgs }, () => {
        counter++;
        self.object?.notify('fixture.changed', { counter, source: 'fixture' });
        return { notify_ret: 0, has_subscribers: self.object?.hasSubscribers ?? false };
      }),
      add_temp: method({ schema: noArgs }, async () => {
        temp = await client.addObject('fixture.temp', { ping: method({ schema: noArgs }, () => ({ pong: 'fixture.temp' })) });
        return { ret: 0, id: int32(temp.id | 0) };
      }),
      remove_temp: method({ schema: noArgs }, async () => {
        await temp?.remove();
        return { ret: 0 };
      }),
    },
    { onSubscribers: (active) => log.push(`has_subscribers=${active ? 1 : 0}`) },
  );
  self.object = object;
  return object;
}

async function statusOf(work: Promise<unknown>): Promise<number> {
  try {
    await work;
    return 0;
  } catch (error) {
    if (error instanceof UbusStatusError) return error.status;
    throw error;
  }
}

/** What a role gets besides the client: `done` resolves when ubusd's side hung up. */
export interface RoleContext {
  done: Promise<void>;
  sleep(ms: number): Promise<void>;
}

/** scenario → role → what to do; each returns what the test compares with the recording. */
export const roles: Record<string, Record<string, (client: UbusClient, ctx: RoleContext) => Promise<unknown>>> = {
  '01-hello-list': {
    'fixture-server': async (c, { done }) => {
      await serveFixture(c, []);
      await done;
      return null;
    },
    'ubus-list': async (c) => (await c.lookup()).map((o) => o.path),
    'ubus-list-verbose': async (c) =>
      (await c.lookup('fixture')).map((o) => ({ path: o.path, id: o.id, signature: o.signature })),
    'ubus-list-wildcard': async (c) => (await c.lookup('fix*')).map((o) => o.path),
  },
  '02-call-echo': {
    'fixture-server': async (c, { done }) => {
      await serveFixture(c, []);
      await done;
      return null;
    },
    'ubus-call': (c) =>
      c.call('fixture', 'echo', {
        string: 'abc',
        number: 42,
        flag: true,
        list: [1, 'two', false],
        obj: { k: 'v', inner: { n: -1 } },
      }),
  },
  '03-call-errors': {
    'fixture-server': async (c, { done }) => {
      await serveFixture(c, []);
      await done;
      return null;
    },
    'call-fail': (c) => statusOf(c.call('fixture', 'fail')),
    'call-no-method': (c) => statusOf(c.call('fixture', 'nosuchmethod')),
    'call-no-object': (c) => statusOf(c.call('nosuchobject', 'foo')),
    // the CLI failed on its JSON before sending anything: connecting is all that happens
    'call-bad-json': async () => null,
  },
  '04-call-multi-reply': {
    'fixture-server': async (c, { done }) => {
      await serveFixture(c, []);
      await done;
      return null;
    },
    'ubus-call': (c) => c.call('fixture', 'multi'),
  },
  '05-event-send-listen': {
    'ubus-listen': async (c, { done }) => {
      const events: unknown[] = [];
      await c.listen('fixture.evt', (event, data) => events.push({ [event]: data }));
      await done;
      return events;
    },
    'ubus-send': (c) => c.send('fixture.evt', { a: 1, b: 'text', c: [true, false] }),
    'ubus-send-other': (c) => c.send('other.evt', { ignored: true }),
  },
  '06-object-add-remove': {
    'ubus-listen-sysevents': async (c, { done }) => {
      const events: unknown[] = [];
      await c.listen(['ubus.object.add', 'ubus.object.remove'], (event, data) => events.push({ [event]: data }));
      await done;
      return events;
    },
    'fixture-server': async (c, { done }) => {
      await serveFixture(c, []);
      await done;
      return null;
    },
    'call-add-temp': (c) => c.call('fixture', 'add_temp'),
    'call-temp-ping': (c) => c.call('fixture.temp', 'ping'),
    'call-remove-temp': (c) => c.call('fixture', 'remove_temp'),
  },
  '07-subscribe-notify': {
    'fixture-server': async (c, { done }) => {
      const log: string[] = [];
      await serveFixture(c, log);
      await done;
      return log;
    },
    'ubus-subscribe': async (c, { done }) => {
      const notes: unknown[] = [];
      await c.subscribe('fixture', (type, data) => notes.push({ [type]: data }));
      await done;
      return notes;
    },
    'call-notify': (c) => c.call('fixture', 'notify'),
  },
  '08-wait-for': {
    'ubus-wait-for': async (c) => {
      await c.waitFor('fixture', 5000);
      return 'appeared';
    },
    'fixture-server': async (c, { done }) => {
      await serveFixture(c, []);
      await done;
      return null;
    },
  },
  '09-monitor': {
    'fixture-server': async (c, { done }) => {
      await serveFixture(c, []);
      await done;
      return null;
    },
    'ubus-monitor': async (c, { done, sleep }) => {
      const seen: Array<{ client: number; send: boolean; type: number }> = [];
      const stop = await c.monitor((r: MonitorRecord) => seen.push({ client: r.client, send: r.send, type: r.message.type }));
      for (let i = 0; i < 500 && seen.length < 11; i++) await sleep(10);
      await stop();
      await done;
      return seen;
    },
    'ubus-call': (c) => c.call('fixture', 'echo', { string: 'x' }),
  },
};
