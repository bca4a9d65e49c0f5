// The probe lab: a client (where the prober runs, as on a router) and a server (HTTP,
// HTTPS, DNS, ping) joined by two links, so that binding to an interface can be told
// apart from routing.
//
//   client wan1 10.71.1.2/24 fd71:1::2/64 ── lan1 10.71.1.1/24 fd71:1::1/64  server
//   client wan2 10.71.2.2/24              ── lan2 10.71.2.1/24 + 10.71.9.1/32
//
// The client has no route to 10.71.9.1: unbound probes find it unreachable. Bound to wan2
// the kernel takes it as on-link there and the server answers; bound to wan1 it asks on
// wan1, where the server (arp_ignore=1) does not answer for an address of lan2.
// Documentation-free private prefixes; traffic never leaves the lab's namespaces.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultHostPaths } from '@wrtkit/sdk/lab';
import type { Lab, LabNode, LabProcess, LabSpec } from '@wrtkit/sdk/lab';
import { bundle } from '../../../../../scripts/rollup-plugins.js';
import type { RunnerOutput, RunnerSpec } from './runner.js';

export const SERVER4 = '10.71.1.1';
export const SERVER6 = 'fd71:1::1';
export const CLIENT4 = '10.71.1.2';
export const CLIENT2 = '10.71.2.2';
/** Reachable only through wan2 (see above). */
export const BOUND_ONLY = '10.71.9.1';

export const PROBE_LAB: LabSpec = {
  nodes: { client: {}, server: {} },
  links: [
    {
      a: 'client',
      b: 'server',
      names: { client: 'wan1', server: 'lan1' },
      addresses: { client: [`${CLIENT4}/24`, 'fd71:1::2/64'], server: [`${SERVER4}/24`, `${SERVER6}/64`] },
    },
    {
      a: 'client',
      b: 'server',
      names: { client: 'wan2', server: 'lan2' },
      addresses: { client: [`${CLIENT2}/24`], server: ['10.71.2.1/24'] },
    },
  ],
};

/** Sysctls and the extra address that make the binding case work (see the header). */
export async function prepareProbeLab(lab: Lab): Promise<void> {
  const noRpFilter = (ifs: string[]) =>
    Object.fromEntries(['all', 'default', ...ifs].map((i) => [`net.ipv4.conf.${i}.rp_filter`, 0]));
  await lab.node('client').sysctl(noRpFilter(['wan1', 'wan2']));
  await lab.node('server').sysctl({ ...noRpFilter(['lan1', 'lan2']), 'net.ipv4.conf.all.arp_ignore': 1 });
  await lab.node('server').ip(['addr', 'add', `${BOUND_ONLY}/32`, 'dev', 'lan2']);
}

// The server: HTTP on 80 and (with a certificate) HTTPS on 443 — `/status/NNN` answers
// NNN, `/hang` never answers, anything else 200; DNS on 53 of SERVER4 and SERVER6 (bound
// to each, so replies come from the address asked) — probe.lab A+AAAA, v6only.lab AAAA,
// silent.lab never answered, anything else NXDOMAIN; answers use compression pointers.
// Every request and query is logged as one JSON line.
const SERVER = `
const http = require('node:http'), https = require('node:https'), dgram = require('node:dgram'), fs = require('node:fs');
const [a4, a6, cert, key] = process.argv.slice(1);
let pending = cert ? 4 : 3;
const up = () => { if (--pending === 0) console.log('ready'); };
const handler = (req, res) => {
  console.log(JSON.stringify({ http: req.url, method: req.method, host: req.headers.host, ua: req.headers['user-agent'], from: req.socket.remoteAddress.replace(/^::ffff:/, '') }));
  if (req.url === '/hang') return;
  const m = /^\\/status\\/(\\d{3})$/.exec(req.url);
  res.statusCode = m ? Number(m[1]) : 200;
  res.end();
};
http.createServer(handler).listen({ port: 80, host: '::', ipv6Only: false }, up);
if (cert) https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, handler).listen({ port: 443, host: '::', ipv6Only: false }, up);
function expand(a) {
  const [h, t = ''] = a.split('::');
  const hs = h ? h.split(':') : [], ts = t ? t.split(':') : [];
  return [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts].flatMap((g) => { const n = parseInt(g, 16); return [n >> 8, n & 255]; });
}
const RECORDS = { 'probe.lab': { 1: a4.split('.').map(Number), 28: expand(a6) }, 'v6only.lab': { 28: expand(a6) } };
function answer(q) {
  let off = 12; const labels = [];
  while (q[off] !== 0) { labels.push(q.subarray(off + 1, off + 1 + q[off]).toString('latin1')); off += q[off] + 1; }
  off += 5;
  const name = labels.join('.').toLowerCase(), type = q.readUInt16BE(off - 4);
  if (name === 'silent.lab') return null;
  const known = RECORDS[name];
  const rdata = known && known[type];
  const rcode = known ? 0 : 3;
  const header = Buffer.from([q[0], q[1], 0x81, 0x80 | rcode, 0, 1, 0, rdata ? 1 : 0, 0, 0, 0, 0]);
  const rr = rdata ? Buffer.from([0xc0, 12, 0, type, 0, 1, 0, 0, 0, 60, 0, rdata.length, ...rdata]) : Buffer.alloc(0);
  return { name, type, reply: Buffer.concat([header, q.subarray(12, off), rr]) };
}
for (const [type, address] of [['udp4', a4], ['udp6', a6]]) {
  const dns = dgram.createSocket(type);
  dns.on('message', (q, r) => {
    const a = answer(q);
    console.log(JSON.stringify({ dns: a ? a.name : 'silent.lab', type: a ? a.type : 0, from: r.address }));
    if (a) dns.send(a.reply, r.port, r.address);
  });
  dns.bind(53, address, up);
}
`;

