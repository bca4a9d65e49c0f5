#!/usr/bin/env node
// pirania-nftables: how long a client waits between submitting a voucher on the portal
// page and its first packet getting through the gate. A lab of its own (root needed):
// client ── br-lan [router: the real wrtkit host + pirania-nftables, the client's bridge
// port caught] ── internet (a TCP server on 8080, which the gate drops for unauthorized
// clients). Each round: a fresh voucher (the control socket's pirania.add_vouchers); then,
// inside ONE long-running node process in the client's namespace (so no process start-up
// is timed), the code is POSTed to the portal and, once the answer is in, TCP connections
// to the internet's port are attempted (a new one every 5 ms, all left open) until the
// server's first bytes arrive:
//
//   t_submit  POST sent → the portal's answer (200, "You are online") received
//   t_first   POST sent → the internet server's first bytes received by the client
//
// The baseline, in the same rounds: the same client POSTing a WRONG code (an HTTP round
// trip through the portal that changes nothing; 403). Then pirania.deactivate gates the
// client again, which is checked (no answer from the internet within 400 ms) before the
// next round. The per-client and global wrong-code limits are raised out of the way
// (code_attempts_per_client 1000, code_attempts_global 10000). Traffic stays inside the
// lab's namespaces; everything is torn down at the end.
//
//   node bench/pirania/activation.mjs [--rounds 30] [--warmup 1] [--engine node|qjs]
//
// --engine: the engine the host runs on; without it node, then qjs (qjs needs
// .cache/qjs/bin/qjs and .cache/native/wrtkit-native.so: skipped with a note when absent).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { median, range } from '../lib/stats.mjs';
import { benchDir, fmtMs, fmtRatio, header, loadBenchLib, log, machine, repoRoot, requireLab } from './lib.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
if (argv.includes('--help') || argv.includes('-h')) {
  console.log('usage: node bench/pirania/activation.mjs [--rounds 30] [--warmup 1] [--engine node|qjs]');
  process.exit(0);
}
const rounds = Number(option('rounds', 30));
const warmup = Number(option('warmup', 1));
const engineOption = option('engine', undefined);
if (engineOption !== undefined && engineOption !== 'node' && engineOption !== 'qjs') {
  log(`bench: --engine must be node or qjs, not ${engineOption}`);
  process.exit(2);
}
if (!(rounds >= 1) || !(warmup >= 0)) {
  log('bench: --rounds must be at least 1, --warmup at least 0');
  process.exit(2);
}

const QJS = process.env.WRTKIT_QJS ?? path.join(repoRoot, '.cache/qjs/bin/qjs');
const NATIVE = process.env.WRTKIT_NATIVE ?? path.join(repoRoot, '.cache/native/wrtkit-native.so');
const qjsMissing = [QJS, NATIVE].filter((f) => !fs.existsSync(f));
let engines = engineOption ? [engineOption] : ['node', 'qjs'];
if (engines.includes('qjs') && qjsMissing.length > 0) {
  if (engineOption === 'qjs') {
    log(`bench: cannot run on qjs: missing ${qjsMissing.join(', ')} (make build fetches and builds them)`);
    process.exit(1);
  }
  log(`bench: qjs skipped: missing ${qjsMissing.join(', ')}`);
  engines = engines.filter((e) => e !== 'qjs');
}

log('bench: building the lab into .cache/bench');
const lib = await loadBenchLib();
requireLab(lib, ['nft', 'dnsmasq']);

