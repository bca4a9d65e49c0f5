/**
 * The same rollup bundle of the host and two example plugins, on real QuickJS and on
 * Node.js: config from UCI files, a hook one plugin offers and the other taps, state that
 * persists across restarts, an invalid config change, a throwing plugin, composition
 * applied once, and a clean exit on SIGTERM.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Engine, HostProcess, buildBundles, engineArgv, repoRoot } from '../helpers/engines.js';
import { buildNative } from '../platform/native-build.js';

let bundles: { host: string; plugins: string };
beforeAll(() => {
  bundles = buildBundles(join(repoRoot, '.cache/e2e/build'));
  // qjs gets its sockets (control socket, CLI) from the native module, as on the router
  process.env.WRTKIT_NATIVE = buildNative();
}, 120_000);

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function routerRoot(engine: Engine) {
  const root = mkdtempSync(join(tmpdir(), `wrtkit-e2e-${engine}-`));
  roots.push(root);
  const config = join(root, 'etc/config');
  mkdirSync(config, { recursive: true });
  const write = (name: string, text: string) => writeFileSync(join(config, name), text);
  write(
    'wrtkit',
    [
      "config wrtkit 'main'",
      `\toption plugin_dir '${bundles.plugins}'`,
      `\toption state_dir '${root}/state'`,
      `\toption control_socket '${root}/run/control.sock'`,
      "\toption state_flush_delay '50'",
      "\toption retry_initial '300'",
      '',
      "config apply 'wireless'",
      "\tlist command 'sh'",
      "\tlist command '-c'",
      `\tlist command 'echo applied >> "$0"'`,
      `\tlist command '${root}/applied'`,
      '',
    ].join('\n'),
  );
  write('heartbeat', "config heartbeat 'main'\n\toption interval '100'\n\toption label 'lab'\n");
  write('beat-counter', "config counter 'main'\n\toption wifi_iface 'default_radio0'\n\toption ssid 'Beats'\n");
  write('wireless', "config wifi-iface 'default_radio0'\n\toption device 'radio0'\n\toption ssid 'OpenWrt'\n");
  const applies = () => {
    try {
      return readFileSync(join(root, 'applied'), 'utf8').trim().split('\n').length;
    } catch {
      return 0;
    }
  };
  const state = (plugin: string) =>
    JSON.parse(readFileSync(join(root, 'state', `${plugin}.json`), 'utf8')) as Record<string, number>;
  return { root, config, write, applies, state };
}

const beatCount = (line: string) => Number(/count=(\d+)/.exec(line)?.[1]);

describe.each<Engine>(['qjs', 'node'])('host bundle on %s', (engine) => {
  it('boots, composes, survives bad config and a throwing plugin, persists state, stops on SIGTERM', async () => {
    const r = routerRoot(engine);
    const run = () => new HostProcess(engineArgv(engine, bundles.host, ['run', '--config-dir', r.config]));
    const host = run();
    try {
      // Boot: both plugins loaded from their bundles and manifests, config from UCI.
      await host.waitFor(/ready plugins=2 failed=0/);
      expect(host.matching(new RegExp(`engine=${engine}`)).length).toBeGreaterThan(0);

      // Cross-plugin hook: heartbeat calls its offered `beat` hook, beat-counter taps it.
      await host.waitFor(/heartbeat: beat count=\d+ label=lab/, { count: 3 });

      // Composition: beat-counter's SSID applied once, the file as `uci commit` writes it.
      await host.waitFor(/applied package=wireless/);
      expect(readFileSync(join(r.config, 'wireless'), 'utf8')).toBe(
        "\nconfig wifi-iface 'default_radio0'\n\toption device 'radio0'\n\toption ssid 'Beats'\n\n",
      );
      expect(r.applies()).toBe(1);

      {
        // The CLI, on the same engine, reaches the host over the control socket.
        const cli = (...args: string[]) => {
          const [program, ...argv] = engineArgv(engine, bundles.host, ['--config-dir', r.config, ...args]);
          return execFileSync(program as string, argv, { encoding: 'utf8' });
        };
        const plugins = JSON.parse(cli('plugins', '--json')) as Array<{ name: string; state: string; hookTimeMs: number }>;
        expect(plugins.map((p) => [p.name, p.state])).toEqual([
          ['heartbeat', 'running'],
          ['beat-counter', 'running'],
        ]);
        expect(JSON.parse(cli('call', 'heartbeat.status', '{}'))).toMatchObject({ interval: 100, label: 'lab' });
        expect(cli('plugins')).toMatch(/^NAME\s+VERSION\s+STATE/);
      }

      // An invalid change: reported with its UCI path and rule; heartbeat keeps running
      // on its last good config, and the other plugin is untouched.
      let mark = host.lines.length;
      r.write('heartbeat', "config heartbeat 'main'\n\toption interval 'fast'\n\toption label 'lab'\n");
      host.signal('SIGHUP');
      await host.waitFor(/heartbeat\.main\.interval: must be integer \(type\); keeping the last good config/, { from: mark });
      await host.waitFor(/heartbeat: beat count/, { from: mark, count: 2 });

      // A throwing plugin: beat-counter is told to throw at a beat a little ahead.
      const last = beatCount(host.matching(/heartbeat: beat count/).at(-1) ?? '');
      const failAt = last + 3;
      mark = host.lines.length;
      r.write(
        'beat-counter',
        `config counter 'main'\n\toption wifi_iface 'default_radio0'\n\toption ssid 'Beats'\n\toption fail_at '${failAt}'\n`,
      );
      host.signal('SIGHUP');
      await host.waitFor(
        new RegExp(`plugin beat-counter failed in hook heartbeat\\.beat: configured to fail at beat ${failAt}`),
        { from: mark },
      );
      await host.waitFor(/plugin will be retried plugin=beat-counter/, { from: mark });
      // The host and heartbeat go on; beat-counter comes back after the backoff.
      const after = host.lines.length;
      await host.waitFor(/heartbeat: beat count/, { from: after, count: 3 });
      await host.waitFor(/plugin restarted plugin=beat-counter/, { from: mark });
      expect(host.matching(/level=|fatal|Uncaught|unhandled/i)).toEqual([]);

      // SIGTERM: clean exit, state flushed.
      host.signal('SIGTERM');
      const exit = await host.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(host.lines.at(-1)).toMatch(/info wrtkit: stopped/);
      const count = r.state('heartbeat').count as number;
      expect(count).toBe(beatCount(host.matching(/heartbeat: beat count/).at(-1) ?? ''));
      expect(r.state('beat-counter').received).toBeGreaterThanOrEqual(3);

      // Restart: counting continues from the persisted state; nothing to apply again.
      r.write('heartbeat', "config heartbeat 'main'\n\toption interval '100'\n\toption label 'lab'\n");
      const again = run();
      try {
        const [first] = await again.waitFor(/heartbeat: beat count/);
        expect(beatCount(first ?? '')).toBe(count + 1);
        await again.waitFor(/composition changed nothing|ready plugins=2/);
        again.signal('SIGTERM');
        expect((await again.exited).code).toBe(0);
        expect(r.applies()).toBe(1);
      } finally {
        await again.stop();
      }
    } finally {
      await host.stop();
    }
  }, 90_000);
});
