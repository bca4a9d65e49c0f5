#!/usr/bin/env node
// offload, issue item (c): forwarding throughput and CPU through a lab router with the
// offload datapath, as ratios to plain forwarding and to nftables NAT, whatever they are.
// Figures, not tests.
//
// Lab (the bench's own namespaces, torn down at the end, on error and on Ctrl-C): the
// daemon tests' client — router — server (plugins/offload/test/daemon/daemon.ts), iperf3
// client → server through the router. Four router configurations, measured in the same
// run, rounds interleaved (rotating order, so drift on a shared machine spreads over all):
//
//   plain   forwarding only: no nftables (so no conntrack either), no offload
//   nft     the daemon tests' fw4-like ruleset: ct state established accept, masquerade
//   tc      the same ruleset + offloadd (started once, as the plugin runs it) with the
//           datapath on lan and wan in tc mode
//   xdp     the same, native XDP on lan and wan
//
// End-host profiles (the router is never tuned):
//   mtu   client and server send full checksums (ethtool tx off, so no TSO either: MTU-sized
//         segments) and receive with GRO on — what XDP on veth needs (a redirected frame
//         loses CHECKSUM_PARTIAL; a veth target needs NAPI on its peer). All four configs.
//   tso   the veth defaults (TX checksum offload and TSO on, GRO off): 64 KiB GSO packets
//         cross the router. XDP cannot carry these (above), so tso runs plain, nft, tc.
// Both profiles run iperf3 TCP (one stream, --seconds) flat out, and again paced at
// --paced-gbit (iperf3 -b): flat out, each configuration moves what the CPU lets it (on a
// small machine), so its CPU per GB largely mirrors its throughput; at an equal, lower load
// the CPU figure says what each configuration costs. mtu also runs iperf3 UDP with 64-byte
// payloads at full speed (-b 0), which gives packets per second received.
//
// CPU: the machine's CPU time during each iperf3 run, from /proc/stat, all cores (client,
// server, router softirq, offloadd, and anything else running on the machine), in
// core-seconds per GB moved (TCP) or per million packets received (UDP). Two readings
// (lib.mjs cpuBusy): the busy fields user + nice + system + irq + softirq, and wall × CPUs
// − idle − steal. They differ on kernels with tick-based CPU accounting (the one this was
// written on: CONFIG_TICK_CPU_ACCOUNTING, HZ=250, no IRQ time accounting): the busy fields are samples taken at each tick, so a
// CPU that wakes from NOHZ idle, does a short burst of work and sleeps again before the next
// tick is not charged at all — exactly what a light, fast path does — while idle time is
// measured with the clock. The table uses the non-idle reading; the tick-sampled one is
// printed under it. Before each round the machine's background is measured with the lab
// idle for 1 s and printed (not subtracted).
// Proof of offload: offloadd's datapath stats over each run; "fast path" = the share of
// the packets the datapath saw on lan and wan that it forwarded itself (the rest went to
// the stack). A run whose share is under 90 % is marked.
//
//   node bench/offload/throughput.mjs [--rounds 3] [--seconds 4] [--profiles mtu,tso] [--paced-gbit 1] [--no-udp]
import os from 'node:os';
import path from 'node:path';
import { loadBenchLib, requireLab } from '../pirania/lib.mjs';
import { median, range } from '../lib/stats.mjs';
import {
  buildDaemon,
  cpuBusy,
  cpuTimes,
  fmtRatio,
  header,
  loadDatapathLib,
  log,
  onInterrupt,
  startOffloadd,
  unavailable,
} from './lib.mjs';

