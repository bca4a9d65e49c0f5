#!/usr/bin/env node
// offload datapath, issue item (a): the per-packet cost of the hit path, measured with
// BPF_PROG_TEST_RUN on this kernel, as a ratio to the cheapest XDP program there is (one
// that returns XDP_PASS, bench/offload/pass.bpf.c). Figures, not tests.
//
// Cases, each through the XDP program (offload_xdp) and the TC program (offload_tc):
// IPv4 TCP without NAT, IPv4 TCP with SNAT, IPv6 TCP, IPv4 UDP with DNAT (hits: the
// packet is rewritten and gets the redirect verdict), and a miss (IPv4 TCP with no flow:
// passed to the stack, new-flow event rate-limited). Baselines in the same rounds: XDP_PASS
// and a TC program returning TC_ACT_OK.
//
// How: bench/offload/testrun.c (gcc + libbpf) loads ebpf/offload's object (no pins) in a
// lab namespace of this bench's own (one veth pair: frames "arrive" on eth-lan, flows send
// them out of eth-wan, which is in tx_ports) and runs each case with
// BPF_PROG_TEST_RUN(repeat = R), taking the kernel's `duration` (ns per repetition of its
// run loop: no syscall, no packet copy). test_run repeats on the SAME buffer, so from the
// 2nd repetition on a hit sees its own output: the frames carry TTL / hop limit 255, R is
// 250 (below the TTL), and each case also has the flow of its rewritten packet (identity
// NAT, same flags), so every repetition takes the hit path. The stats map proves it: a
// case's forward count must grow by exactly R × runs, or the case is flagged. Without
// BPF_F_TEST_XDP_LIVE_FRAMES the kernel only returns the verdict: XDP_REDIRECT /
// TC_ACT_REDIRECT are not carried out, so the figures are the program (parse, lookup,
// rewrite, checksums, redirect helper incl. the tx_ports lookup), not the transmit.
//
// Each round runs every case once, in a rotated order; a case's figure in a round is the
// median of its runs, which are sized so the case spends about --target-ms in the kernel.
// Printed: median and p90 over the rounds, ns per packet, and the median of the per-round
// ratios to XDP_PASS (and, for TC, to the TC_ACT_OK program).
//
//   node bench/offload/testrun.mjs [--rounds 7] [--target-ms 100] [--repeat 250]
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { median } from '../lib/stats.mjs';
import {
  HARNESS,
  OFFLOAD_OBJECT,
  PASS_OBJECT,
  buildAll,
  fmtNs,
  fmtRatio,
  header,
  loadDatapathLib,
  log,
  percentile,
  unavailable,
} from './lib.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : fallback;
};
if (argv.includes('--help') || argv.includes('-h')) {
  console.log('usage: node bench/offload/testrun.mjs [--rounds 7] [--target-ms 100] [--repeat 250]');
  process.exit(0);
}
const rounds = option('rounds', 7);
const targetMs = option('target-ms', 100);
const repeat = option('repeat', 250);
if (!(rounds >= 1) || !(targetMs > 0) || !(repeat >= 1 && repeat <= 253)) {
  log('bench: --rounds ≥ 1, --target-ms > 0, --repeat 1..253 (the frames carry TTL 255)');
  process.exit(2);
}
const why = unavailable();
if (why) {
  log(`bench: cannot run: ${why}`);
  process.exit(1);
}

log('bench: building the datapath, the baselines and the harness into .cache/bench/offload');
buildAll();
const dp = await loadDatapathLib();

// ---- the lab: one namespace, one veth pair ---------------------------------------------

const NS = `wrtkit-bench-offload-${process.pid}`;
const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
let harness;
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  harness?.kill();
  try {
    ip('netns', 'del', NS);
  } catch {
    // already gone
  }
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

