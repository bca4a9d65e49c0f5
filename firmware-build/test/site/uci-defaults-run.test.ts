/**
 * The example's uci-defaults script run for real: /bin/sh runs it against a scratch
 * /etc/config holding the packages' shipped config files, with `uci` being the project's
 * own UCI command line (core/src/uci/cli.ts, an emulation of OpenWrt's, bundled here).
 * The config it leaves must pass each plugin's own validator, as on a router.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUci } from '@wrtkit/core';
import { validateConfig, type ConfigValidator } from '../../../core/src/config/validate.js';
import { availablePlugins, coreSchema, loadSite, uciDefaults, type JsonSchema, type Site } from '../../src/site/index.js';
import { EXAMPLE, REPO_ROOT, scratch } from './helpers.js';

const plugins = availablePlugins(REPO_ROOT);

/** A fresh OpenWrt's /etc/config/system, the part this script touches. */
const SYSTEM = `config system
\toption hostname 'OpenWrt'
\toption timezone 'UTC'
\toption ttylogin '0'

config timeserver 'ntp'
\toption enabled '1'
\tlist server '0.openwrt.pool.ntp.org'
\tlist server '1.openwrt.pool.ntp.org'
`;

/** Shipped config files: core's and the plugins' OpenWrt recipes (heartbeat ships none). */
const SHIPPED: Record<string, string> = {
  wrtkit: 'core/openwrt/files/etc/config/wrtkit',
  dynapoint: 'plugins/dynapoint/openwrt/files/etc/config/dynapoint',
  offload: 'plugins/offload/openwrt/files/etc/config/offload',
  pirania: 'plugins/pirania-nftables/openwrt/files/etc/config/pirania',
};

let tmp: ReturnType<typeof scratch>;
let bin: string;
let site: Site;

