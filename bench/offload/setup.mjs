#!/usr/bin/env node
// offload, issue item (b): flow setup. How fast offloadd puts new flows on the fast path,
// and how long a new flow's packets go through the stack before the fast path carries
// them. Figures, not tests.
//
// Lab (bench's own namespaces, torn down at the end, on error and on Ctrl-C): the daemon
// tests' client — router — server (plugins/offload/test/daemon/daemon.ts), the router
// with their fw4-like ruleset (ct established accept, IPv4 masquerade out of the wan) and
// offloadd as the plugin runs it (log level info, default heart beat), its pins on a bpffs
// the bench mounts, the datapath on lan and wan (--mode tc, or xdp with the end hosts set
// to GRO on / TX checksum off as XDP on veth needs). UDP and TCP echo servers (Node) on
// the server. Each round runs (1), (1b), (2), (3), with conntrack and offloadd's flows
// flushed in between.
//
// (1) Rate. The client (Node) opens --flows connected UDP sockets to the server (distinct
// source ports), then sends one datagram on each as fast as it can; the server echoes each
// one, so the router's conntrack has each entry both ways (what offloadd needs for UDP).
// The baseline is the stack in the same round: when each entry was made (≈ the client's
// send: veth runs the router's receive path inside the send call's softirq) and when it was
// both ways (the server's hrtime after sending the flow's first echo). The offload time of
// each flow is when offloadd's "event …: offloaded #n" log line for it reached the bench
// (hrtime here; every process reads the same CLOCK_MONOTONIC; the daemon writes the line
// after the map update, so it is an upper bound). Per round: the times after the burst's
// first datagram at which 90 % / all of the flows were made, both ways, on the fast path;
// rates = 0.9·N over the 90 % times; offload rate / both-ways rate (1 = offloadd keeps up
// with the stack); the per-flow lag (offload − echo). The creation rate is the offered
// load (client and echo server are Node), not a limit of the stack. The datapath reports a
// flow key at most once a second (event_interval_ns): a flow whose events were refused
// (e.g. "udp_not_replied": handled before the stack had seen the echo) or lost (ring
// buffer full) waits for a packet at least a second later, so the client sends a
// keep-alive on every flow every --keepalive-ms; "first pass" = offloaded before the first.
// Offload times come from the log lines rather than from polling `status`: the daemon
// drains the whole ring buffer before it answers its socket, so a poll during a burst
// would only see the end of it (status gives the round's counters: events, refusals).
//
// (1b) The same with --tcp-flows TCP connections opened at once (0: skip), each writing 64
// bytes right after its handshake (echoed), keep-alive writes as above. Baseline: when the
// client's connect() call returned — on veth the whole handshake (SYN, SYN-ACK, ACK through
// the router) runs inside that call's softirq, so the entry is ESTABLISHED by then (checked
// against `conntrack -E` while writing this bench: its events came median ~1 ms later,
// read by a user-space process; not kept in the bench, it loses events under the burst).
// The server application's accept() is printed too. Connections that offloadd offloaded
// and then removed again while they were open are counted, with offloadd's reason.
//
// (2) Latency. --latency-flows new UDP flows, one every --stagger-ms; each sends
// numbered datagrams (echoed) every --gap-us for its first --fast-ms (paced by a busy loop
// in the client, actual send times recorded), then every 10 ms up to --flow-ms. After the
// flows ended, the packet counter of each flow's original direction in offloadd's `flows`
// (what the datapath forwarded) says how many of the K datagrams sent the fast path
// carried: P, so the first fast-path datagram was number K − P (the carried ones are a
// suffix: once the flow is in the map every later packet hits it). Latency = its send
// time − the first datagram's; resolution = the gap before it (printed: the one before
// still went through the stack). Baseline: the server's first echo (as in (1)): from then
// on conntrack has the flow both ways, the earliest moment offloadd may take it. Cross-
// check: when offloadd's log line for the flow arrived.
//
// (3) TCP latency: --latency-flows connections, one every --stagger-ms, each writing 64
// bytes right after the handshake and every 10 ms (echoed) for --flow-ms. Latency: from
// connect() to offloadd's log line of the offload that lasted (a per-segment count like
// (2) is not possible: the client cannot know how many segments it sent); baseline: the
// client's 'connect' event (handshake done); offloads undone while open are counted.
//
//   node bench/offload/setup.mjs [--rounds 5] [--flows 1000] [--tcp-flows 500] [--keepalive-ms 1200] [--window-ms 3000]
//        [--latency-flows 20] [--gap-us 200] [--fast-ms 30] [--flow-ms 1500] [--stagger-ms 100] [--mode tc|xdp]
import path from 'node:path';
import { loadBenchLib, requireLab } from '../pirania/lib.mjs';
import { median, range } from '../lib/stats.mjs';
import {
  buildDaemon,
  fmtMs,
  fmtRatio,
  header,
  loadDatapathLib,
  log,
  onInterrupt,
  percentile,
  startOffloadd,
  unavailable,
} from './lib.mjs';

