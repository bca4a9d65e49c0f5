/**
 * The host and the CLI over ubus, end to end, with our broker standing in for ubusd: the
 * built bundle runs `wrtkit ubusd`, the host (`wrtkit run`, /etc/config/wrtkit pointing
 * `ubus_socket` at the broker) and the CLI, on QuickJS with the native module and on
 * Node.js. The host's and each plugin's objects appear on ubus; the CLI reaches them
 * through ubus only (its control socket leads nowhere); a bad argument is explained; a
 * host event hook fired by a plugin arrives as the ubus event `wrtkit.<hook>`; and after
 * the broker restarts, the host registers its objects again by itself.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/clock/clock.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { UbusClient } from '../../src/ubus/client.js';
import { MsgType } from '../../src/ubus/constants.js';
import { type MonitorRecord, attrsOf } from '../../src/ubus/message.js';
import { type Engine, HostProcess, buildBundles, engineArgv, repoRoot } from '../helpers/engines.js';
import { buildNative } from '../platform/native-build.js';

const platform = await createNodePlatform([]);
const clock = new SystemClock(platform.timers);

let bundles: { host: string; plugins: string };
beforeAll(() => {
  // Its own build dir: host-bundle.test.ts may be building .cache/e2e at the same time.
  bundles = buildBundles(join(repoRoot, '.cache/e2e-ubus/build'));
  // qjs gets its sockets (ubus, control socket) from the native module, as on the router
  process.env.WRTKIT_NATIVE = buildNative();
}, 120_000);

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/**
 * A plugin that fires a host event hook when asked: `emitter.emit` calls the
 * `connectivity` hook (as a connectivity-watching plugin would), which the host forwards
 * to ubus. Written as the bundle a plugin build makes: @wrtkit/core comes from the host.
 */
const EMITTER = `export {};
const core = globalThis[Symbol.for('wrtkit.runtime.v1')]['@wrtkit/core'];
export default core.definePlugin({
  name: 'emitter',
  version: '0.1.0',
  apiVersion: '^1',
  setup(ctx) {
    ctx.serve({
      emit: core.method(
        {
          access: 'write',
          schema: {
            type: 'object',
            properties: { rule: { type: 'string' }, online: { type: 'boolean' } },
            required: ['rule', 'online'],
            additionalProperties: false,
          },
        },
        async (args) => {
          await ctx.hooks.connectivity.call({ rule: args.rule, online: args.online, since: 1700000000000 });
          return { emitted: 'connectivity' };
        },
      ),
    });
  },
});
`;

