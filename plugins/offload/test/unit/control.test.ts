// The control client against a fake offloadd on a real unix socket (the Node platform's
// sockets, as the plugin uses them): ids, in-order replies, daemon errors, time limits,
// reconnecting after the daemon went away, waiting for a daemon that is not listening yet.
import { join } from 'node:path';
import type { Clock } from '@wrtkit/sdk';
import { createNodePlatform } from '@wrtkit/core/platform/node';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlClient, DaemonError, decodeUtf8, encodeLine } from '../../src/control.js';
import { FakeDaemon } from './fake-daemon.js';

const clock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};
const log = { debug() {}, info() {}, warn() {}, error() {}, child: () => log } as never;

const platform = await createNodePlatform([]);
const connect = (path: string) => platform.sockets!.connect(path);

let fake: FakeDaemon | undefined;
let client: ControlClient | undefined;
afterEach(async () => {
  client?.close(true);
  await fake?.close();
  fake = undefined;
});

describe('ControlClient', () => {
  it('sends {id, cmd, args} lines and resolves each request with its result', async () => {
    fake = await FakeDaemon.start();
    client = new ControlClient(connect, fake.path, clock, log);
    const [status, flush] = await Promise.all([
      client.request('status'),
      client.request('flush_client', { mac: 'aa:bb:cc:dd:ee:ff' }),
    ]);
    expect(status).toMatchObject({ flows: 2 });
    expect(flush).toEqual({ removed: 2 });
    expect(fake.requests).toEqual([
      { id: 1, cmd: 'status' },
      { id: 2, cmd: 'flush_client', args: { mac: 'aa:bb:cc:dd:ee:ff' } },
    ]);
  });

  it("a refused request rejects with the daemon's code", async () => {
    fake = await FakeDaemon.start();
    fake.answer = () => ({ error: { code: 'no_such_interface', message: 'eth9: no such interface' } });
    client = new ControlClient(connect, fake.path, clock, log);
    const error = await client.request('configure', { interfaces: [{ ifname: 'eth9', mode: 'tc' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaemonError);
    expect((error as DaemonError).daemonCode).toBe('no_such_interface');
    expect((error as Error).message).toMatch(/configure: no_such_interface: eth9/);
  });

  it('a request without an answer fails after its time limit; later ones still work', async () => {
    fake = await FakeDaemon.start();
    fake.answer = (r) => (r.cmd === 'flows' ? 'silent' : { result: { removed: 0 } });
    client = new ControlClient(connect, fake.path, clock, log, 150);
    await expect(client.request('flows')).rejects.toThrow(/flows: no answer in 150 ms/);
    await expect(client.request('flush')).resolves.toEqual({ removed: 0 });
  });

  it('reconnects after the daemon dropped the connection; pending requests fail', async () => {
    fake = await FakeDaemon.start();
    fake.answer = (r) => (r.cmd === 'flows' ? 'silent' : { result: { ok: 1 } });
    client = new ControlClient(connect, fake.path, clock, log);
    const pending = client.request('flows');
    await fake.waitFor('flows');
    fake.disconnectAll();
    await expect(pending).rejects.toThrow(/closed the connection/);
    await expect(client.request('status')).resolves.toEqual({ ok: 1 });
  });

  it('waits for a daemon that is not listening yet, until the time limit', async () => {
    fake = await FakeDaemon.start();
    client = new ControlClient(connect, join(fake.dir, 'nobody.sock'), clock, log, 300);
    await expect(client.request('status')).rejects.toThrow(/WRTKIT_ERR_CONTROL_UNAVAILABLE|status/);
  });

  it('UTF-8 both ways without TextEncoder', () => {
    const line = encodeLine('{"x":"é€𝄞"}');
    expect(Buffer.from(line).toString('utf8')).toBe('{"x":"é€𝄞"}\n');
    expect(decodeUtf8([...Buffer.from('a é € 𝄞')])).toBe('a é € 𝄞');
    expect(decodeUtf8([0x61, 0xff, 0x62, 0xc3])).toBe('a\ufffdb\ufffd');
  });
});
