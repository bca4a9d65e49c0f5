// The lab for the offload plugin's end-to-end test: the lab of test/daemon (client —
// router — server, fw4-like nftables on the router) with the wrtkit host on the router
// running this plugin — which runs the REAL offloadd — and a small `tester` plugin whose
// method `deauth {mac}` fires clientAuthorization as pirania-nftables would.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HostEngine, Lab, LabHost } from '@wrtkit/sdk/lab';

export interface Bundles {
  hostBundle: string;
  pluginDir: string;
}

export const REPO = resolve(import.meta.dirname, '../../../..');

/** The host and this plugin, freshly built (unminified) into a dir of the test's own, with the tester plugin beside it. */
export function buildBundles(label: string): Bundles {
  const out = join(REPO, '.cache/offload-test', label);
  rmSync(out, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [join(REPO, 'scripts/build.mjs'), '--out', out, '--quiet', '--no-minify', join(REPO, 'plugins/offload')],
    { stdio: 'inherit' },
  );
  const tester = join(out, 'plugins/tester');
  mkdirSync(tester, { recursive: true });
  writeFileSync(join(tester, 'index.js'), TESTER);
  writeFileSync(
    join(tester, 'manifest.json'),
    JSON.stringify({
      name: 'tester',
      version: '0.1.0',
      apiVersion: '^1',
      description: 'fires clientAuthorization on request',
      entry: 'index.js',
    }),
  );
  return { hostBundle: join(out, 'wrtkit.js'), pluginDir: join(out, 'plugins') };
}

/**
 * Another plugin, written as the bundle a plugin build makes (@wrtkit/core comes from the
 * host): `tester.deauth {mac}` calls clientAuthorization with `authorized: false`, as
 * pirania-nftables does when a voucher expires.
 */
const TESTER = `export {};
const core = globalThis[Symbol.for('wrtkit.runtime.v1')]['@wrtkit/core'];
export default core.definePlugin({
  name: 'tester',
  version: '0.1.0',
  apiVersion: '^1',
  setup(ctx) {
    ctx.serve({
      deauth: core.method(
        {
          access: 'write',
          description: 'a client lost its authorization',
          schema: { type: 'object', properties: { mac: { type: 'string' } }, required: ['mac'], additionalProperties: false },
        },
        async ({ mac }) => {
          await ctx.hooks.clientAuthorization.call({ mac, authorized: false });
          return { fired: true };
        },
      ),
    });
  },
});
`;

export interface OffloadPaths {
  /** The directory holding offloadd (put on the host's PATH: permissions.exec allows the name). */
  daemonDir: string;
  object: string;
  pinDir: string;
  controlSocket: string;
}

/** Optional settings of the lab's /etc/config/offload (the defaults are what the existing tests use). */
export interface OffloadOptions {
  /** The hook (default tc). */
  mode?: 'tc' | 'xdp' | 'auto';
}

export function offloadConfig(paths: OffloadPaths, interfaces: string[], options: OffloadOptions = {}): string {
  return [
    "config offload 'main'",
    "\toption enabled '1'",
    ...interfaces.map((i) => `\tlist interfaces '${i}'`),
    `\toption mode '${options.mode ?? 'tc'}'`,
    "\toption ipv6 '1'",
    "\toption daemon 'offloadd'",
    `\toption object '${paths.object}'`,
    `\toption pin_dir '${paths.pinDir}'`,
    `\toption control_socket '${paths.controlSocket}'`,
    "\toption heartbeat_ms '200'",
    '',
  ].join('\n');
}

export async function startRouterHost(
  lab: Lab,
  bundles: Bundles,
  paths: OffloadPaths,
  interfaces: string[],
  engine: HostEngine = 'node',
  options: OffloadOptions = {},
): Promise<LabHost> {
  const host = await lab.startHost('router', {
    engine,
    ...bundles,
    env: { PATH: `${paths.daemonDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
    config: {
      wrtkit: "config wrtkit 'main'\n\toption log_level 'debug'\n",
      offload: offloadConfig(paths, interfaces, options),
    },
  });
  await host.waitForLog(/ready plugins=2 failed=0/, { timeoutMs: 30_000 });
  return host;
}