// The host and the plugin, built fresh and unminified into a dir of this bench's own (as
// the plugin's lab tests do), never build/, which other work may be rebuilding.
log('bench: building the host and pirania-nftables into .cache/bench/pirania-activation');
const out = path.join(benchDir, 'pirania-activation');
fs.rmSync(out, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    path.join(repoRoot, 'scripts/build.mjs'),
    '--out',
    out,
    '--quiet',
    '--no-minify',
    path.join(repoRoot, 'plugins/pirania-nftables'),
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
const bundles = { hostBundle: path.join(out, 'wrtkit.js'), pluginDir: path.join(out, 'plugins') };

const CLIENT_MAC = '02:13:00:00:00:11';
const ROUTER4 = '10.13.0.1';
const INTERNET4 = '198.51.100.2';
const INTERNET_PORT = 8080;
const PORTAL_PORT = 59080;
const PORTAL_HOST = `thisnode.info:${PORTAL_PORT}`;
const WRONG_CODE = 'WRONGX'; // the shape of a real code (6 letters), never one (checked below)

const SPEC = {
  nodes: { client: {}, router: { forwarding: true }, internet: {} },
  links: [
    { a: 'client', b: 'router', mac: { client: CLIENT_MAC }, addresses: { client: ['10.13.0.11/16'] } },
    { a: 'router', b: 'internet', addresses: { router: ['198.51.100.1/24'], internet: [`${INTERNET4}/24`] } },
  ],
  bridges: [{ node: 'router', name: 'br-lan', ports: ['client'], addresses: ['10.13.0.1/16'] }],
  routes: { client: ['default via 10.13.0.1'], internet: ['10.13.0.0/16 via 198.51.100.1'] },
};

/** /etc/config/pirania for the lab router (as plugins/pirania-nftables/test/lab/portal-lab.ts), limits out of the way. */
const piraniaConfig = (root) =>
  [
    "config base_config 'base_config'",
    "\toption enabled '1'",
    `\toption db_path '${root}/pirania/vouchers/'`,
    `\toption content_path '${root}/pirania/content.json'`,
    `\toption run_dir '${root}/run/pirania'`,
    "\tlist allowlist_ipv4 '10.0.0.0/8'",
    "\tlist allowlist_ipv6 'fc00::/7'",
    "\tlist catch_bridged_interfaces 'eth-client'",
    "\toption code_attempts_per_client '1000'",
    "\toption code_attempts_global '10000'",
    "\toption code_attempts_window '300'",
    '',
  ].join('\n');

// The internet: a TCP server that answers every connection with a label and closes.
const INTERNET = `
const net = require('node:net');
net.createServer((s) => { s.on('error', () => {}); s.end('INTERNET OK'); })
  .listen({ port: Number(process.argv[1]), host: '0.0.0.0' }, () => console.log('ready'));
`;

// The client: one node process in the client's namespace, driven over a Unix socket (a
// path in a lab temp dir) with one JSON command per line, one JSON answer per line. Times
// are taken inside it (process.hrtime), from just before the request is written.
const CLIENT = `
const http = require('node:http'), net = require('node:net');
const [sock, router, portalPort, hostHeader, target, targetPort] = process.argv.slice(1);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const post = (code) => new Promise((resolve) => {
  const body = new URLSearchParams({ voucher: code }).toString();
  const headers = { host: hostHeader, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), connection: 'close' };
  const req = http.request({ host: router, port: Number(portalPort), path: '/activate', method: 'POST', headers, agent: false, timeout: 15000 }, (res) => {
    let data = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (data += d));
    res.on('end', () => resolve({ status: res.statusCode, online: data.includes('You are online'), wrong: data.includes('id="voucher-error"') }));
  });
  req.on('timeout', () => { req.destroy(); resolve({ error: 'timeout' }); });
  req.on('error', (e) => resolve({ error: e.code || e.message }));
  req.end(body);
});
// Connection attempts to the internet server, a new one every 5 ms (50 ms after the first
// second; every attempt stays open, so a late SYN-ACK still counts), until the first bytes
// of an answer arrive (then all are closed) or limitMs is over.
const firstAnswer = (limitMs, intervalMs = 5) => new Promise((resolve) => {
  const sockets = new Set();
  const start = now();
  let attempts = 0, done = false, timer;
  const finish = (result) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    clearTimeout(limit);
    for (const s of sockets) s.destroy();
    resolve({ ...result, attempts });
  };
  const limit = setTimeout(() => finish({ at: undefined }), limitMs);
  const launch = () => {
    if (done) return;
    attempts++;
    const s = net.connect({ host: target, port: Number(targetPort) });
    sockets.add(s);
    s.once('data', () => finish({ at: now() }));
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    timer = setTimeout(launch, now() - start < 1000 ? intervalMs : 50);
  };
  launch();
});
const commands = {
  // a wrong code: the baseline round trip
  async wrong({ code }) {
    const t0 = now();
    const r = await post(code);
    return { ...r, ms: now() - t0 };
  },
  // the voucher, then the first packet through
  async activate({ code }) {
    const t0 = now();
    const r = await post(code);
    const submit = now() - t0;
    if (r.status !== 200 || !r.online) return { ...r, submit };
    const a = await firstAnswer(10000);
    return { ...r, submit, first: a.at === undefined ? undefined : a.at - t0, attempts: a.attempts };
  },
  // gated: no answer from the internet within limitMs (one connection attempt)
  async gated({ limitMs }) {
    const a = await firstAnswer(limitMs, limitMs * 2);
    return { gated: a.at === undefined };
  },
};
net.createServer((conn) => {
  let buffer = '';
  let chain = Promise.resolve();
  conn.setEncoding('utf8');
  conn.on('data', (d) => {
    buffer += d;
    let i;
    while ((i = buffer.indexOf('\\n')) >= 0) {
      const cmd = JSON.parse(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
      chain = chain.then(async () => {
        const answer = await commands[cmd.op](cmd).catch((e) => ({ error: String(e) }));
        conn.write(JSON.stringify(answer) + '\\n');
      });
    }
  });
}).listen(sock, () => console.log('ready'));
`;

/** A line-oriented JSON connection to the client process. */
async function connectClient(sock) {
  const conn = net.connect(sock);
  await new Promise((resolve, reject) => {
    conn.once('connect', resolve);
    conn.once('error', reject);
  });
  conn.setEncoding('utf8');
  let buffer = '';
  const pending = [];
  conn.on('data', (d) => {
    buffer += d;
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      pending.shift()?.resolve(JSON.parse(line));
    }
  });
  conn.on('close', () => {
    for (const p of pending.splice(0)) p.reject(new Error('the client process closed its socket'));
  });
  return {
    ask: (cmd) =>
      new Promise((resolve, reject) => {
        pending.push({ resolve, reject });
        conn.write(`${JSON.stringify(cmd)}\n`);
      }),
    close: () => conn.destroy(),
  };
}