const USAGE =
  'usage: node bench/offload/setup.mjs [--rounds 5] [--flows 1000] [--tcp-flows 500] [--keepalive-ms 1200] [--window-ms 3000]\n' +
  '         [--latency-flows 20] [--gap-us 200] [--fast-ms 30] [--flow-ms 1500] [--stagger-ms 100] [--mode tc|xdp]';
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const rounds = Number(option('rounds', 5));
const nFlows = Number(option('flows', 1000));
const keepaliveMs = Number(option('keepalive-ms', 1200));
const windowMs = Number(option('window-ms', 3000));
const latFlows = Number(option('latency-flows', 20));
const gapUs = Number(option('gap-us', 200));
const fastMs = Number(option('fast-ms', 30));
const flowMs = Number(option('flow-ms', 1500));
const staggerMs = Number(option('stagger-ms', 100));
const mode = option('mode', 'tc');
const tcpFlows = Number(option('tcp-flows', 500));
if (
  !(rounds >= 1) ||
  !(nFlows >= 10 && nFlows <= 10_000) ||
  !(tcpFlows === 0 || (tcpFlows >= 10 && tcpFlows <= 10_000)) ||
  !(keepaliveMs >= 1000) ||
  !(windowMs > keepaliveMs) ||
  !(latFlows >= 1) ||
  !(gapUs >= 50) ||
  !(fastMs >= 0) ||
  !(flowMs >= 1100) ||
  !(staggerMs >= 10) ||
  !['tc', 'xdp'].includes(mode)
) {
  log(
    `bench: bad arguments (--flows 10..10000, --tcp-flows 0 or 10..10000, --keepalive-ms ≥ 1000 (the event interval is 1 s), --window-ms > --keepalive-ms, --flow-ms ≥ 1100)\n${USAGE}`,
  );
  process.exit(2);
}
const why = unavailable();
if (why) {
  log(`bench: cannot run: ${why}`);
  process.exit(1);
}

log('bench: building the datapath and offloadd, bundling the lab');
buildDaemon();
const dp = await loadDatapathLib();
const lib = await loadBenchLib();
requireLab(lib, ['nft', 'conntrack', 'ethtool']);

const A = dp.DAEMON_ADDR[4];
const PORT = 5002;
const TCP_PORT = 5003;
const TCP_EVERY_MS = 10;

// ---- programs run inside the lab ---------------------------------------------------------

/**
 * UDP echo on host:port. It notes when it sent each peer port's first echo (hrtime, after
 * the send: the echo has passed the router's conntrack by then, veth delivers within the
 * send call's softirq) and prints `PEERS [[port, ns], …]` on SIGUSR2, then forgets them.
 */
const ECHO_SERVER = `
const dgram = require('dgram');
const [host, port] = process.argv.slice(1);
// a deep receive buffer: a burst of new flows must not be lost at the server's socket
const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
let first = new Map();
s.on('message', (m, r) => {
  s.send(m, r.port, r.address);
  if (!first.has(r.port)) first.set(r.port, process.hrtime.bigint());
});
process.on('SIGUSR2', () => {
  console.log('PEERS ' + JSON.stringify([...first].map(([p, ns]) => [p, String(ns)])));
  first = new Map();
});
s.bind(Number(port), host, () => console.log('LISTENING'));
`;

/**
 * Rate client: n connected UDP sockets (distinct source ports), then one datagram on each
 * as fast as it goes, keep-alives every keepaliveMs, RESULT after windowMs:
 * { t0 (hrtime ns of the first send), flows: [[port, send µs, first echo µs or -1], …] }.
 */
const RATE_CLIENT = `
const dgram = require('dgram');
const [host, port, n, keepaliveMs, windowMs] = process.argv.slice(1);
const hr = () => process.hrtime.bigint();
const flows = [];
const payload = Buffer.alloc(64);
let connected = 0, t0 = 0n;
for (let i = 0; i < Number(n); i++) {
  const s = dgram.createSocket('udp4');
  const f = { s, port: 0, sent: -1, echo: -1 };
  s.on('message', () => { if (f.echo < 0) f.echo = Number(hr() - t0) / 1e3; });
  s.on('error', (e) => { console.error('socket: ' + e.message); });
  s.connect(Number(port), host, () => {
    f.port = s.address().port;
    if (++connected === Number(n)) setTimeout(burst, 300);
  });
  flows.push(f);
}
function burst() {
  t0 = hr();
  for (const f of flows) { f.sent = Number(hr() - t0) / 1e3; f.s.send(payload); }
  for (let t = Number(keepaliveMs); t < Number(windowMs); t += Number(keepaliveMs))
    setTimeout(() => { for (const f of flows) f.s.send(payload); }, t);
  setTimeout(() => {
    console.log('RESULT ' + JSON.stringify({ t0: String(t0), flows: flows.map((f) => [f.port, f.sent, f.echo]) }));
    for (const f of flows) f.s.close();
  }, Number(windowMs));
}
`;

/**
 * Latency client: m flows, one every staggerMs; each sends a datagram every gapUs for
 * fastMs (busy loop), then every 10 ms until flowMs. RESULT: [{ port, t0 (hrtime ns of its
 * first datagram), sends: [µs since the first], echo0: µs of the first echo or -1 }].
 */
