// The lab for dynapoint's end-to-end tests: a router running the wrtkit host with this
// plugin (and a small listener plugin that logs the connectivity hook), its uplink to an
// "isp" node that runs a web server and a DNS server.
//
//   router [wrtkit host: dynapoint + listener] eth-isp ── eth-router [isp: HTTP :80, DNS :53]
//
// 100.64.0.2/24 ── 100.64.0.1/24 (fd64::2 ── fd64::1). Traffic stays inside the lab.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HostEngine, Lab, LabHost, LabNode, LabProcess, LabSpec } from '@wrtkit/sdk/lab';

export const ISP4 = '100.64.0.1';
export const ISP6 = 'fd64::1';

export const LAB_SPEC: LabSpec = {
  nodes: { router: { forwarding: true }, isp: {} },
  links: [{ a: 'router', b: 'isp', addresses: { router: ['100.64.0.2/24', 'fd64::2/64'], isp: [`${ISP4}/24`, `${ISP6}/64`] } }],
};

/** The seed's wireless example (DynaPoint's final GSoC post), on a radio, plus a home SSID. */
export const WIRELESS = `config wifi-device 'radio0'
	option type 'mac80211'
	option channel '11'

config wifi-iface 'freifunk'
	option device 'radio0'
	option network 'lan2'
	option mode 'ap'
	option encryption 'none'
	option ssid 'freifunk'
	option dynapoint_rule 'internet'

config wifi-iface 'maintenance'
	option device 'radio0'
	option network 'lan2'
	option mode 'ap'
	option encryption 'none'
	option ssid 'freifunk-maintenance'
	option dynapoint_rule '!internet'

config wifi-iface 'home'
	option device 'radio0'
	option network 'lan'
	option mode 'ap'
	option ssid 'home'
`;

export interface Bundles {
  hostBundle: string;
  pluginDir: string;
}

/**
 * The host and this plugin, freshly built (unminified: fast) into a dir of the test's own,
 * with the listener plugin beside it.
 */
export function buildBundles(label: string): Bundles {
  const repo = resolve(import.meta.dirname, '../../../..');
  const out = join(repo, '.cache/dynapoint-test', label);
  rmSync(out, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [join(repo, 'scripts/build.mjs'), '--out', out, '--quiet', '--no-minify', join(repo, 'plugins/dynapoint')],
    {
      stdio: 'inherit',
    },
  );
  const listener = join(out, 'plugins/listener');
  mkdirSync(listener, { recursive: true });
  writeFileSync(join(listener, 'index.js'), LISTENER);
  writeFileSync(
    join(listener, 'manifest.json'),
    JSON.stringify({
      name: 'listener',
      version: '0.1.0',
      apiVersion: '^1',
      description: 'logs the connectivity hook',
      entry: 'index.js',
    }),
  );
  return { hostBundle: join(out, 'wrtkit.js'), pluginDir: join(out, 'plugins') };
}

/**
 * Another plugin: it taps `connectivity` and logs each event, as pirania would react to
 * it. Written as the bundle a plugin build makes (@wrtkit/core comes from the host).
 */
const LISTENER = `export {};
const core = globalThis[Symbol.for('wrtkit.runtime.v1')]['@wrtkit/core'];
export default core.definePlugin({
  name: 'listener',
  version: '0.1.0',
  apiVersion: '^1',
  setup(ctx) {
    ctx.hooks.connectivity.tap((e) => ctx.log.info('heard connectivity', { rule: e.rule, online: e.online, since: e.since }));
  },
});
`;

/** /etc/config/dynapoint for the lab: one rule probing the isp, fast. */
export function dynapointConfig(
  options: Record<string, string> = {},
  hosts = [`http://${ISP4}/`, `dns://${ISP4}/example.org`],
): string {
  const opts = {
    interval: '1',
    timeout: '0.5',
    offline_threshold: '3',
    online_threshold: '2',
    add_hostname_to_ssid: '1',
    ...options,
  };
  return [
    "config rule 'internet'",
    ...hosts.map((h) => `\tlist hosts '${h}'`),
    ...Object.entries(opts).map(([k, v]) => `\toption ${k} '${v}'`),
    '',
  ].join('\n');
}

export async function startRouterHost(
  lab: Lab,
  root: string,
  bundles: Bundles,
  dynapoint: string,
  engine: HostEngine = 'node',
  wireless = WIRELESS,
): Promise<LabHost> {
  const host = await lab.startHost('router', {
    root,
    engine,
    ...bundles,
    config: {
      // `true` stands in for `wifi reload`: the file is written, the apply counted.
      wrtkit: "config wrtkit 'main'\n\toption log_level 'debug'\n\nconfig apply 'wireless'\n\tlist command 'true'\n",
      system: "config system\n\toption hostname 'node1'\n",
      wireless,
      dynapoint,
    },
  });
  await host.waitForLog(/ready plugins=2 failed=0/, { timeoutMs: 20_000 });
  return host;
}

// HTTP on [::]:80 answering 204, DNS on [::]:53 answering every A/AAAA question.
const ISP_SERVERS = `
const http = require('node:http'), dgram = require('node:dgram');
let pending = 2;
const up = () => { if (--pending === 0) console.log('ready'); };
http.createServer((req, res) => { res.statusCode = 204; res.end(); }).listen({ port: 80, host: '::', ipv6Only: false }, up);
const dns = dgram.createSocket({ type: 'udp6', ipv6Only: false });
dns.on('message', (q, r) => {
  let off = 12;
  while (q[off] !== 0 && off < q.length) off += q[off] + 1;
  off += 5;
  const type = q.readUInt16BE(off - 4);
  const rdata = type === 1 ? Buffer.from([192, 0, 2, 80]) : type === 28 ? Buffer.from([0x20, 1, 0x0d, 0xb8, ...Array(11).fill(0), 0x80]) : null;
  const header = Buffer.from([q[0], q[1], 0x81, 0x80, 0, 1, 0, rdata ? 1 : 0, 0, 0, 0, 0]);
  const rr = rdata ? Buffer.concat([Buffer.from([0xc0, 12, 0, type, 0, 1, 0, 0, 0, 60, 0, rdata.length]), rdata]) : Buffer.alloc(0);
  dns.send(Buffer.concat([header, q.subarray(12, off), rr]), r.port, r.address);
});
dns.bind(53, '::', up);
`;

export async function startIsp(node: LabNode): Promise<LabProcess> {
  const p = node.spawn([process.execPath, '-e', ISP_SERVERS]);
  await p.waitFor(/^ready$/, { timeoutMs: 10_000 });
  return p;
}