function routerRoot(engine: Engine) {
  const root = mkdtempSync(join(tmpdir(), `wrtkit-ubus-${engine}-`));
  roots.push(root);
  const pluginDir = join(root, 'usr/lib/wrtkit/plugins');
  cpSync(join(bundles.plugins, 'heartbeat'), join(pluginDir, 'heartbeat'), { recursive: true });
  mkdirSync(join(pluginDir, 'emitter'), { recursive: true });
  writeFileSync(join(pluginDir, 'emitter/index.js'), EMITTER);
  writeFileSync(
    join(pluginDir, 'emitter/manifest.json'),
    JSON.stringify({ name: 'emitter', version: '0.1.0', apiVersion: '^1', description: 'fires host events', entry: 'index.js' }),
  );
  const ubus = join(root, 'run/ubus.sock');
  const wrtkitConfig = (controlSocket: string) =>
    [
      "config wrtkit 'main'",
      `\toption plugin_dir '${pluginDir}'`,
      `\toption state_dir '${root}/state'`,
      `\toption control_socket '${controlSocket}'`,
      `\toption ubus_socket '${ubus}'`,
      "\toption state_flush_delay '50'",
      '',
    ].join('\n');
  // The host's /etc/config, and the CLI's: the same ubus socket, but a control socket
  // nobody listens on, so only ubus can answer the CLI.
  const config = join(root, 'etc/config');
  const cliConfig = join(root, 'cli/etc/config');
  mkdirSync(config, { recursive: true });
  mkdirSync(cliConfig, { recursive: true });
  writeFileSync(join(config, 'wrtkit'), wrtkitConfig(join(root, 'run/control.sock')));
  writeFileSync(join(cliConfig, 'wrtkit'), wrtkitConfig(join(root, 'run/nobody.sock')));
  writeFileSync(join(config, 'heartbeat'), "config heartbeat 'main'\n\toption interval '1000'\n\toption label 'lab'\n");
  return { root, ubus, config, cliConfig };
}

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(condition)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each<Engine>(['qjs', 'node'])('host and CLI over ubus on %s', (engine) => {
  it('objects on ubus, CLI through ubus, explained errors, events, re-registration after a broker restart', async () => {
    const r = routerRoot(engine);
    const broker = () => new HostProcess(engineArgv(engine, bundles.host, ['ubusd', '--socket', r.ubus]));
    let ubusd = broker();
    let host: HostProcess | undefined;
    const clients: UbusClient[] = [];
    const connect = async () => {
      const client = await UbusClient.connect({
        sockets: platform.sockets!,
        clock,
        path: r.ubus,
        reconnect: false,
        timeoutMs: 5000,
      });
      clients.push(client);
      return client;
    };
    const cli = (...args: string[]) => {
      const [program, ...argv] = engineArgv(engine, bundles.host, ['--config-dir', r.cliConfig, ...args]);
      const run = spawnSync(program as string, argv, { encoding: 'utf8', timeout: 30_000 });
      return { code: run.status, stdout: run.stdout, stderr: run.stderr };
    };
    try {
      await ubusd.waitFor(/info ubusd: ubus broker listening/);
      // The host starts once the broker listens: it uses ubus when the socket is there at
      // start (as on OpenWrt, where ubusd starts first), and reconnects after that.
      host = new HostProcess(engineArgv(engine, bundles.host, ['run', '--config-dir', r.config]));
      await host.waitFor(/ready plugins=2 failed=0/);
      await host.waitFor(/serving objects on ubus/);

      // The host's and each plugin's objects, as `ubus list` would show them.
      const client = await connect();
      await until(async () => (await client.lookup()).length === 3, 'three objects');
      const objects = await client.lookup();
      expect(objects.map((o) => o.path)).toEqual(['emitter', 'heartbeat', 'wrtkit']);
      expect(objects.find((o) => o.path === 'heartbeat')?.signature).toEqual({ status: {}, beat: {} });
      expect(objects.find((o) => o.path === 'emitter')?.signature).toEqual({ emit: { rule: 3, online: 7 } });
      expect(Object.keys(objects.find((o) => o.path === 'wrtkit')?.signature ?? {})).toEqual([
        'status',
        'plugins',
        'validate',
        'reload',
        'objects',
      ]);
      expect(await client.call('heartbeat', 'status')).toEqual([{ count: expect.any(Number), interval: 1000, label: 'lab' }]);

      // The CLI goes through ubus: a monitor sees its call reach the heartbeat object.
      const records: MonitorRecord[] = [];
      const watcher = await connect();
      const stopMonitor = await watcher.monitor((record) => records.push(record));
      const status = cli('call', 'heartbeat.status');
      expect(status.stderr).toBe('');
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ interval: 1000, label: 'lab' });
      await until(() => records.some((x) => x.message.type === MsgType.INVOKE && x.send), 'the CLI call on the monitor');
      const heartbeatId = objects.find((o) => o.path === 'heartbeat')?.id;
      const invoked = records.filter((x) => x.message.type === MsgType.INVOKE && x.send).map((x) => attrsOf(x.message));
      expect(invoked.map((a) => [a.objid, a.method, a.user])).toEqual([[heartbeatId, 'status', 'root']]);
      await stopMonitor();

      const plugins = cli('plugins', '--json');
      expect(plugins.code).toBe(0);
      expect((JSON.parse(plugins.stdout) as Array<{ name: string; state: string }>).map((p) => [p.name, p.state])).toEqual([
        ['emitter', 'running'],
        ['heartbeat', 'running'],
      ]);
      const hostStatus = JSON.parse(cli('status', '--json').stdout) as { ubus: { connected: boolean; path: string } };
      expect(hostStatus.ubus).toMatchObject({ connected: true, path: r.ubus });

      // ubus answers a bad argument with a bare INVALID_ARGUMENT; the CLI says what is wrong.
      const bad = cli('call', 'heartbeat.status', '{"bogus":1}');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(
        /heartbeat\.status: \/bogus: unknown property bogus \(additionalProperties\) \[WRTKIT_ERR_INVALID_ARGUMENT\]/,
      );
      const missing = cli('call', 'emitter.emit', '{"rule":"wan"}');
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/emitter\.emit: .*online.*\(required\)/);
      const noMethod = cli('call', 'heartbeat.nosuch');
      expect(noMethod.code).toBe(2);
      expect(noMethod.stderr).toMatch(/object heartbeat has no method nosuch \[WRTKIT_ERR_METHOD_NOT_FOUND\]/);

      // A host event hook, fired by a plugin, arrives as a ubus event.
      const events: Array<[string, Record<string, unknown>]> = [];
      await client.listen('wrtkit.*', (event, data) => events.push([event, data]));
      const emitted = cli('call', 'emitter.emit', '{"rule":"wan","online":true}');
      expect(emitted.code).toBe(0);
      expect(JSON.parse(emitted.stdout)).toEqual({ emitted: 'connectivity' });
      await until(() => events.length > 0, 'wrtkit.connectivity');
      expect(events).toEqual([['wrtkit.connectivity', { rule: 'wan', online: true, since: 1700000000000 }]]);

      // The broker restarts: the host registers its objects again, with new ids.
      const before = new Map(objects.map((o) => [o.path, o.id]));
      const mark = host.lines.length;
      ubusd.signal('SIGTERM');
      expect((await ubusd.exited).code).toBe(0);
      await host.waitFor(/ubus: disconnected; reconnecting/, { from: mark });
      ubusd = broker();
      await ubusd.waitFor(/info ubusd: ubus broker listening/);
      await host.waitFor(/ubus: reconnected/, { from: mark });
      const again = await connect();
      await until(async () => (await again.lookup()).length === 3, 'the objects back');
      const after = await again.lookup();
      expect(after.map((o) => o.path)).toEqual(['emitter', 'heartbeat', 'wrtkit']);
      for (const o of after) expect(o.id).not.toBe(before.get(o.path));
      const afterRestart = cli('call', 'heartbeat.status');
      expect(afterRestart.code).toBe(0);
      expect(JSON.parse(afterRestart.stdout)).toMatchObject({ interval: 1000, label: 'lab' });
      // Host events flow again too.
      const later: string[] = [];
      await again.listen('wrtkit.*', (event) => later.push(event));
      expect(cli('call', 'emitter.emit', '{"rule":"lan","online":false}').code).toBe(0);
      await until(() => later.length > 0, 'an event after the restart');
      expect(later).toEqual(['wrtkit.connectivity']);
      expect(host.matching(/level=|fatal|Uncaught|unhandled/i)).toEqual([]);

      host.signal('SIGTERM');
      expect((await host.exited).code).toBe(0);
      ubusd.signal('SIGTERM');
      expect(await ubusd.exited).toEqual({ code: 0, signal: null });
      expect(ubusd.lines.at(-1)).toMatch(/info ubusd: stopped/);
    } finally {
      for (const client of clients) client.close();
      await host?.stop();
      await ubusd.stop();
    }
  }, 90_000);
});