ip('netns', 'add', NS);
ip('-n', NS, 'link', 'add', 'name', 'eth-lan', 'type', 'veth', 'peer', 'name', 'eth-wan');
ip('-n', NS, 'link', 'set', 'eth-lan', 'up');
ip('-n', NS, 'link', 'set', 'eth-wan', 'up');
const ifindex = (name) => Number(ip('netns', 'exec', NS, 'cat', `/sys/class/net/${name}/ifindex`).trim());
const LAN = ifindex('eth-lan');
const WAN = ifindex('eth-wan');

// ---- the harness -------------------------------------------------------------------------

harness = spawn('ip', ['netns', 'exec', NS, HARNESS, OFFLOAD_OBJECT, PASS_OBJECT], { stdio: ['pipe', 'pipe', 'inherit'] });
const waiting = [];
createInterface({ input: harness.stdout }).on('line', (line) => waiting.shift()?.(JSON.parse(line)));
harness.on('exit', (code) => {
  for (const w of waiting.splice(0)) w({ ok: false, error: `harness exited (${code})` });
});
const ready = new Promise((resolve) => waiting.push(resolve));
const send = (line) =>
  new Promise((resolve) => {
    waiting.push(resolve);
    harness.stdin.write(`${line}\n`);
  });
async function ok(line) {
  const reply = await send(line);
  if (!reply.ok) throw new Error(`${line.split(' ')[0]}: ${reply.error}`);
  return reply;
}

if (!(await ready).ok) throw new Error('harness did not start');
await ok('set heartbeat_timeout_ns 3600000000000'); // the harness beats before every case anyway
await ok('load');
await ok(`txport ${WAN}`);

// ---- cases -------------------------------------------------------------------------------

const HIT_CASES = [
  { name: 'IPv4 TCP', family: 4, proto: 'tcp', nat: 'none' },
  { name: 'IPv4 TCP SNAT', family: 4, proto: 'tcp', nat: 'snat' },
  { name: 'IPv6 TCP', family: 6, proto: 'tcp', nat: 'none' },
  { name: 'IPv4 UDP DNAT', family: 4, proto: 'udp', nat: 'dnat' },
];
let nextPort = 1000;
const specFor = (family, proto) => {
  const a = dp.ADDR[family];
  return { family, proto, srcIp: a.client, dstIp: a.server, sport: nextPort++, dport: proto === 'tcp' ? 443 : 53, ttl: 255 };
};
const hex = (bytes) => Buffer.from(bytes).toString('hex');

const jobs = [
  { hook: 'xdp', name: 'XDP_PASS program', prog: 'xdppass', packet: hex(dp.frame(specFor(4, 'tcp'))), ret: dp.XDP_PASS },
  { hook: 'tc', name: 'TC_ACT_OK program', prog: 'tcpass', packet: hex(dp.frame(specFor(4, 'tcp'))), ret: dp.TC_ACT_OK },
];
for (const c of HIT_CASES) {
  const spec = specFor(c.family, c.proto);
  const a = dp.flowFor(spec, LAN, WAN, { nat: c.nat });
  // the flow of the rewritten packet, which every repetition after the first one sees
  const b = dp.flowFor({ ...a.after, ttl: 254 }, LAN, WAN, { nat: c.nat });
  for (const f of [a, b]) await ok(`flow ${dp.encodeKey(f.key)} ${dp.encodeValue(f.value)}`);
  const packet = hex(dp.frame(spec));
  jobs.push({ hook: 'xdp', name: `hit ${c.name}`, prog: 'xdp', packet, ret: dp.XDP_REDIRECT, stat: 'forward' });
  jobs.push({ hook: 'tc', name: `hit ${c.name}`, prog: 'tc', packet, ret: dp.TC_ACT_REDIRECT, stat: 'forward' });
}
{
  const packet = hex(dp.frame(specFor(4, 'tcp'))); // no flow for this port
  jobs.push({ hook: 'xdp', name: 'miss IPv4 TCP', prog: 'xdp', packet, ret: dp.XDP_PASS, stat: 'pass_no_flow' });
  jobs.push({ hook: 'tc', name: 'miss IPv4 TCP', prog: 'tc', packet, ret: dp.TC_ACT_OK, stat: 'pass_no_flow' });
}

