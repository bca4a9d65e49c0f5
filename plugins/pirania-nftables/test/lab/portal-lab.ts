// The lab for the end-to-end tests: a router running the wrtkit host with this plugin
// (the real portal, the real dnsmasq resolver, the real nftables gate), two clients on
// its bridge, and an "internet" node with a web server and a DNS server.
//
//   client1 ─┐
//            ├─ br-lan [router: wrtkit host + pirania-nftables] ── internet
//   client2 ─┘
//
// Addresses as in gate.test.ts: LAN 10.13.0.0/16 + fd13::/64 (router .1/::1, clients
// .11/.12), uplink 198.51.100.0/24 + 2001:db8:100::/64 (internet .2/::2): documentation
// prefixes, outside the allow-lists. Traffic stays inside the lab.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LabSpec } from '@wrtkit/sdk/lab';
import type { HostEngine, Lab, LabHost, LabNode, LabProcess } from '@wrtkit/sdk/lab';

export const MAC1 = '02:13:00:00:00:11';
export const MAC2 = '02:13:00:00:00:12';
export const INTERNET4 = '198.51.100.2';
export const INTERNET6 = '2001:db8:100::2';
/** What the internet's DNS server answers for every name. */
export const REAL_A = '198.51.100.99';
export const REAL_AAAA = '2001:db8:100::99';
export const ROUTER4 = '10.13.0.1';
export const ROUTER6 = 'fd13::1';

export const LAB_SPEC: LabSpec = {
  nodes: { client1: {}, client2: {}, router: { forwarding: true }, internet: {} },
  links: [
    { a: 'client1', b: 'router', mac: { client1: MAC1 }, addresses: { client1: ['10.13.0.11/16', 'fd13::11/64'] } },
    { a: 'client2', b: 'router', mac: { client2: MAC2 }, addresses: { client2: ['10.13.0.12/16', 'fd13::12/64'] } },
    {
      a: 'router',
      b: 'internet',
      addresses: { router: ['198.51.100.1/24', '2001:db8:100::1/64'], internet: [`${INTERNET4}/24`, `${INTERNET6}/64`] },
    },
  ],
  bridges: [{ node: 'router', name: 'br-lan', ports: ['client1', 'client2'], addresses: ['10.13.0.1/16', 'fd13::1/64'] }],
  routes: {
    client1: ['default via 10.13.0.1', 'default via fd13::1'],
    client2: ['default via 10.13.0.1', 'default via fd13::1'],
    internet: ['10.13.0.0/16 via 198.51.100.1', 'fd13::/64 via 2001:db8:100::1'],
  },
};

/** /etc/config/pirania for the lab router; files under `root`. */
export function piraniaConfig(root: string, extra = ''): string {
  return [
    "config base_config 'base_config'",
    "\toption enabled '1'",
    `\toption db_path '${root}/pirania/vouchers/'`,
    `\toption content_path '${root}/pirania/content.json'`,
    `\toption run_dir '${root}/run/pirania'`,
    "\tlist allowlist_ipv4 '10.0.0.0/8'",
    "\tlist allowlist_ipv6 'fc00::/7'",
    "\tlist catch_bridged_interfaces 'eth-client1'",
    "\tlist catch_bridged_interfaces 'eth-client2'",
    "\toption code_attempts_per_client '3'",
    "\toption code_attempts_window '300'",
    extra,
    '',
  ].join('\n');
}

export interface Bundles {
  hostBundle: string;
  pluginDir: string;
}

/**
 * The host and this plugin, freshly built (unminified: fast) into a dir of the test's own,
 * so that a stale or concurrently rebuilt build/ never runs here.
 */
export function buildBundles(label: string): Bundles {
  const repo = resolve(import.meta.dirname, '../../../..');
  const out = join(repo, '.cache/pirania-test', label);
  rmSync(out, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [join(repo, 'scripts/build.mjs'), '--out', out, '--quiet', '--no-minify', join(repo, 'plugins/pirania-nftables')],
    {
      stdio: 'inherit',
    },
  );
  return { hostBundle: join(out, 'wrtkit.js'), pluginDir: join(out, 'plugins') };
}

/** Starts the host on the router (on `root`, which may hold an earlier run) and waits until it is ready. */
export async function startRouterHost(
  lab: Lab,
  root: string,
  bundles: Bundles,
  engine: HostEngine = 'node',
  extra = '',
): Promise<LabHost> {
  mkdirSync(join(root, 'pirania'), { recursive: true });
  const host = await lab.startHost('router', {
    root,
    engine,
    ...bundles,
    config: { wrtkit: "config wrtkit 'main'\n\toption log_level 'debug'\n", pirania: piraniaConfig(root, extra) },
  });
  await host.waitForLog(/ready plugins=1 failed=0/, { timeoutMs: 20_000 });
  await host.waitForLog(/portal up/, { timeoutMs: 20_000 });
  return host;
}

