/**
 * The wrtkit host inside a lab node, on Node.js and on real QuickJS: the example plugins
 * boot from a router root in a temp dir, the CLI inside the namespace calls
 * heartbeat.status over the control socket, and SIGTERM stops the host cleanly.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HostEngine, leftovers } from '../../src/lab/index.js';
import { useLab } from '../../src/lab/vitest.js';
import { buildNative } from '../../../core/test/platform/native-build.js';
import { repoRoot, skipNote, support, threeNodes } from './support.js';

const config = {
  wrtkit: [
    "config wrtkit 'main'",
    "\toption state_flush_delay '50'",
    '',
    // beat-counter composes wireless; the lab has no `wifi`, so apply with a no-op
    "config apply 'wireless'",
    "\tlist command 'true'",
    '',
  ].join('\n'),
  heartbeat: "config heartbeat 'main'\n\toption interval '100'\n\toption label 'lab'\n",
  'beat-counter': "config counter 'main'\n\toption wifi_iface 'default_radio0'\n\toption ssid 'Beats'\n",
  wireless: "config wifi-iface 'default_radio0'\n\toption device 'radio0'\n\toption ssid 'OpenWrt'\n",
};

describe.skipIf(!support.ok)(`lab: the wrtkit host in a node${skipNote}`, () => {
  let bundles: { hostBundle: string; pluginDir: string };
  let native: string;
  beforeAll(() => {
    // a fresh build of the host and the example plugins (build/ may be stale or absent)
    const out = join(repoRoot, '.cache/lab-test/build');
    rmSync(join(out, 'plugins'), { recursive: true, force: true });
    const examples = ['heartbeat', 'beat-counter'].map((name) => join(repoRoot, 'examples/plugins', name));
    execFileSync(process.execPath, [join(repoRoot, 'scripts/build.mjs'), '--out', out, '--quiet', ...examples], {
      stdio: 'inherit',
    });
    bundles = { hostBundle: join(out, 'wrtkit.js'), pluginDir: join(out, 'plugins') };
    native = buildNative(); // qjs's sockets: control socket and CLI
  }, 120_000);

  const lab = useLab(threeNodes());

  it.each<HostEngine>(['node', 'qjs'])(
    'boots the example plugins inside the router on %s, answers the CLI, stops with 0',
    async (engine) => {
      const router = lab().node('router');
      const host = await lab().startHost('router', { ...bundles, engine, native, config });
      try {
        await host.waitForLog(/ready plugins=2 failed=0/, { timeoutMs: 20_000 });
        expect(host.matching(new RegExp(`engine=${engine}`)).length).toBeGreaterThan(0);
        // the host runs inside the router's namespace, not the test's
        expect(router.pids()).toContain(host.pid);
        expect(readlinkSync(`/proc/${host.pid}/ns/net`)).toBe(`net:[${router.inode}]`);
        expect(readlinkSync(`/proc/${host.pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
        await host.waitForLog(/heartbeat: beat count=\d+ label=lab/, { count: 2 });

        expect(await host.call('heartbeat', 'status')).toMatchObject({ interval: 100, label: 'lab' });
        const status = await host.cli(['--socket', host.socket, 'status', '--json']);
        expect(JSON.parse(status.stdout)).toMatchObject({ engine, state: 'running' });
        await expect(host.call('heartbeat', 'nope')).rejects.toThrow(/exited with 2/);

        expect(await host.stop()).toEqual({ code: 0, signal: null });
        expect(host.lines.at(-1)).toMatch(/info wrtkit: stopped/);
        expect(host.matching(/level=|fatal|Uncaught|unhandled/i)).toEqual([]);
      } finally {
        await host.stop(1_000);
      }
    },
    60_000,
  );

  it('destroy takes a running host and its temp root down too', async () => {
    const { createLab } = await import('../../src/lab/index.js');
    const own = await createLab({ nodes: { router: {} } });
    const host = await own.startHost('router', { ...bundles, config });
    await host.waitForLog(/ready plugins=2/, { timeoutMs: 20_000 });
    expect(leftovers(own.prefix).dirs).toEqual([expect.stringContaining(`wrtkit-lab-${own.prefix}-router-root-`)]);
    await own.destroy();
    expect(await host.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(leftovers(own.prefix)).toEqual({ namespaces: [], processes: [], dirs: [], registries: [] });
  }, 60_000);
});