const USAGE =
  'usage: node bench/offload/throughput.mjs [--rounds 3] [--seconds 4] [--profiles mtu,tso] [--paced-gbit 1 (0: off)] [--no-udp]';
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const rounds = Number(option('rounds', 3));
const seconds = Number(option('seconds', 4));
const profiles = String(option('profiles', 'mtu,tso')).split(',');
const udp = !argv.includes('--no-udp');
const pacedGbit = Number(option('paced-gbit', 1));
if (
  !(rounds >= 1) ||
  !(seconds >= 1 && seconds <= 60) ||
  !(pacedGbit >= 0) ||
  profiles.some((p) => !['mtu', 'tso'].includes(p))
) {
  log(`bench: bad arguments (--seconds 1..60, --paced-gbit ≥ 0, --profiles from mtu,tso)\n${USAGE}`);
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
requireLab(lib, ['nft', 'iperf3', 'ethtool']);

const A = dp.DAEMON_ADDR[4];
const CONFIGS = [
  { name: 'plain', label: 'plain forwarding (no nftables)', nft: false, offload: null },
  { name: 'nft', label: 'nftables NAT (fw4-like)', nft: true, offload: null },
  { name: 'tc', label: 'offload TC + nftables NAT', nft: true, offload: 'tc' },
  { name: 'xdp', label: 'offload XDP + nftables NAT', nft: true, offload: 'xdp' },
];
const PROFILES = {
  mtu: { label: 'end hosts: TX checksum off (no TSO), GRO on', ethtool: ['tx', 'off', 'gro', 'on'], configs: CONFIGS },
  tso: {
    label: 'end hosts: veth defaults (TX checksum + TSO on, GRO off); no XDP (cannot carry them)',
    ethtool: ['tx', 'on', 'gro', 'off'],
    configs: CONFIGS.filter((c) => c.name !== 'xdp'),
  },
};
const NOT_VERDICTS = new Set(['event', 'event_lost']);

let bpffs;
onInterrupt(() => {
  if (bpffs) dp.unmountBpffs(bpffs);
});
const lab = await lib.createLab(dp.DAEMON_LAB_SPEC);
let daemon;
const results = {}; // `${profile}/${test}/${config}` → [{ …per run }]
const background = [];
try {
  const router = lab.node('router');
  const client = lab.node('client');
  bpffs = dp.mountBpffs();
  log(`bench: lab ${lab.prefix}-*, bpffs ${bpffs}`);
  daemon = await startOffloadd(dp, router, { dir: lab.tempDir('offloadd'), pinDir: path.join(bpffs, 'offload') });
  const iperfServer = lab.node('server').spawn(['iperf3', '-s', '--forceflush']);
  await iperfServer.waitFor(/Server listening/);
  await client.exec(['ping', '-c', '2', '-i', '0.2', '-W', '2', A.server]);

  let nftOn = false;
  async function apply(config) {
    if (config.nft && !nftOn) await router.run(['nft', '-f', '-'], { input: dp.FW4_RULES, check: true });
    if (!config.nft && nftOn) await router.exec(['nft', 'delete', 'table', 'inet', 'fw4']);
    nftOn = config.nft;
    const interfaces = config.offload ? ['lan', 'wan'].map((ifname) => ({ ifname, mode: config.offload })) : [];
    const r = await daemon.control.ok('configure', { interfaces });
    const want = config.offload === 'xdp' ? 'xdp-native' : config.offload;
    if (config.offload && !r.interfaces.every((i) => i.attached === want))
      throw new Error(`configure ${config.name}: attached ${JSON.stringify(r.interfaces)}`);
  }

  const stats = async () => (await daemon.status()).stats;
  async function iperf(test) {
    const args = ['iperf3', '-c', A.server, '-t', String(seconds), '-J'];
    if (test === 'udp') args.push('-u', '-b', '0', '-l', '64');
    if (test === 'paced') args.push('-b', `${pacedGbit}G`);
    const s0 = await stats();
    const c0 = cpuTimes();
    const r = await client.run(args, { timeoutMs: (seconds + 20) * 1000 });
    const cpu = cpuBusy(c0, cpuTimes());
    const s1 = await stats();
    let json;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      throw new Error(`iperf3 printed no JSON (${r.exitCode}): ${r.stderr}`);
    }
    if (json.error) throw new Error(`iperf3: ${json.error}`);
    const d = Object.fromEntries(Object.keys(s1).map((k) => [k, s1[k] - (s0[k] ?? 0)]));
    const seen = Object.entries(d)
      .filter(([k]) => !NOT_VERDICTS.has(k))
      .reduce((sum, [, v]) => sum + v, 0);
    const passed = Object.entries(d)
      .filter(([k, v]) => k.startsWith('pass_') && v > 0)
      .sort((a, b) => b[1] - a[1]);
    const run = { cpu: cpu.nonIdle, cpuTicks: cpu.ticks, wall: cpu.wall, seen, forward: d.forward, passed };
    if (test === 'udp') {
      const sum = json.end.sum;
      run.pps = (sum.packets - sum.lost_packets) / sum.seconds;
      run.packets = sum.packets - sum.lost_packets;
      run.lost = sum.lost_percent;
      run.sentPps = sum.packets / sum.seconds;
    } else {
      run.bps = json.end.sum_received.bits_per_second;
      run.bytes = json.end.sum_received.bytes;
      run.retransmits = json.end.sum_sent.retransmits;
    }
    return run;
  }

  const tests = (profile) => ['tcp', ...(pacedGbit > 0 ? ['paced'] : []), ...(profile === 'mtu' && udp ? ['udp'] : [])];
  const total = profiles.reduce((n, p) => n + PROFILES[p].configs.length * tests(p).length, 0) * rounds;
  log(`bench: ${total} iperf3 runs of ${seconds} s (${rounds} rounds; profiles ${profiles.join(', ')})`);
  for (const profile of profiles) {
    const P = PROFILES[profile];
    for (const n of ['client', 'server']) await lab.node(n).exec(['ethtool', '-K', 'eth0', ...P.ethtool]);
    for (let r = 0; r < rounds; r++) {
      await apply(CONFIGS[0]);
      const c0 = cpuTimes();
      await new Promise((res) => setTimeout(res, 1000));
      const idle = cpuBusy(c0, cpuTimes());
      background.push({ nonIdle: idle.nonIdle / idle.wall, ticks: idle.ticks / idle.wall });
      for (let k = 0; k < P.configs.length; k++) {
        const config = P.configs[(k + r) % P.configs.length];
        await apply(config);
        for (const test of tests(profile)) {
          const run = await iperf(test);
          (results[`${profile}/${test}/${config.name}`] ??= []).push(run);
        }
      }
      log(`bench: ${profile}: round ${r + 1}/${rounds}`);
    }
  }
  await apply(CONFIGS[0]);
} finally {
  await daemon?.stop();
  await lab.destroy();
  if (bpffs) dp.unmountBpffs(bpffs);
  bpffs = undefined;
}