beforeAll(async () => {
  tmp = scratch('uci-run');
  bin = path.join(tmp.dir, 'bin');
  fs.mkdirSync(bin);
  const entry = path.join(tmp.dir, 'uci-entry.ts');
  fs.writeFileSync(
    entry,
    `import fs from 'node:fs';
import { createNodePlatform } from ${JSON.stringify(path.join(REPO_ROOT, 'core/src/platform/node/index.ts'))};
import { runUciCommand } from ${JSON.stringify(path.join(REPO_ROOT, 'core/src/uci/index.ts'))};
const platform = await createNodePlatform([]);
const args = process.argv.slice(2);
const stdin = args.includes('batch') ? fs.readFileSync(0, 'utf8') : undefined;
const argv = ['-c', process.env.UCI_CONFDIR, '-t', process.env.UCI_SAVEDIR, ...args];
const r = await runUciCommand(argv, stdin === undefined ? { fs: platform.fs } : { fs: platform.fs, stdin });
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
process.exitCode = r.exitCode;
`,
  );
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: path.join(tmp.dir, 'uci.mjs'),
    logLevel: 'warning',
  });
  fs.writeFileSync(
    path.join(bin, 'uci'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(tmp.dir, 'uci.mjs'))} "$@"\n`,
    { mode: 0o755 },
  );
  const loaded = await loadSite(EXAMPLE, REPO_ROOT);
  expect(loaded.errors).toEqual([]);
  site = loaded.site as Site;
});

afterAll(() => tmp.remove());

interface Device {
  conf: string;
  markers: string;
  run(script: string): { status: number | null; stdout: string; stderr: string };
  uci(...args: string[]): string;
  read(config: string): string;
}

function device(name: string): Device {
  const root = path.join(tmp.dir, name);
  const conf = path.join(root, 'etc/config');
  const markers = path.join(root, 'etc/wrtkit/site-defaults');
  const save = path.join(root, 'tmp/.uci');
  fs.mkdirSync(conf, { recursive: true });
  fs.mkdirSync(save, { recursive: true });
  fs.writeFileSync(path.join(conf, 'system'), SYSTEM);
  for (const [config, file] of Object.entries(SHIPPED)) fs.copyFileSync(path.join(REPO_ROOT, file), path.join(conf, config));
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, UCI_CONFDIR: conf, UCI_SAVEDIR: save };
  return {
    conf,
    markers,
    run(script) {
      // The device's paths, moved into the scratch root.
      const local = script
        .replace('\nwrtkit_conf_dir=/etc/config\n', `\nwrtkit_conf_dir=${conf}\n`)
        .replace('\nwrtkit_marker_dir=/etc/wrtkit/site-defaults\n', `\nwrtkit_marker_dir=${markers}\n`);
      expect(local).not.toBe(script);
      const file = path.join(root, '90-wrtkit-site');
      fs.writeFileSync(file, local);
      const r = spawnSync('/bin/sh', [file], { env, encoding: 'utf8', timeout: 60_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    uci(...args) {
      const r = spawnSync(path.join(bin, 'uci'), args, { env, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return r.stdout;
    },
    read: (config) => fs.readFileSync(path.join(conf, config), 'utf8'),
  };
}

/** The config as its plugin reads it on the router: converted by its schema, checked by its generated validator. */
async function asPluginReadsIt(
  dev: Device,
  config: string,
  schema: JsonSchema,
  source: string,
): Promise<Record<string, unknown>> {
  const validator = (
    (await import(path.join(REPO_ROOT, source, 'src/generated/validate-config.js'))) as { default: ConfigValidator }
  ).default;
  const pkg = parseUci(dev.read(config), { name: config }).package;
  const result = validateConfig<Record<string, unknown>>(config, pkg, schema, validator);
  if (!result.ok) throw result.error;
  return result.config;
}

const pluginNamed = (name: string) => plugins.find((p) => p.name === name) as (typeof plugins)[number];

describe("the example's uci-defaults script, run", () => {
  it('sets the community settings and every plugin default, and the plugins accept the result', async () => {
    const dev = device('first-boot');
    const { script } = uciDefaults(site, plugins);
    const r = dev.run(script);
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });

    expect(dev.uci('get', 'system.@system[0].hostname')).toMatch(/^ffms-([0-9a-f]{12}|node)\n$/);
    expect(dev.uci('get', 'system.@system[0].description')).toBe('Freifunk Musterstadt\n');
    expect(dev.uci('get', 'system.@system[0].timezone')).toBe('CET-1CEST,M3.5.0,M10.5.0/3\n');
    expect(dev.uci('get', 'system.@system[0].zonename')).toBe('Europe/Berlin\n');
    expect(dev.uci('get', 'system.@system[0].ttylogin')).toBe('0\n');
    expect(dev.uci('get', 'system.ntp.server')).toBe('0.de.pool.ntp.org 1.de.pool.ntp.org\n');

    const host = await asPluginReadsIt(dev, 'wrtkit', coreSchema(), 'core');
    expect(host.wrtkit).toMatchObject({ '.name': 'main', log_level: 'warn', plugin_dir: '/usr/share/wrtkit/plugins' });

    const offload = pluginNamed('offload');
    expect((await asPluginReadsIt(dev, 'offload', offload.schema as JsonSchema, offload.source)).offload).toMatchObject({
      '.name': 'main',
      enabled: true,
      mode: 'tc',
      interfaces: ['eth0', 'eth1'],
      ipv6: true,
      daemon: '/usr/sbin/offloadd',
    });

    // The site's list of rules replaced the shipped one (same name, the site's hosts).
    const dynapoint = pluginNamed('dynapoint');
    const rules = (await asPluginReadsIt(dev, 'dynapoint', dynapoint.schema as JsonSchema, dynapoint.source)).rule as unknown[];
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      '.name': 'internet',
      hosts: ['http://detectportal.firefox.com/success.txt', 'dns://9.9.9.9/openwrt.org', 'icmp://1.1.1.1'],
      add_hostname_to_ssid: true,
    });
    expect(rules[0]).not.toHaveProperty('curl_interface');

    const pirania = pluginNamed('pirania-nftables');
    expect((await asPluginReadsIt(dev, 'pirania', pirania.schema as JsonSchema, pirania.source)).base_config).toMatchObject({
      '.name': 'base_config',
      enabled: true,
      prune_expired_for_days: 60,
      allowlist_ipv4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
      allowlist_ipv6: ['fc00::/7', 'fe80::/64'],
      catch_bridged_interfaces: ['phy0-ap0'],
      connectivity_rule: 'internet',
    });

    // heartbeat ships no config file: the script creates it.
    const heartbeat = pluginNamed('heartbeat');
    expect(dev.read('heartbeat')).toBe("\nconfig heartbeat 'main'\n\toption interval '60000'\n\toption label 'ffms'\n\n");
    expect((await asPluginReadsIt(dev, 'heartbeat', heartbeat.schema as JsonSchema, heartbeat.source)).heartbeat).toMatchObject({
      interval: 60000,
      label: 'ffms',
    });

    expect(fs.readdirSync(dev.markers).sort()).toEqual(['dynapoint', 'heartbeat', 'offload', 'pirania', 'system', 'wrtkit']);
  });

  it("leaves a package alone once it was set (the user's config survives a sysupgrade), and sets one that is new", () => {
    const dev = device('upgrade');
    const { script } = uciDefaults(site, plugins);
    expect(dev.run(script).status).toBe(0);
    // The user changes things; a later firmware brings the script again, and heartbeat is
    // new to this device (no marker).
    dev.uci('set', 'offload.main.mode=xdp');
    dev.uci('set', 'system.@system[0].hostname=kitchen');
    dev.uci('set', 'heartbeat.main.label=mine');
    dev.uci('commit');
    fs.rmSync(path.join(dev.markers, 'heartbeat'));
    expect(dev.run(script)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(dev.uci('get', 'offload.main.mode')).toBe('xdp\n');
    expect(dev.uci('get', 'system.@system[0].hostname')).toBe('kitchen\n');
    expect(dev.uci('get', 'heartbeat.main.label')).toBe('ffms\n');
  });

  it('writes tricky values and anonymous sections as uci reads them back', () => {
    const dev = device('tricky');
    const tricky = 'Tom\'s café; $(reboot) `x` \\n "q"';
    const { script } = uciDefaults(
      {
        ...site,
        community: { name: 'Café "Libre"' },
        host: {
          apply: [
            { '.name': 'wireless', command: ['wifi', 'reload'] },
            { command: ['true'], enabled: false },
          ],
        },
        plugins: {
          'beat-counter': { config: { counter: { ssid: tricky, wifi_iface: 'default_radio0' } } },
          'pirania-nftables': { config: { base_config: { append_nft_rules: 'line one\nEOF\nline three' } } },
        },
      },
      plugins,
    );
    expect(dev.run(script)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(dev.uci('get', 'system.@system[0].description')).toBe('Café "Libre"\n');
    expect(dev.uci('get', 'system.@system[0].hostname')).toBe('OpenWrt\n');
    expect(dev.uci('get', 'beat-counter.@counter[0].ssid')).toBe(`${tricky}\n`);
    expect(dev.uci('get', 'pirania.base_config.append_nft_rules')).toBe('line one\nEOF\nline three\n');
    expect(dev.uci('show', 'wrtkit.@apply[1]')).toMatch(
      /^wrtkit\.cfg[0-9a-f]+=apply\nwrtkit\.cfg[0-9a-f]+\.command='true'\nwrtkit\.cfg[0-9a-f]+\.enabled='0'\n$/,
    );
    expect(dev.uci('get', 'wrtkit.wireless.command')).toBe('wifi reload\n');
  });
});