// The internet: HTTP on 80 ("INTERNET OK"), DNS on 53 (every A/AAAA question answered
// with REAL_A/REAL_AAAA), other TCP on 443 and 8080 (a label), a UDP echo on 9999.
const INTERNET = `
const http = require('node:http'), net = require('node:net'), dgram = require('node:dgram');
const [a4, a6] = process.argv.slice(1);
let pending = 5;
const up = () => { if (--pending === 0) console.log('ready'); };
http.createServer((req, res) => { res.setHeader('content-type', 'text/html'); res.end('<!DOCTYPE html><title>Internet</title><h1 id="internet">INTERNET OK</h1>'); })
  .listen({ port: 80, host: '::', ipv6Only: false }, up);
for (const [port, label] of [[443, 'SERVER443'], [8080, 'SERVER8080']]) {
  net.createServer((s) => { s.on('error', () => {}); s.end(label); }).listen({ port, host: '::', ipv6Only: false }, up);
}
const echo = dgram.createSocket({ type: 'udp6', ipv6Only: false });
echo.on('message', (m, r) => echo.send('ECHO:' + m, r.port, r.address));
echo.bind(9999, '::', up);
const answer = (q) => {
  let off = 12;
  while (q[off] !== 0) off += q[off] + 1;
  off += 5;
  const type = q.readUInt16BE(off - 4);
  const rdata = type === 1 ? Buffer.from(a4.split('.').map(Number)) : type === 28 ? Buffer.from(expand(a6)) : null;
  const header = Buffer.from([q[0], q[1], 0x81, 0x80, 0, 1, 0, rdata ? 1 : 0, 0, 0, 0, 0]);
  const rr = rdata ? Buffer.concat([Buffer.from([0xc0, 12, 0, type, 0, 1, 0, 0, 0, 0, 0, rdata.length]), rdata]) : Buffer.alloc(0);
  return Buffer.concat([header, q.subarray(12, off), rr]);
};
function expand(a) {
  const [h, t = ''] = a.split('::');
  const hs = h ? h.split(':') : [], ts = t ? t.split(':') : [];
  const all = [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
  return all.flatMap((g) => { const n = parseInt(g, 16); return [n >> 8, n & 255]; });
}
const dns = dgram.createSocket({ type: 'udp6', ipv6Only: false });
dns.on('message', (q, r) => dns.send(answer(q), r.port, r.address));
dns.bind(53, '::', up);
`;

export async function startInternet(node: LabNode): Promise<LabProcess> {
  const p = node.spawn([process.execPath, '-e', INTERNET, REAL_A, REAL_AAAA]);
  await p.waitFor(/^ready$/, { timeoutMs: 10_000 });
  return p;
}

export interface HttpProbe {
  host: string;
  port?: number;
  path?: string;
  method?: 'GET' | 'POST';
  /** The Host header (default host:port as the URL has it). */
  hostHeader?: string;
  /** Form fields (POST). */
  form?: Record<string, string>;
  timeoutMs?: number;
}

export interface HttpResult {
  status?: number;
  location?: string;
  contentType?: string;
  body?: string;
  error?: string;
}

const HTTP_PROBER = `
const http = require('node:http');
const probes = JSON.parse(process.argv[1]);
const one = (p) => new Promise((resolve) => {
  const body = p.form ? new URLSearchParams(p.form).toString() : undefined;
  const headers = {};
  if (p.hostHeader) headers.host = p.hostHeader;
  if (body !== undefined) { headers['content-type'] = 'application/x-www-form-urlencoded'; headers['content-length'] = Buffer.byteLength(body); }
  const req = http.request({ host: p.host, port: p.port || 80, path: p.path || '/', method: p.method || 'GET', headers, timeout: p.timeoutMs || 2000 }, (res) => {
    let data = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (data += d));
    res.on('end', () => resolve({ status: res.statusCode, location: res.headers.location, contentType: res.headers['content-type'], body: data }));
  });
  req.on('timeout', () => { req.destroy(); resolve({ error: 'timeout' }); });
  req.on('error', (e) => resolve({ error: e.code === 'ECONNREFUSED' ? 'refused' : e.code || e.message }));
  if (body !== undefined) req.write(body);
  req.end();
});
(async () => { const out = []; for (const p of probes) out.push(await one(p)); process.stdout.write(JSON.stringify(out)); })();
`;

/** HTTP requests from `node`, one after the other (order matters for rate limits). */
export async function httpProbe(node: LabNode, probes: HttpProbe[]): Promise<HttpResult[]> {
  const r = await node.run([process.execPath, '-e', HTTP_PROBER, JSON.stringify(probes)], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`HTTP prober in ${node.name} failed (${String(r.exitCode)}): ${r.stderr}`);
  return JSON.parse(r.stdout) as HttpResult[];
}

const DNS_PROBER = `
const { Resolver } = require('node:dns').promises;
const [server, name, family] = process.argv.slice(1);
const r = new Resolver({ timeout: 1500, tries: 1 });
r.setServers([server]);
(family === '6' ? r.resolve6(name) : r.resolve4(name)).then(
  (a) => process.stdout.write(a.join(',')),
  (e) => process.stdout.write('error:' + e.code),
);
`;

/** Asks `server` (port 53) for `name`'s A (4) or AAAA (6) records: the addresses, or `error:<code>`. */
export async function dnsProbe(node: LabNode, server: string, name: string, family: 4 | 6): Promise<string> {
  const r = await node.run([process.execPath, '-e', DNS_PROBER, server, name, String(family)], { timeoutMs: 10_000 });
  return r.stdout;
}
