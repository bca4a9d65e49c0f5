// The plugin in the real host (createTestHost: programs are recorded, not run — so the
// "daemon" exits at once, like a crash) with a fake offloadd on the control socket:
// configure on ready and again after each restart (with backoff), on a config change a
// new configure, a daemon argv change or disable stops/starts it; a deauthorized client
// is flushed by MAC at once; the ubus methods and their argument checks.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestHost, type TestHost } from '@wrtkit/sdk/testing';
import { afterEach, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import plugin from '../../src/index.js';
import { FLOW, FakeDaemon } from './fake-daemon.js';

let fake: FakeDaemon | undefined;
let t: TestHost | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
  await fake?.close();
  fake = undefined;
});

const config = (socket: string, extra: Record<string, string | string[]> = {}) =>
  [
    "config offload 'main'",
    ...Object.entries({ enabled: '1', control_socket: socket, ...extra }).flatMap(([k, v]) =>
      Array.isArray(v) ? v.map((x) => `\tlist ${k} '${x}'`) : [`\toption ${k} '${v}'`],
    ),
    '',
  ].join('\n');

async function start(extra: Record<string, string | string[]> = {}) {
  fake = await FakeDaemon.start();
  t = await createTestHost({
    plugins: [{ definition: plugin, manifest: pkg.wrtkit }],
    config: { offload: config(fake.path, { interfaces: ['lan', 'wan'], ...extra }) },
  });
  return { fake, t };
}

const daemonRuns = (host: TestHost) => host.runs.filter((r) => r.argv[0]?.endsWith('offloadd'));