const LATENCY_CLIENT = `
const dgram = require('dgram');
const [host, port, m, gapUs, fastMs, flowMs, staggerMs] = process.argv.slice(1).map((v, i) => (i ? Number(v) : v));
const hr = () => process.hrtime.bigint();
const GAP = BigInt(Math.round(gapUs * 1e3)), SLOW = 10_000_000n, FAST = BigInt(fastMs) * 1_000_000n, LIFE = BigInt(flowMs) * 1_000_000n;
const active = new Set(), results = [];
let finished = 0, timer = null;
function startFlow() {
  const s = dgram.createSocket('udp4');
  const f = { s, port: 0, t0: 0n, next: 0n, sends: [], echo0: -1 };
  s.on('message', () => { if (f.echo0 < 0) f.echo0 = Number(hr() - f.t0) / 1e3; });
  s.on('error', (e) => console.error('socket: ' + e.message));
  s.connect(port, host, () => {
    f.port = s.address().port;
    f.t0 = f.next = hr();
    active.add(f);
    tick();
  });
}
function tick() {
  if (timer) { clearTimeout(timer); timer = null; }
  let busy = false, wait = 1e9;
  for (const f of active) {
    const now = hr();
    if (now - f.t0 >= LIFE) {
      active.delete(f);
      setTimeout(() => {
        f.s.close();
        results.push({ port: f.port, t0: String(f.t0), sends: f.sends, echo0: f.echo0 });
        if (++finished === m) console.log('RESULT ' + JSON.stringify(results));
      }, 50);
      continue;
    }
    if (now >= f.next) {
      const b = Buffer.alloc(64);
      b.writeUInt32BE(f.sends.length, 0);
      f.sends.push(Math.round(Number(now - f.t0) / 100) / 10);
      f.s.send(b);
      f.next = now + (now - f.t0 < FAST ? GAP : SLOW);
    }
    if (f.next - f.t0 < FAST) busy = true;
    else wait = Math.min(wait, Number(f.next - hr()) / 1e6);
  }
  if (busy) setImmediate(tick);
  else if (active.size) timer = setTimeout(tick, Math.max(0, Math.floor(wait)));
}
for (let i = 0; i < m; i++) setTimeout(startFlow, i * staggerMs);
`;

/** TCP echo on host:port (no Nagle); accept times by client port on SIGUSR2, like ECHO_SERVER. */
const TCP_ECHO_SERVER = `
const net = require('net');
const [host, port] = process.argv.slice(1);
let first = new Map();
net.createServer((s) => {
  if (!first.has(s.remotePort)) first.set(s.remotePort, process.hrtime.bigint());
  s.setNoDelay(true);
  s.on('error', () => {});
  s.pipe(s);
}).listen({ port: Number(port), host, backlog: 4096 }, () => console.log('LISTENING'));
process.on('SIGUSR2', () => {
  console.log('PEERS ' + JSON.stringify([...first].map(([p, ns]) => [p, String(ns)])));
  first = new Map();
});
`;

/**
 * TCP rate client: n connections opened at once; each writes 64 bytes as soon as it is
 * connected (echoed), and again every keepaliveMs; after windowMs RESULT { t0 (hrtime ns
 * before the first connect()), flows: [[port, µs when its connect() call returned, µs to the
 * 'connect' event or -1], …] }, then resets them.
 */
const RATE_TCP_CLIENT = `
const net = require('net');
const [host, port, n, keepaliveMs, windowMs] = process.argv.slice(1);
const hr = () => process.hrtime.bigint();
const msg = Buffer.alloc(64);
setTimeout(() => {
  const flows = [];
  const t0 = hr();
  for (let i = 0; i < Number(n); i++) {
    const f = { port: 0, called: -1, connected: -1 };
    f.s = net.connect({ host, port: Number(port), noDelay: true }, () => {
      f.connected = Number(hr() - t0) / 1e3;
      f.port = f.s.localPort;
      f.s.write(msg);
    });
    // Node makes the connect() call on the next tick: this tick runs right after it
    process.nextTick(() => { f.called = Number(hr() - t0) / 1e3; });
    f.s.on('error', () => {});
    f.s.on('data', () => {});
    flows.push(f);
  }
  for (let t = Number(keepaliveMs); t < Number(windowMs); t += Number(keepaliveMs))
    setTimeout(() => { for (const f of flows) if (f.port) f.s.write(msg); }, t);
  setTimeout(() => {
    console.log('RESULT ' + JSON.stringify({ t0: String(t0), flows: flows.map((f) => [f.port, f.called, f.connected]) }));
    for (const f of flows) f.s.resetAndDestroy();
  }, Number(windowMs));
}, 300);
`;

/**
 * TCP latency client: m connections, one every staggerMs; each writes 64 bytes right after
 * its handshake and then every everyMs (echoed) for flowMs, then ends. RESULT: [{ port, t0 (hrtime
 * ns before connect()), connected: µs to the 'connect' event, bytes echoed }].
 */