/** Nearest-rank percentile (p in 0..100). */
function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

function engineVersion(engine) {
  if (engine === 'node') return `node ${process.version}`;
  try {
    const text = execFileSync(QJS, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return `qjs ${/version (\S+)/.exec(text)?.[1] ?? '?'}`;
  } catch (error) {
    // qjs -h exits non-zero on some versions; its text is still there
    const text = `${error.stdout ?? ''}${error.stderr ?? ''}`;
    return `qjs ${/version (\S+)/.exec(text)?.[1] ?? '?'}`;
  }
}

async function runEngine(engine) {
  const lab = await lib.createLab(SPEC);
  let client;
  try {
    const root = lab.tempDir('router-root');
    fs.mkdirSync(path.join(root, 'pirania'), { recursive: true });
    const internet = lab.node('internet').spawn([process.execPath, '-e', INTERNET, String(INTERNET_PORT)]);
    await internet.waitFor(/^ready$/, { timeoutMs: 10_000 });
    const host = await lab.startHost('router', {
      root,
      engine,
      ...bundles,
      ...(engine === 'qjs' ? { qjs: QJS, native: NATIVE } : {}),
      config: { wrtkit: "config wrtkit 'main'\n", pirania: piraniaConfig(root) },
    });
    await host.waitForLog(/ready plugins=1 failed=0/, { timeoutMs: 30_000 });
    await host.waitForLog(/portal up/, { timeoutMs: 30_000 });

    const sock = path.join(lab.tempDir('client'), 'bench.sock');
    const driver = lab
      .node('client')
      .spawn([process.execPath, '-e', CLIENT, sock, ROUTER4, String(PORTAL_PORT), PORTAL_HOST, INTERNET4, String(INTERNET_PORT)]);
    await driver.waitFor(/^ready$/, { timeoutMs: 10_000 });
    client = await connectClient(sock);

    const expectGated = async (when) => {
      for (let tries = 0; tries < 5; tries++) {
        if ((await client.ask({ op: 'gated', limitMs: 400 })).gated) return;
      }
      throw new Error(`sanity: the client reaches the internet ${when}`);
    };
    await expectGated('before any voucher');

    const t = { wrong: [], submit: [], first: [], attempts: [] };
    log(`bench: host on ${engine}: ${warmup} warm-up + ${rounds} rounds`);
    for (let r = 0; r < warmup + rounds; r++) {
      const added = await host.call('pirania', 'add_vouchers', { name: 'bench', qty: 1, duration_m: 60 });
      const voucher = added.vouchers?.[0];
      if (added.status !== 'ok' || !voucher) throw new Error(`add_vouchers: ${JSON.stringify(added)}`);
      if (voucher.code === WRONG_CODE) throw new Error('the wrong code came up as a real one; run again');

      const wrong = await client.ask({ op: 'wrong', code: WRONG_CODE });
      if (wrong.status !== 403 || !wrong.wrong)
        throw new Error(`wrong code: expected 403 and the error, got ${JSON.stringify(wrong)}`);
      const a = await client.ask({ op: 'activate', code: voucher.code });
      if (a.status !== 200 || !a.online) throw new Error(`voucher: expected 200 "You are online", got ${JSON.stringify(a)}`);
      if (a.first === undefined) throw new Error('voucher accepted, but nothing reached the internet within 10 s');

      const off = await host.call('pirania', 'deactivate', { id: voucher.id });
      if (off.status !== 'ok') throw new Error(`deactivate: ${JSON.stringify(off)}`);
      await expectGated('after pirania.deactivate');

      if (r < warmup) continue;
      t.wrong.push(wrong.ms);
      t.submit.push(a.submit);
      t.first.push(a.first);
      t.attempts.push(a.attempts);
    }
    return t;
  } finally {
    client?.close();
    await lab.destroy();
  }
}

const loadBefore = machine().loadavg;
const results = [];
for (const engine of engines) results.push({ engine, t: await runEngine(engine) });

const cols = (label, values, base) => {
  const { max } = range(values);
  const m = median(values);
  return `${label.padEnd(58)} ${fmtMs(m).padStart(8)} ${fmtMs(percentile(values, 90)).padStart(8)} ${fmtMs(max).padStart(8)}   ${base ? fmtRatio(m / base) : ''}`.trimEnd();
};
const lines = [
  header(`pirania-nftables: voucher submitted → first packet through (${rounds} rounds after ${warmup} warm-up)`),
  `load before the run ${loadBefore}`,
];
for (const { engine, t } of results) {
  const base = median(t.wrong);
  const [minAttempts, maxAttempts] = [Math.min(...t.attempts), Math.max(...t.attempts)];
  lines.push(
    '',
    `host on ${engineVersion(engine)}`,
    `${''.padEnd(58)} ${'median'.padStart(8)} ${'p90'.padStart(8)} ${'max'.padStart(8)}   median vs baseline`,
    cols('wrong code POSTed → 403 answer (baseline)', t.wrong),
    cols('voucher POSTed → "You are online" answer (t_submit)', t.submit, base),
    cols('voucher POSTed → first answer from the internet (t_first)', t.first, base),
    `t_first − t_submit: median ${fmtMs(median(t.first.map((f, i) => f - t.submit[i])))}; connection attempts until the first answer: ${minAttempts === maxAttempts ? minAttempts : `${minAttempts}–${maxAttempts}`}`,
  );
}
console.log(lines.join('\n'));