export interface ProbeServer {
  process: LabProcess;
  /** The JSON lines the server logged. */
  log(): Array<Record<string, unknown>>;
}

export async function startServer(node: LabNode, tls?: { cert: string; key: string }): Promise<ProbeServer> {
  const args = [SERVER4, SERVER6, ...(tls ? [tls.cert, tls.key] : [])];
  const p = node.spawn([process.execPath, '-e', SERVER, ...args]);
  await p.waitFor(/^ready$/, { timeoutMs: 10_000 });
  return {
    process: p,
    log: () => p.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A self-signed certificate for SERVER4 (IP SAN), or undefined without openssl. */
export function makeCertificate(dir: string): { cert: string; key: string } | undefined {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'].concat([
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        '/CN=probe-lab',
        '-addext',
        `subjectAltName=IP:${SERVER4}`,
      ]),
      { stdio: 'ignore' },
    );
    return { cert, key };
  } catch {
    return undefined;
  }
}

/** The runner with everything it imports, as one file both engines run (the repo's bundler). */
export async function bundleRunner(dir: string): Promise<string> {
  const outFile = join(dir, 'runner.mjs');
  await bundle(resolve(import.meta.dirname, 'runner.ts'), outFile);
  return outFile;
}

export type Engine = 'node' | 'qjs';

/**
 * How each engine runs the runner: Node as this test does; qjs (the router's engine) with
 * the native module for sockets, as the lab host does. qjs is absent without
 * `scripts/fetch-qjs.sh` and `make -C core/native`: the reason is given instead.
 */
export function engineCommand(engine: Engine): { argv: string[]; env: Record<string, string> } | string {
  if (engine === 'node') return { argv: [process.execPath], env: {} };
  const { qjs, native } = defaultHostPaths();
  if (!qjs || !existsSync(qjs)) return 'qjs not found (scripts/fetch-qjs.sh or $WRTKIT_QJS)';
  if (!native || !existsSync(native)) return 'the native module is not built (make -C core/native or $WRTKIT_NATIVE)';
  return { argv: [qjs, '--no-unhandled-rejection'], env: { WRTKIT_NATIVE: resolve(native) } };
}

export interface Client {
  resolvConf: string;
  hostsFile: string;
  run(probes: RunnerSpec['probes'], options?: { env?: Record<string, string>; hideCurl?: boolean }): Promise<RunnerOutput[]>;
}

/** The prober in the client node on `engine`: a resolv.conf naming the lab's DNS, a hosts file of its own. */
export function labClient(
  node: LabNode,
  runner: string,
  dir: string,
  engine: { argv: string[]; env: Record<string, string> },
): Client {
  const resolvConf = join(dir, 'resolv.conf');
  const hostsFile = join(dir, 'hosts');
  writeFileSync(resolvConf, `# the lab's DNS\nnameserver ${SERVER4}\n`);
  writeFileSync(hostsFile, `127.0.0.1 localhost\n${SERVER4} fromhosts.lab\n`);
  return {
    resolvConf,
    hostsFile,
    async run(probes, options = {}) {
      const spec: RunnerSpec = { resolvConf, hostsFile, probes, ...(options.hideCurl ? { hideCurl: true } : {}) };
      const r = await node.run([...engine.argv, runner, JSON.stringify(spec)], {
        timeoutMs: 60_000,
        env: { ...engine.env, ...options.env },
      });
      if (r.exitCode !== 0) throw new Error(`probe runner failed (${String(r.exitCode)}): ${r.stderr}`);
      return JSON.parse(r.stdout) as RunnerOutput[];
    },
  };
}