const TCP_CLIENT = `
const net = require('net');
const [host, port, m, everyMs, flowMs, staggerMs] = process.argv.slice(1).map((v, i) => (i ? Number(v) : v));
const hr = () => process.hrtime.bigint();
const results = [];
let finished = 0;
function startFlow() {
  const t0 = hr();
  const f = { port: 0, t0: String(t0), connected: -1, bytes: 0 };
  const s = net.connect({ host, port, noDelay: true }, () => {
    f.connected = Number(hr() - t0) / 1e3;
    f.port = s.localPort;
    const msg = Buffer.alloc(64);
    s.write(msg); // at once, like a request after the handshake
    const timer = setInterval(() => s.write(msg), everyMs);
    setTimeout(() => { clearInterval(timer); s.end(); }, flowMs);
  });
  s.on('data', (d) => { f.bytes += d.length; });
  s.on('error', (e) => { f.error = e.message; });
  s.on('close', () => {
    results.push(f);
    if (++finished === m) console.log('RESULT ' + JSON.stringify(results));
  });
}
for (let i = 0; i < m; i++) setTimeout(startFlow, i * staggerMs);
`;

// ---- the lab ---------------------------------------------------------------------------------

let bpffs;
onInterrupt(() => {
  if (bpffs) dp.unmountBpffs(bpffs);
});
const lab = await lib.createLab(dp.DAEMON_LAB_SPEC);
let daemon;
let attachedText = '';
const rateRounds = [];
const latRounds = [];
const tcpRounds = [];
const tcpRateRounds = [];
try {
  const router = lab.node('router');
  const client = lab.node('client');
  await router.run(['nft', '-f', '-'], { input: dp.FW4_RULES, check: true });
  if (mode === 'xdp') {
    for (const n of ['client', 'server']) await lab.node(n).exec(['ethtool', '-K', 'eth0', 'gro', 'on', 'tx', 'off']);
  }
  bpffs = dp.mountBpffs();
  log(`bench: lab ${lab.prefix}-*, bpffs ${bpffs}`);
  daemon = await startOffloadd(dp, router, { dir: lab.tempDir('offloadd'), pinDir: path.join(bpffs, 'offload') });
  const configured = await daemon.control.ok('configure', {
    interfaces: [
      { ifname: 'lan', mode },
      { ifname: 'wan', mode },
    ],
  });
  const attached = configured.interfaces.map((i) => `${i.ifname}: ${i.attached}`).join(', ');
  attachedText = attached;
  const server = lab.node('server').spawn([process.execPath, '-e', ECHO_SERVER, A.server, String(PORT)]);
  await server.waitFor(/LISTENING/);
  const tcpServer = lab.node('server').spawn([process.execPath, '-e', TCP_ECHO_SERVER, A.server, String(TCP_PORT)]);
  await tcpServer.waitFor(/LISTENING/);
  /** A server's first-echo (UDP) / accept (TCP) times since the last call, by client port (and forgets them). */
  async function echoTimes(proc = server) {
    const from = proc.lines.length;
    proc.kill('SIGUSR2');
    const [line] = await proc.waitFor(/^PEERS /, { from });
    return new Map(JSON.parse(line.slice(6)).map(([p, ns]) => [p, BigInt(ns)]));
  }
  // the router's neighbours resolved (offloadd refuses "no_neigh" until they are)
  await client.exec(['ping', '-c', '2', '-i', '0.2', '-W', '2', A.server]);

  const OFFLOADED = /offloadd: event udp ([\d.]+):(\d+) > ([\d.]+):(\d+): offloaded #/;
  const TCP_LINE =
    /offloadd: (?:event tcp ([\d.]+):(\d+) > ([\d.]+):(\d+): (offloaded) #|flow tcp ([\d.]+):(\d+) > \S+ (removed): (.*))/;
  /** The client port of an offloaded-event line (either direction's key; masquerade keeps ports). */
  const portOf = (m) => (m[1] === A.client ? Number(m[2]) : Number(m[4]));

  async function reset() {
    await router.run(['conntrack', '-F'], { timeoutMs: 10_000 });
    await daemon.control.ok('flush');
    for (let i = 0; i < 100 && (await daemon.status()).flows > 0; i++) await new Promise((r) => setTimeout(r, 50));
  }

  /**
   * One burst: the client script opens `count` flows to `port` (the server records when
   * each was first seen); the daemon's status before and after, its log lines from the
   * start, the client's RESULT and the server's first-seen times.
   */
  async function burst(script, port, count, server) {
    await echoTimes(server);
    const before = await daemon.status();
    const from = daemon.lines.length;
    const proc = client.spawn([
      process.execPath,
      '-e',
      script,
      A.server,
      String(port),
      String(count),
      String(keepaliveMs),
      String(windowMs),
    ]);
    const [line] = await proc.waitFor(/^RESULT /, { timeoutMs: windowMs + 60_000 });
    await proc.exited;
    await new Promise((r) => setTimeout(r, 100)); // the last log lines
    const after = await daemon.status();
    const seenAt = await echoTimes(server);
    const res = JSON.parse(line.slice(7));
    const t0 = BigInt(res.t0);
    return {
      before,
      after,
      lines: daemon.lines.slice(from),
      res,
      t0,
      seenAt,
      since: (ns) => (ns === undefined ? -1 : Number(ns - t0) / 1e3),
    };
  }

  /** The time by which `share` of `n` flows had it (NaN if fewer did). */
  const timeAt = (values, share, n) => {
    const k = Math.ceil(share * n);
    return values.length >= k ? [...values].sort((a, b) => a - b)[k - 1] : NaN;
  };

  /** What the daemon's event counters did over a burst. */
  const eventDeltas = (before, after) => ({
    seen: after.events.seen - before.events.seen,
    events: after.stats.event - before.stats.event,
    lost: after.stats.event_lost - before.stats.event_lost,
    refused: Object.fromEntries(
      Object.entries(after.events.refused)
        .map(([k, v]) => [k, v - (before.events.refused[k] ?? 0)])
        .filter(([, v]) => v > 0),
    ),
  });

  async function rateRound() {
    const { before, after, lines, res, t0, seenAt: echoed, since } = await burst(RATE_CLIENT, PORT, nFlows);
    const ports = new Map(
      res.flows.map(([port, sent, echo]) => [port, { sent, echo: since(echoed.get(port)), back: echo, off: -1 }]),
    );
    for (const { ns, text } of lines) {
      const m = OFFLOADED.exec(text);
      const f = m && ports.get(portOf(m));
      if (f && f.off < 0) f.off = Number(ns - t0) / 1e3;
    }
    const flows = [...ports.values()];
    const echoes = flows.filter((f) => f.echo >= 0).map((f) => f.echo / 1e3);
    const offs = flows.filter((f) => f.off >= 0).map((f) => f.off / 1e3);
    const at = (values, share) => timeAt(values, share, nFlows);
    return {
      sendMs: Math.max(...flows.map((f) => f.sent)) / 1e3,
      echoed: echoes.length,
      back: flows.filter((f) => f.back >= 0).length,
      offloaded: offs.length,
      firstPass: offs.filter((t) => t < keepaliveMs).length,
      loggedOffloads: after.events.offloaded - before.events.offloaded,
      new90: at(
        flows.map((f) => f.sent / 1e3),
        0.9,
      ),
      ct90: at(echoes, 0.9),
      ctAll: at(echoes, 1),
      off90: at(offs, 0.9),
      offAll: at(offs, 1),
      lags: flows.filter((f) => f.echo >= 0 && f.off >= 0 && f.off < keepaliveMs * 1e3).map((f) => (f.off - f.echo) / 1e3),
      ...eventDeltas(before, after),
    };
  }

  async function tcpRateRound() {
    const {
      before,
      after,
      lines,
      res,
      t0,
      seenAt: accepted,
      since,
    } = await burst(RATE_TCP_CLIENT, TCP_PORT, tcpFlows, tcpServer);
    const end = t0 + BigInt(windowMs) * 1_000_000n;
    const ports = new Map(
      res.flows.map(([port, called, connected]) => [
        port,
        { called, connected, acc: since(accepted.get(port)), off: -1, last: '', undone: [] },
      ]),
    );
    for (const { ns, text } of lines) {
      const m = TCP_LINE.exec(text);
      if (!m || ns >= end) continue;
      const f = ports.get(m[5] ? (m[1] === A.client ? Number(m[2]) : Number(m[4])) : Number(m[7]));
      if (!f) continue;
      if (m[5] && f.off < 0) f.off = Number(ns - t0) / 1e3;
      if (m[8]) f.undone.push(m[9]);
      f.last = m[5] ?? m[8];
    }
    const flows = [...ports.values()];
    const at = (values, share) => timeAt(values, share, tcpFlows);
    const accs = flows.filter((f) => f.acc >= 0).map((f) => f.acc / 1e3);
    const ests = flows.filter((f) => f.called >= 0).map((f) => f.called / 1e3);
    const offs = flows.filter((f) => f.off >= 0).map((f) => f.off / 1e3);
    const why = {};
    for (const f of flows) for (const w of f.undone) why[w] = (why[w] ?? 0) + 1;
    return {
      connected: flows.filter((f) => f.connected >= 0).length,
      accepted: accs.length,
      acc90: at(accs, 0.9),
      accAll: at(accs, 1),
      loggedOffloads: after.events.offloaded - before.events.offloaded,
      offloaded: offs.length,
      lasting: flows.filter((f) => f.last === 'offloaded').length,
      undone: flows.filter((f) => f.undone.length).length,
      why,
      firstPass: offs.filter((t) => t < keepaliveMs).length,
      ct90: at(ests, 0.9),
      ctAll: at(ests, 1),
      off90: at(offs, 0.9),
      offAll: at(offs, 1),
      lags: flows.filter((f) => f.called >= 0 && f.off >= 0 && f.off < keepaliveMs * 1e3).map((f) => (f.off - f.called) / 1e3),
      ...eventDeltas(before, after),
    };
  }

  async function latencyRound() {
    await echoTimes();
    const from = daemon.lines.length;
    const proc = client.spawn([
      process.execPath,
      '-e',
      LATENCY_CLIENT,
      A.server,
      String(PORT),
      String(latFlows),
      String(gapUs),
      String(fastMs),
      String(flowMs),
      String(staggerMs),
    ]);
    const [line] = await proc.waitFor(/^RESULT /, { timeoutMs: latFlows * staggerMs + flowMs + 60_000 });
    const res = JSON.parse(line.slice(7));
    const table = await daemon.flows();
    const echoed = await echoTimes();
    const logged = new Map(); // client port → when offloadd's "offloaded" line arrived
    for (const { ns, text } of daemon.lines.slice(from)) {
      const m = OFFLOADED.exec(text);
      if (m && !logged.has(portOf(m))) logged.set(portOf(m), ns);
    }
    return res.map((f) => {
      // the server's first echo, µs after the flow's first datagram: conntrack has it both ways
      const echo0 = echoed.has(f.port) ? Number(echoed.get(f.port) - BigInt(f.t0)) / 1e3 : -1;
      const entry = table.find(
        (e) => e.dir === 'original' && e.key.proto === 'udp' && e.key.src === A.client && e.key.sport === f.port,
      );
      const K = f.sends.length;
      const P = entry?.counters.packets ?? 0;
      const k = K - P; // the first datagram the fast path carried
      if (P === 0) return { port: f.port, offloaded: false, K, rtt: echo0 / 1e3 };
      if (k < 1) return { port: f.port, anomaly: `fast path carried ${P} of ${K} datagrams`, K, rtt: echo0 / 1e3 };
      return {
        port: f.port,
        offloaded: true,
        K,
        k,
        latency: f.sends[k] / 1e3,
        resolution: (f.sends[k] - f.sends[k - 1]) / 1e3,
        rtt: echo0 / 1e3,
        back: f.echo0 / 1e3,
        logged: logged.has(f.port) ? Number(logged.get(f.port) - BigInt(f.t0)) / 1e6 : NaN,
      };
    });
  }

  async function tcpRound() {
    const from = daemon.lines.length;
    const proc = client.spawn([
      process.execPath,
      '-e',
      TCP_CLIENT,
      A.server,
      String(TCP_PORT),
      String(latFlows),
      String(TCP_EVERY_MS),
      String(flowMs),
      String(staggerMs),
    ]);
    const [line] = await proc.waitFor(/^RESULT /, { timeoutMs: latFlows * staggerMs + flowMs + 60_000 });
    await new Promise((r) => setTimeout(r, 100)); // the last log lines
    const res = JSON.parse(line.slice(7));
    const history = new Map(); // client port → [{ ns, what: 'offloaded' | 'removed', why }]
    for (const { ns, text } of daemon.lines.slice(from)) {
      const m = TCP_LINE.exec(text);
      if (!m) continue;
      const port = m[5] ? (m[1] === A.client ? Number(m[2]) : Number(m[4])) : Number(m[7]);
      if (!history.has(port)) history.set(port, []);
      history.get(port).push({ ns, what: m[5] ?? m[8], why: m[9] });
    }
    return res.map((f) => {
      const t0 = BigInt(f.t0);
      // the client's end(), less 100 ms: its timer may fire a little early (libuv's cached loop time)
      const end = t0 + BigInt(Math.round(f.connected * 1e3)) + BigInt(flowMs - 100) * 1_000_000n;
      const h = (history.get(f.port) ?? []).filter((e) => e.ns < end);
      // the offload that lasted: the last one, unless a removal followed it
      const last = h.at(-1);
      const undone = h.filter((e) => e.what === 'removed');
      return {
        port: f.port,
        connected: f.connected / 1e3,
        error: f.error,
        offloaded: last?.what === 'offloaded',
        latency: last?.what === 'offloaded' ? Number(last.ns - t0) / 1e6 : NaN,
        first: h.length ? Number(h[0].ns - t0) / 1e6 : NaN,
        undone: undone.map((e) => e.why),
      };
    });
  }

  log(
    `bench: ${rounds} rounds: a burst of ${nFlows} UDP flows, then ${latFlows} single UDP flows and ${latFlows} TCP connections (datapath: ${attached})`,
  );
  for (let r = 0; r < rounds; r++) {
    await reset();
    rateRounds.push(await rateRound());
    if (tcpFlows) {
      await reset();
      tcpRateRounds.push(await tcpRateRound());
    }
    await reset();
    latRounds.push(await latencyRound());
    await reset();
    tcpRounds.push(await tcpRound());
    const rr = rateRounds.at(-1);
    log(
      `bench: round ${r + 1}/${rounds}: ${rr.offloaded}/${nFlows} offloaded, 90 % after ${fmtMs(rr.off90)} ` +
        `(conntrack both ways: ${fmtMs(rr.ct90)}); latency median ${fmtMs(
          median(
            latRounds
              .at(-1)
              .filter((f) => f.offloaded)
              .map((f) => f.latency),
          ),
        )}`,
    );
  }
} finally {
  await daemon?.stop();
  await lab.destroy();
  if (bpffs) dp.unmountBpffs(bpffs);
  bpffs = undefined;
}

// ---- report ----------------------------------------------------------------------------------

const med = (xs) => median(xs.filter((x) => Number.isFinite(x)));
const spread = (xs) => {
  const f = xs.filter((x) => Number.isFinite(x));
  if (!f.length) return 'n/a';
  const { min, max } = range(f);
  return `${fmtMs(min)}–${fmtMs(max)}`;
};
const rate = (n, ms) => (ms > 0 ? `${((n / ms) * 1000).toFixed(0)}/s` : 'n/a');
const out = [];
out.push(header(`offload: flow setup by offloadd (datapath ${attachedText}, fw4-like NAT), ${rounds} rounds`));

/** One rate table: R the rounds, n flows, rows [label, 90 % of, all of, note]. */
function rateSection(title, R, n, rows, lagLabel) {
  const n90 = Math.ceil(0.9 * n);
  out.push('');
  out.push(title);
  out.push(
    `    ${''.padEnd(44)} ${'90 % at'.padStart(9)}  ${'min–max'.padEnd(19)} ${'rate'.padStart(9)}  ${'all at'.padStart(9)}`,
  );
  for (const [label, k90, kAll, note] of rows)
    out.push(
      `    ${label.padEnd(44)} ${fmtMs(med(R.map(k90))).padStart(9)}  ${spread(R.map(k90)).padEnd(19)} ${rate(n90, med(R.map(k90))).padStart(9)}  ${fmtMs(med(R.map(kAll))).padStart(9)}  ${note}`,
    );
  const ratios = R.map((r) => r.ct90 / r.off90).filter(Number.isFinite);
  const ratio = median(ratios);
  out.push(
    `    offload rate / stack rate (90 %, median of rounds): ${ratios.length ? fmtRatio(ratio) : 'n/a'} — ${
      !ratios.length
        ? 'not measured (fewer than 90 % offloaded)'
        : ratio >= 0.9
          ? 'offloadd keeps up with the stack'
          : `offloadd does not keep up with a burst: it trails the stack by ${fmtMs(med(R.map((r) => r.off90 - r.ct90)))} at 90 %`
    }`,
  );
  const lags = R.flatMap((r) => r.lags);
  if (lags.length)
    out.push(
      `    per flow, ${lagLabel} → fast path (first pass): median ${fmtMs(median(lags))}, p90 ${fmtMs(percentile(lags, 0.9))}, max ${fmtMs(Math.max(...lags))}`,
    );
  out.push(
    `    offloaded in the first pass (before the first keep-alive): median ${med(R.map((r) => r.firstPass))}/${n} (min ${Math.min(...R.map((r) => r.firstPass))})`,
  );
  const sumRefused = {};
  for (const r of R) for (const [k, v] of Object.entries(r.refused)) sumRefused[k] = (sumRefused[k] ?? 0) + v;
  out.push(
    `    events per round (median): ${med(R.map((r) => r.events))} sent by the datapath, ${med(R.map((r) => r.seen))} handled, ${med(R.map((r) => r.lost))} lost (ring buffer full), ${med(R.map((r) => r.loggedOffloads))} offloaded (status); refused over all rounds: ${
      Object.entries(sumRefused)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
  );
}

rateSection(
  `(1) rate: a burst of ${nFlows} new UDP flows (one datagram each, echoed), keep-alives every ${keepaliveMs} ms`,
  rateRounds,
  nFlows,
  [
    ['stack: conntrack entries made (client sent)', (r) => r.new90, (r) => r.sendMs, `${nFlows} sent`],
    [
      'stack: conntrack both ways (server echoed)',
      (r) => r.ct90,
      (r) => r.ctAll,
      `${med(rateRounds.map((r) => r.echoed))}/${nFlows} echoed, ${med(rateRounds.map((r) => r.back))} back at the client`,
    ],
    [
      'offloadd: on the fast path (its log line)',
      (r) => r.off90,
      (r) => r.offAll,
      `${med(rateRounds.map((r) => r.offloaded))}/${nFlows} offloaded`,
    ],
  ],
  "server's echo",
);
if (tcpFlows) {
  const TR = tcpRateRounds;
  rateSection(
    `(1b) rate: ${tcpFlows} TCP connections opened at once (64 bytes each right after the handshake, echoed), keep-alives every ${keepaliveMs} ms`,
    TR,
    tcpFlows,
    [
      ['stack: ESTABLISHED (≈ client connect() done)', (r) => r.ct90, (r) => r.ctAll, `${tcpFlows} connect() calls`],
      [
        'stack: the server application accepted',
        (r) => r.acc90,
        (r) => r.accAll,
        `${med(TR.map((r) => r.accepted))}/${tcpFlows} accepted, ${med(TR.map((r) => r.connected))} connected at the client`,
      ],
      [
        'offloadd: on the fast path (first log line)',
        (r) => r.off90,
        (r) => r.offAll,
        `${med(TR.map((r) => r.offloaded))}/${tcpFlows} offloaded, ${med(TR.map((r) => r.lasting))} still at the end`,
      ],
    ],
    'ESTABLISHED',
  );
  const undone = TR.reduce((n, r) => n + r.undone, 0);
  if (undone) {
    const why = {};
    for (const r of TR) for (const [k, v] of Object.entries(r.why)) why[k] = (why[k] ?? 0) + v;
    out.push(
      `    (!) offloaded, then removed again while open: median ${med(TR.map((r) => r.undone))}/${tcpFlows} per round (${Object.entries(
        why,
      )
        .map(([k, v]) => `"${k}" ${v}`)
        .join(', ')} over all rounds): back to the stack until their next event, ≥ 1 s later`,
    );
  }
}
out.push('');

const L = latRounds.flat();
const ok = L.filter((f) => f.offloaded);
const missed = L.filter((f) => f.offloaded === false);
const odd = L.filter((f) => f.anomaly);
out.push(
  `(2) latency, first datagram → first one the fast path carried: ${L.length} UDP flows (${latFlows} per round), a datagram every ${gapUs} µs for ${fastMs} ms, then every 10 ms to ${flowMs} ms`,
);
if (ok.length) {
  const lat = ok.map((f) => f.latency);
  const rtt = ok.map((f) => f.rtt).filter((x) => x >= 0);
  out.push(
    `    latency                              median ${fmtMs(median(lat))}, p90 ${fmtMs(percentile(lat, 0.9))}, max ${fmtMs(Math.max(...lat))}`,
  );
  out.push(
    `    datagrams through the stack first    median ${median(ok.map((f) => f.k))}, p90 ${percentile(
      ok.map((f) => f.k),
      0.9,
    )}`,
  );
  const lower = ok.map((f) => f.latency - f.resolution);
  out.push(
    `    resolution (gap before that one)     median ${fmtMs(median(ok.map((f) => f.resolution)))}, max ${fmtMs(Math.max(...ok.map((f) => f.resolution)))}; ` +
      `the datagram before it still went through the stack (lower bound: median ${fmtMs(median(lower))}, p90 ${fmtMs(percentile(lower, 0.9))})`,
  );
  out.push(
    `    baseline: the server's first echo    median ${fmtMs(median(rtt))}, p90 ${fmtMs(percentile(rtt, 0.9))} (conntrack both ways: the earliest offloadd may take it)`,
  );
  const per = ok.filter((f) => f.rtt > 0).map((f) => f.latency / f.rtt);
  out.push(`    latency / that echo, per flow        median ${fmtRatio(median(per))}, p90 ${fmtRatio(percentile(per, 0.9))}`);
  const logged = ok.map((f) => f.logged).filter(Number.isFinite);
  if (logged.length)
    out.push(
      `    cross-check: offloadd's log line     median ${fmtMs(median(logged))}, p90 ${fmtMs(percentile(logged, 0.9))} after the first datagram`,
    );
  const slow = ok.filter((f) => f.latency >= 900);
  out.push(
    `    flows that waited for a second event (≥ 0.9 s, the 1 s event interval): ${slow.length} of ${L.length}` +
      (slow.length ? `; without them median ${fmtMs(median(ok.filter((f) => f.latency < 900).map((f) => f.latency)))}` : ''),
  );
}
if (missed.length) out.push(`    NOT offloaded within ${flowMs} ms: ${missed.length} of ${L.length} flows`);
if (odd.length) out.push(`    (!) ${odd.length} flows with inconsistent counters, e.g. ${odd[0].anomaly}`);
out.push('');

const T = tcpRounds.flat();
const tOk = T.filter((f) => f.offloaded);
out.push(
  `(3) TCP latency, connect() → offloadd's log line of the offload that lasted: ${T.length} connections (${latFlows} per round), 64 bytes every ${TCP_EVERY_MS} ms, echoed, for ${flowMs} ms`,
);
if (tOk.length) {
  const lat = tOk.map((f) => f.latency);
  const hs = T.map((f) => f.connected).filter((x) => x >= 0);
  out.push(
    `    latency                              median ${fmtMs(median(lat))}, p90 ${fmtMs(percentile(lat, 0.9))}, max ${fmtMs(Math.max(...lat))}`,
  );
  out.push(
    `    baseline: handshake done at client   median ${fmtMs(median(hs))}, p90 ${fmtMs(percentile(hs, 0.9))} (conntrack ESTABLISHED: the earliest offloadd may take it)`,
  );
  const per = tOk.filter((f) => f.connected > 0).map((f) => f.latency / f.connected);
  out.push(`    latency / handshake, per connection  median ${fmtRatio(median(per))}, p90 ${fmtRatio(percentile(per, 0.9))}`);
  const firstOk = tOk.filter((f) => !f.undone.length).map((f) => f.latency);
  if (firstOk.length < tOk.length && firstOk.length)
    out.push(
      `    of the connections offloaded once and for all: median ${fmtMs(median(firstOk))} (${firstOk.length} of ${T.length})`,
    );
}
const undone = T.filter((f) => f.undone.length);
if (undone.length) {
  const why = {};
  for (const f of undone) for (const w of f.undone) why[w] = (why[w] ?? 0) + 1;
  out.push(
    `    (!) offloaded, then removed again while open: ${undone.length} of ${T.length} connections (${Object.entries(why)
      .map(([k, v]) => `"${k}" ${v}`)
      .join(
        ', ',
      )}; first offload median ${fmtMs(median(undone.map((f) => f.first)))}) — back to the stack until an event ≥ 1 s later`,
  );
}
const tMissed = T.filter((f) => !f.offloaded);
if (tMissed.length) out.push(`    NOT on the fast path at the end: ${tMissed.length} of ${T.length} connections`);
out.push('');
out.push('Times from the first datagram of the burst (1) / of the flow (2) / connect() (3). (1), (3): offload times are when');
out.push("offloadd's log line reached the bench (written after the map update); (1): conntrack times are the server's echoes.");
out.push("(2): a per-packet figure from the datapath's own counter; resolution as printed (its log-line cross-check shows how");
out.push(
  'close the log-line timing of (1) and (3) is). Shared, noisy machine: client, server, router and daemon share its cores.',
);
console.log(out.join('\n'));