// ---- report ----------------------------------------------------------------------------------

const out = [header(`offload: forwarding throughput and CPU, iperf3 client → router → server (${rounds} rounds × ${seconds} s)`)];
const bg = range(background.map((b) => b.nonIdle));
out.push(
  `background (lab idle, 1 s before each round): ${median(background.map((b) => b.nonIdle)).toFixed(2)} cores busy ` +
    `(${bg.min.toFixed(2)}–${bg.max.toFixed(2)}; tick-sampled ${median(background.map((b) => b.ticks)).toFixed(2)}), not subtracted`,
);
const marks = [];
const fastPath = (runs) => {
  const shares = runs.map((r) => (r.seen ? r.forward / r.seen : 0));
  const low = shares.filter((s) => s < 0.9).length;
  const worst = runs[shares.indexOf(Math.min(...shares))];
  const why = worst.passed.length ? `${worst.passed[0][0]} ${worst.passed[0][1]}` : 'no packets seen';
  if (low)
    marks.push(
      `${low} of ${runs.length} runs under 90 % (worst: ${(Math.min(...shares) * 100).toFixed(1)} %, most passed as ${why})`,
    );
  return `${(median(shares) * 100).toFixed(1)} %${low ? ` (!${marks.length})` : ''}`;
};
const pad = (s, n, left = false) => (left ? String(s).padEnd(n) : String(s).padStart(n));
for (const profile of profiles) {
  const P = PROFILES[profile];
  for (const test of ['tcp', 'paced', 'udp']) {
    const runsOf = (c) => results[`${profile}/${test}/${c.name}`];
    if (!runsOf(P.configs[0])) continue;
    out.push('');
    out.push(
      test === 'tcp'
        ? `[${profile}] TCP, one stream, flat out — ${P.label}`
        : test === 'paced'
          ? `[${profile}] TCP, one stream paced at ${pacedGbit} Gbit/s (iperf3 -b): CPU at an equal load — ${P.label}`
          : `[${profile}] UDP, 64-byte payloads, -b 0 (as fast as iperf3 sends) — ${P.label}`,
    );
    const unit = test === 'udp' ? 'kpps rcvd' : 'Gbit/s';
    const cpuUnit = test === 'udp' ? 'core-s/Mpkt' : 'core-s/GB';
    out.push(
      `  ${pad('', 30, true)} ${pad(unit, 10)} ${pad('min–max', 13)} ${pad('× plain', 8)} ${pad('× nft', 8)}  ${pad(cpuUnit, 11)} ${pad('× plain', 8)} ${pad('× nft', 8)} ${pad('cores', 6)}  fast path`,
    );
    const value = (r) => (test === 'udp' ? r.pps / 1e3 : r.bps / 1e9);
    const cpuPer = (r) => (test === 'udp' ? r.cpu / (r.packets / 1e6) : r.cpu / (r.bytes / 1e9));
    // ratios: medians of the per-round ratios (same round, back to back)
    const ratio = (c, base, f) => {
      const a = runsOf(c);
      const b = runsOf(base);
      return median(a.map((r, i) => f(r) / f(b[i])));
    };
    for (const c of P.configs) {
      const runs = runsOf(c);
      const v = runs.map(value);
      const { min, max } = range(v);
      const digits = test === 'udp' ? 0 : 2;
      out.push(
        `  ${pad(c.label, 30, true)} ${pad(median(v).toFixed(digits), 10)} ${pad(`${min.toFixed(digits)}–${max.toFixed(digits)}`, 13)} ` +
          `${pad(fmtRatio(ratio(c, CONFIGS[0], value)), 8)} ${pad(fmtRatio(ratio(c, CONFIGS[1], value)), 8)}  ` +
          `${pad(median(runs.map(cpuPer)).toFixed(test === 'udp' ? 1 : 2), 11)} ${pad(fmtRatio(ratio(c, CONFIGS[0], cpuPer)), 8)} ${pad(fmtRatio(ratio(c, CONFIGS[1], cpuPer)), 8)} ` +
          `${pad(median(runs.map((r) => r.cpu / r.wall)).toFixed(2), 6)}  ${c.offload ? fastPath(runs) : '–'}`,
      );
    }
    const busiest = Math.max(...P.configs.map((c) => median(runsOf(c).map((r) => r.cpu / r.wall))));
    if (busiest >= 0.9 * os.cpus().length)
      out.push(
        test === 'paced'
          ? `  (the machine's ${os.cpus().length} cores were (nearly) all busy at a paced rate: other load fills them, these CPU figures are not usable)`
          : `  (the machine's ${os.cpus().length} cores were (nearly) all busy: here CPU per ${test === 'udp' ? 'Mpkt' : 'GB'} mostly mirrors the rate)`,
      );
    const cpuTicksPer = (r) => (test === 'udp' ? r.cpuTicks / (r.packets / 1e6) : r.cpuTicks / (r.bytes / 1e9));
    out.push(
      `  tick-sampled CPU (user+sys+irq+softirq), ${cpuUnit}: ` +
        P.configs
          .map(
            (c) =>
              `${c.name} ${median(runsOf(c).map(cpuTicksPer)).toFixed(test === 'udp' ? 1 : 2)} (${fmtRatio(ratio(c, CONFIGS[0], cpuTicksPer))} plain)`,
          )
          .join(', '),
    );
    for (const c of P.configs.filter((x) => x.offload)) {
      const runs = runsOf(c);
      const passed = {};
      for (const r of runs) for (const [k, v] of r.passed) passed[k] = (passed[k] ?? 0) + v / runs.length;
      const top = Object.entries(passed)
        .sort((x, y) => y[1] - x[1])
        .slice(0, 3)
        .map(([k, v]) => `${k} ${Math.round(v)}`);
      out.push(
        `  datapath, ${c.name}, per run (median): forwarded ${Math.round(median(runs.map((r) => r.forward)))} of ${Math.round(median(runs.map((r) => r.seen)))} packets it saw` +
          `${top.length ? `; to the stack, mean: ${top.join(', ')}` : ''}`,
      );
    }
    if (test === 'udp') {
      const sent = P.configs.map(
        (c) =>
          `${c.name} ${(median(runsOf(c).map((r) => r.sentPps)) / 1e3).toFixed(0)}k sent, ${median(runsOf(c).map((r) => r.lost)).toFixed(1)} % lost`,
      );
      out.push(`  (iperf3 sender: ${sent.join('; ')})`);
    } else {
      const rtx = P.configs.map((c) => `${c.name} ${median(runsOf(c).map((r) => r.retransmits))}`);
      out.push(`  (TCP retransmits, median: ${rtx.join(', ')})`);
    }
  }
}
out.push('');
out.push("Gbit/s / kpps: what the server received (iperf3). core-s/GB, core-s/Mpkt: the machine's non-idle CPU time during");
out.push('the run (wall × CPUs − idle − steal from /proc/stat: everything on the machine) per GB / million packets received;');
out.push("cores = that time over the run's wall time. tick-sampled: the busy fields of /proc/stat, which miss short bursts");
out.push('between timer ticks on this kernel. ×: medians of per-round ratios. fast path: share of the packets the datapath');
out.push('saw on lan + wan that it forwarded itself (its stats), the rest went to the stack.');
marks.forEach((m, i) => out.push(`(!${i + 1}) ${m}: these figures are partly the stack's`));
console.log(out.join('\n'));