describe('offload plugin', () => {
  it('disabled (the default): no daemon, empty flows, status says so', async () => {
    t = await createTestHost({ plugins: [{ definition: plugin, manifest: pkg.wrtkit }] });
    expect(daemonRuns(t)).toEqual([]);
    expect(await t.call('offload', 'flows')).toEqual({ flows: [] });
    expect(await t.call('offload', 'status')).toMatchObject({ enabled: false, daemon: { running: false, starts: 0 } });
    await t.emit('clientAuthorization', { mac: 'aa:bb:cc:dd:ee:ff', authorized: false });
    expect(t.errors()).toEqual([]);
  });

  it('ready: offloadd started with its argv and configured with the interfaces', async () => {
    const { fake, t } = await start({ exclude_macs: ['AA:BB:CC:DD:EE:01'], exclude_cidrs: ['192.168.1.5/32'], ipv6: '0' });
    expect(daemonRuns(t)[0]?.argv).toEqual([
      '/usr/sbin/offloadd',
      '--control',
      fake.path,
      '--object',
      '/lib/bpf/offload.bpfel.o',
      '--pin-dir',
      '/sys/fs/bpf/wrtkit-offload',
    ]);
    const [configure] = await fake.waitFor('configure');
    expect(configure?.args).toEqual({
      interfaces: [
        { ifname: 'lan', mode: 'tc' },
        { ifname: 'wan', mode: 'tc' },
      ],
      ipv6: false,
      exclude_macs: ['aa:bb:cc:dd:ee:01'],
      exclude_cidrs: ['192.168.1.5/32'],
      heartbeat_ms: 1000,
    });
  });

  it('the daemon crashed: restarted after 1 s, 2 s … and configured again each time', async () => {
    const { fake, t } = await start();
    await fake.waitFor('configure', 1);
    // the recorded "daemon" exits at once: it is a crash
    await t.advance(999);
    expect(daemonRuns(t)).toHaveLength(1);
    await t.advance(1);
    expect(daemonRuns(t)).toHaveLength(2);
    await fake.waitFor('configure', 2);
    await t.advance(1999);
    expect(daemonRuns(t)).toHaveLength(2);
    await t.advance(1);
    expect(daemonRuns(t)).toHaveLength(3);
    await fake.waitFor('configure', 3);
    expect(t.logs.some((r) => r.level === 'warn' && r.message === 'offloadd exited')).toBe(true);
  });

  it('clientAuthorization false: flush_client with that MAC at once, then excluded until authorized again', async () => {
    const { fake, t } = await start({ exclude_macs: ['aa:bb:cc:dd:ee:01'] });
    await fake.waitFor('configure');
    await t.emit('clientAuthorization', { mac: '02:0F:00:00:01:02', authorized: true, until: Date.now() + 1000 });
    expect(fake.commands()).toEqual(['configure']);
    await t.emit('clientAuthorization', { mac: '02:0F:00:00:01:02', authorized: false });
    // excluded before flushed: nothing can re-offload the client in between
    expect(fake.commands()).toEqual(['configure', 'configure', 'flush_client']);
    expect(fake.of('flush_client').map((r) => r.args)).toEqual([{ mac: '02:0f:00:00:01:02' }]);
    expect(fake.of('configure')[1]?.args?.exclude_macs).toEqual(['aa:bb:cc:dd:ee:01', '02:0f:00:00:01:02']);
    expect(await t.call('offload', 'status')).toMatchObject({ deauthorized: ['02:0f:00:00:01:02'] });
    // a config change keeps it excluded
    t.writeConfig('offload', config(fake.path, { interfaces: ['lan'] }));
    await t.reload();
    await fake.waitFor('configure', 3);
    expect(fake.of('configure')[2]?.args?.exclude_macs).toEqual(['02:0f:00:00:01:02']);
    await t.emit('clientAuthorization', { mac: '02:0f:00:00:01:02', authorized: true });
    expect(fake.of('configure')[3]?.args?.exclude_macs).toEqual([]);
    expect(fake.of('flush_client')).toHaveLength(1);
  });

  it('deauthorized clients are remembered across a restart of the host (state file), and forgotten once authorized', async () => {
    const first = await start();
    await first.fake.waitFor('configure');
    await first.t.emit('clientAuthorization', { mac: '02:0f:00:00:01:02', authorized: false });
    // state() flushes the plugin's state file, as the host does when it stops
    expect(first.t.state('offload')).toEqual({ deauthorized: ['02:0f:00:00:01:02'] });
    const saved = readFileSync(join(first.t.stateDir, 'offload.json'));
    t = undefined;
    await first.t.stop();
    await first.fake.close();

    // the router restarts: a new host on the same state, a new daemon
    fake = await FakeDaemon.start();
    t = await createTestHost({
      plugins: [{ definition: plugin, manifest: pkg.wrtkit }],
      config: { offload: config(fake.path, { interfaces: ['lan'] }) },
      start: false,
    });
    mkdirSync(t.stateDir, { recursive: true });
    writeFileSync(join(t.stateDir, 'offload.json'), saved);
    await t.start();
    const [configure] = await fake.waitFor('configure');
    // the restarted daemon is told at once: the client's established connections stay in the stack
    expect(configure?.args?.exclude_macs).toEqual(['02:0f:00:00:01:02']);
    expect(await t.call('offload', 'status')).toMatchObject({ deauthorized: ['02:0f:00:00:01:02'] });
    await t.emit('clientAuthorization', { mac: '02:0f:00:00:01:02', authorized: true });
    expect(t.state('offload')).toEqual({ deauthorized: [] });
  });

  it('a state file that is not a list of MACs is ignored, not fatal', async () => {
    fake = await FakeDaemon.start();
    t = await createTestHost({
      plugins: [{ definition: plugin, manifest: pkg.wrtkit }],
      config: { offload: config(fake.path, { interfaces: ['lan'] }) },
      start: false,
    });
    mkdirSync(t.stateDir, { recursive: true });
    writeFileSync(join(t.stateDir, 'offload.json'), JSON.stringify({ deauthorized: { mac: 'x' } }));
    await t.start();
    const [configure] = await fake.waitFor('configure');
    expect(configure?.args?.exclude_macs).toEqual([]);
    expect(t.errors()).toEqual([]);
  });

  it('config change: a new configure; another control socket restarts the daemon; disabled stops it', async () => {
    const { fake, t } = await start();
    await fake.waitFor('configure');
    t.writeConfig('offload', config(fake.path, { interfaces: ['lan'], mode: 'xdp', heartbeat_ms: '500' }));
    await t.reload();
    const configures = await fake.waitFor('configure', 2);
    expect(configures[1]?.args).toMatchObject({ interfaces: [{ ifname: 'lan', mode: 'xdp' }], heartbeat_ms: 500 });
    expect(daemonRuns(t)).toHaveLength(1);

    const other = await FakeDaemon.start();
    try {
      t.writeConfig('offload', config(other.path, { interfaces: ['lan'] }));
      await t.reload();
      expect(daemonRuns(t)).toHaveLength(2);
      expect(daemonRuns(t)[1]?.argv).toContain(other.path);
      await other.waitFor('configure');
    } finally {
      await other.close();
    }

    t.writeConfig('offload', "config offload 'main'\n\toption enabled '0'\n");
    await t.reload();
    expect(await t.call('offload', 'status')).toMatchObject({ enabled: false });
    await t.advance(120_000);
    expect(daemonRuns(t)).toHaveLength(2);
  });

  it('mode auto: xdp, and tc where only generic XDP attached', async () => {
    fake = await FakeDaemon.start();
    fake.answer = (r) =>
      r.cmd === 'configure'
        ? {
            result: {
              interfaces: (r.args?.interfaces as Array<{ ifname: string; mode: string }>).map((i) => ({
                ...i,
                attached: i.mode === 'tc' ? 'tc' : i.ifname === 'lan' ? 'xdp-generic' : 'xdp-native',
              })),
            },
          }
        : { result: {} };
    t = await createTestHost({
      plugins: [{ definition: plugin, manifest: pkg.wrtkit }],
      config: { offload: config(fake.path, { interfaces: ['lan', 'wan'], mode: 'auto' }) },
    });
    const configures = await fake.waitFor('configure', 2);
    expect(configures.map((c) => c.args?.interfaces)).toEqual([
      [
        { ifname: 'lan', mode: 'xdp' },
        { ifname: 'wan', mode: 'xdp' },
      ],
      [
        { ifname: 'lan', mode: 'tc' },
        { ifname: 'wan', mode: 'xdp' },
      ],
    ]);
  });

  it('methods: status, flows, flush, flush_client (by mac or address, checked)', async () => {
    const { fake, t } = await start();
    await fake.waitFor('configure');
    expect(await t.call('offload', 'flows')).toEqual({ flows: [FLOW, { ...FLOW, dir: 'reply' }] });
    expect(await t.call('offload', 'status')).toMatchObject({
      enabled: true,
      configure: {
        ok: true,
        interfaces: [
          { ifname: 'lan', attached: 'tc' },
          { ifname: 'wan', attached: 'tc' },
        ],
      },
      offloadd: { flows: 2, offloaded_total: 1 },
    });
    expect(await t.call('offload', 'flush')).toEqual({ removed: 2 });
    expect(await t.call('offload', 'flush_client', { address: '10.1.0.12' })).toEqual({ removed: 2 });
    expect(await t.call('offload', 'flush_client', { mac: 'AA:BB:CC:DD:EE:FF' })).toEqual({ removed: 2 });
    expect(fake.of('flush_client').map((r) => r.args)).toEqual([{ address: '10.1.0.12' }, { mac: 'aa:bb:cc:dd:ee:ff' }]);
    await expect(t.call('offload', 'flush_client', { mac: 'nope' })).rejects.toThrow(/mac/);
    await expect(t.call('offload', 'flush_client', {})).rejects.toThrow(/mac or address/);
    await expect(t.call('offload', 'flush_client', { mac: 'aa:bb:cc:dd:ee:ff', address: '10.1.0.12' })).rejects.toThrow(
      /one of them/,
    );
    await expect(t.call('offload', 'flows', { x: 1 })).rejects.toThrow();
  });

  it('teardown stops the daemon', async () => {
    const { fake, t: host } = await start();
    await fake.waitFor('configure');
    await host.stop();
    t = undefined;
    expect(host.logs.some((r) => r.message === 'offloadd started')).toBe(true);
  });
});