const flagged = new Set();
async function time(job, reps, runs) {
  const reply = await ok(`time ${job.prog} ${job.packet} ${LAN} ${reps} ${runs}`);
  const moved = job.stat ? (reply.moved[job.stat] ?? 0) : reps * runs;
  if (reply.ret !== job.ret || moved !== reps * runs) {
    if (!flagged.has(job))
      log(`bench: ${job.hook} ${job.name}: verdict ${reply.ret}, stats moved ${JSON.stringify(reply.moved)}`);
    flagged.add(job);
  }
  return median(reply.ns);
}

// Calibration (also the warm-up). A program that leaves the packet alone (the baselines, a
// miss) runs 3 times per round with a repeat worth about targetMs; a hit repeats `repeat`
// times (TTL) and runs often enough for about targetMs, but XDP at most 25 times: with
// repeat > 1 every XDP test run swaps the XDP dispatcher's program twice, which waits for
// RCU (some 20 ms here), so those runs cost wall time, not kernel-loop time.
const budget = targetMs * 1e6;
for (const job of jobs) {
  const ns = Math.max(await time(job, repeat, 3), 1);
  if (job.stat === 'forward') {
    job.repeat = repeat;
    job.runs = Math.max(5, Math.min(job.hook === 'xdp' ? 25 : 100_000, Math.round(budget / (repeat * ns))));
  } else {
    job.repeat = Math.max(1000, Math.min(100_000_000, Math.round(budget / 3 / ns)));
    job.runs = 3;
  }
  job.samples = [];
}
log(`bench: ${rounds} rounds of ${jobs.length} cases (~${targetMs} ms of kernel time each)`);
for (let r = 0; r < rounds; r++) {
  const order = jobs.map((_, i) => jobs[(i + r) % jobs.length]);
  for (const job of order) job.samples.push(await time(job, job.repeat, job.runs));
  log(`bench: round ${r + 1}/${rounds}`);
}
await send('quit');
cleanup();

// ---- report --------------------------------------------------------------------------------

const [xdpPass, tcPass] = jobs;
const ratios = (job, base) => median(job.samples.map((s, i) => s / base.samples[i]));
const rows = jobs.map((job) => ({
  hook: job.hook.toUpperCase(),
  name: job.name + (flagged.has(job) ? ' (!)' : ''),
  med: fmtNs(median(job.samples)),
  p90: fmtNs(percentile(job.samples, 0.9)),
  xdp: fmtRatio(ratios(job, xdpPass)),
  extra: job === xdpPass ? '' : `+${fmtNs(median(job.samples.map((s, i) => s - xdpPass.samples[i])))}`,
  tc: job.hook === 'tc' ? fmtRatio(ratios(job, tcPass)) : '',
}));
const head = {
  hook: 'hook',
  name: 'case',
  med: 'ns/pkt med',
  p90: 'p90',
  xdp: '× XDP_PASS',
  extra: 'over XDP_PASS',
  tc: '× TC_ACT_OK',
};
const cols = Object.keys(head);
const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rows].map((r) => r[c].length))]));
const line = (r) =>
  cols
    .map((c) => (c === 'hook' || c === 'name' ? r[c].padEnd(width[c]) : r[c].padStart(width[c])))
    .join('  ')
    .trimEnd();

console.log(header('offload: per-packet cost of the datapath, BPF_PROG_TEST_RUN'));
const clang = execFileSync('clang', ['--version'], { encoding: 'utf8' }).match(/version (\S+)/)?.[1] ?? '?';
console.log(`clang ${clang}; hits: repeat ${repeat}; ${rounds} rounds, ~${targetMs} ms of kernel time per case and round`);
console.log('');
console.log(line(head));
for (const r of rows) console.log(line(r));
console.log('');
console.log("ns/pkt: the kernel's duration per repetition (integer ns, run loop included), median / p90 over rounds;");
console.log('ratios: medians of per-round ratios. Verdicts are returned, not carried out (no transmit).');
if (flagged.size) console.log('(!) the verdict or the stats were not what the case needs: see stderr');
