#!/usr/bin/env node
// dynapoint: how long a rule takes to notice that the uplink is gone (and back), against
// the bound its configuration promises, and what one probe round costs the host in CPU.
// A lab of its own (root needed), the plugin's test topology
// (plugins/dynapoint/test/lab/uplink-lab.ts):
//
//   router [wrtkit host: dynapoint] eth-isp ── eth-router [isp: HTTP :80 (204), DNS :53]
//
// with one rule probing http://100.64.0.1/ then dns://100.64.0.1/example.org.
//
// 1. Scripted outage, --cycles times: at a random phase of the probe cycle, the uplink is
//    cut (rotating: the isp's servers stopped, the isp's link end down, a blackhole route
//    to the isp on the router; --cut picks one); t_cut is when the cut has taken effect
//    (the command returned / the server exited). The bench waits for the host's
//    `switched to offline` line and reads `dynapoint.status` → rules[0].since, the wall
//    time the plugin switched: offline latency = since − t_cut. Then, at a random phase
//    again, the uplink is restored (t_restore: the server answers again / the command
//    returned) and online latency = since − t_restore. Both against the worst case of
//    the rule (a round starts `interval` after the previous one ended; a failed round
//    tries every host for up to `timeout` each):
//      offline ≤ offline_threshold × (interval + hosts × timeout)
//      online  ≤ hosts × timeout + online_threshold × interval   (the round under way at
//                the restore may still fail as a whole; good rounds take milliseconds)
//    and against the naive threshold × interval + timeout, for comparison.
// 2. CPU per probe round: the host process's utime+stime (/proc/<pid>/stat, in
//    CLK_TCK ticks) and its threads' on-CPU time (/proc/<pid>/task/*/schedstat, ns),
//    sampled in the idle gap between two rounds at the start and the end of --cpu-rounds
//    steady online rounds, then of steady offline rounds under each cut; divided by the
//    rounds the plugin counted (status.rounds) in between. Baseline: the same host with
//    the rule disabled (option enabled '0', `wrtkit reload`), over the online window's
//    wall time; "above idle" subtracts that rate. The sequence (online, idle, offline
//    per cut) is repeated --cpu-repeats times, because on a shared machine the same
//    window can cost several times more a minute later: medians and ranges over repeats.
//
//   node bench/dynapoint/detection.mjs [--cycles 20] [--cpu-rounds 10] [--cpu-repeats 3]
//     [--engine node|qjs] [--cut server|link|route] [--interval 1] [--timeout 0.5]
//     [--offline-threshold 3] [--online-threshold 2] [--log-level info|debug]
//
// --engine: the engine the host runs on; without it node, then qjs (qjs needs
// .cache/qjs/bin/qjs and .cache/native/wrtkit-native.so: skipped with a note when absent).
// Figures, not tests: nothing passes or fails on speed. Traffic stays inside the lab's
// namespaces; everything is torn down at the end. Raw samples:
// .cache/bench/dynapoint-detection.json.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../lib/stats.mjs';
import { bundleAndImport } from '../lib/bundle.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const benchDir = path.join(repoRoot, '.cache/bench');
const log = (text) => process.stderr.write(`${text}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

const USAGE =
  'usage: node bench/dynapoint/detection.mjs [--cycles 20] [--cpu-rounds 10] [--cpu-repeats 3] [--engine node|qjs]\n' +
  '  [--cut server|link|route] [--interval 1] [--timeout 0.5] [--offline-threshold 3] [--online-threshold 2] [--log-level info|debug]';
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const fail = (message) => {
  log(`bench: ${message}`);
  process.exit(2);
};
const cycles = Number(option('cycles', 20));
const cpuRounds = Number(option('cpu-rounds', 10));
const cpuRepeats = Number(option('cpu-repeats', 3));
const interval = Number(option('interval', 1));
const timeout = Number(option('timeout', 0.5));
const offlineThreshold = Number(option('offline-threshold', 3));
const onlineThreshold = Number(option('online-threshold', 2));
const logLevel = option('log-level', 'info');
const cutOption = option('cut', undefined);
const engineOption = option('engine', undefined);
if (!Number.isInteger(cycles) || cycles < 1) fail('--cycles must be a whole number ≥ 1');
if (!Number.isInteger(cpuRounds) || cpuRounds < 0) fail('--cpu-rounds must be a whole number ≥ 0 (0: no CPU figures)');
if (!Number.isInteger(cpuRepeats) || cpuRepeats < 1) fail('--cpu-repeats must be a whole number ≥ 1');
if (!(interval > 0) || !(timeout > 0)) fail('--interval and --timeout must be > 0 (seconds)');
if (!Number.isInteger(offlineThreshold) || offlineThreshold < 1 || !Number.isInteger(onlineThreshold) || onlineThreshold < 1)
  fail('--offline-threshold and --online-threshold must be whole numbers ≥ 1');
if (logLevel !== 'info' && logLevel !== 'debug') fail(`--log-level must be info or debug, not ${logLevel}`);
if (engineOption !== undefined && engineOption !== 'node' && engineOption !== 'qjs')
  fail(`--engine must be node or qjs, not ${engineOption}`);

const CUTS = {
  server: 'isp servers stopped',
  link: 'isp link down',
  route: 'blackhole route',
};
if (cutOption !== undefined && !(cutOption in CUTS))
  fail(`--cut must be one of ${Object.keys(CUTS).join(', ')}, not ${cutOption}`);
const cuts = cutOption ? [cutOption] : Object.keys(CUTS);

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

// ---------------------------------------------------------------------------------------
// building

/** The lab and the plugin's lab topology (bench/dynapoint/entry.ts), bundled fresh. */
async function loadBenchLib() {
  return bundleAndImport(path.join(repoRoot, 'bench/dynapoint/entry.ts'), path.join(benchDir, 'dynapoint-lib.mjs'));
}

log('bench: building the lab into .cache/bench');
const lib = await loadBenchLib();
const support = lib.labSupported();
if (!support.ok) {
  log(`bench: cannot run: ${support.reason}`);
  process.exit(1);
}

// The host and the plugin, built fresh and unminified into a dir of this bench's own (as
// the plugin's lab tests do), never build/, which other work may be rebuilding.
log('bench: building the host and dynapoint into .cache/bench/dynapoint');
const out = path.join(benchDir, 'dynapoint');
fs.rmSync(out, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [path.join(repoRoot, 'scripts/build.mjs'), '--out', out, '--quiet', '--no-minify', path.join(repoRoot, 'plugins/dynapoint')],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
const bundles = { hostBundle: path.join(out, 'wrtkit.js'), pluginDir: path.join(out, 'plugins') };

// ---------------------------------------------------------------------------------------
// the rule and its bounds

const HOSTS = [`http://${lib.ISP4}/`, `dns://${lib.ISP4}/example.org`];
const ruleOptions = {
  interval: String(interval),
  timeout: String(timeout),
  offline_threshold: String(offlineThreshold),
  online_threshold: String(onlineThreshold),
};
const intervalMs = interval * 1000;
const timeoutMs = timeout * 1000;
// A round starts `interval` after the previous one ENDED (the plugin sets its timer when a
// round is over) and tries the hosts one after another until one answers, each for up to
// `timeout`: a failed round lasts up to hosts × timeout. Worst case going offline: the cut
// lands just after a round's probe answered; then offline_threshold × (wait + failed round).
const boundOffline = offlineThreshold * (intervalMs + HOSTS.length * timeoutMs);
// Worst case coming back: the restore lands just after a failed round began, which may
// still fail as a whole (its probes went into the cut; after a link comes back, the
// router's ARP entry for the isp is retried only every second); then online_threshold ×
// (wait + a good round). A good round here is one HTTP HEAD on a veth (milliseconds), so
// its duration is not in the bound.
const boundOnline = HOSTS.length * timeoutMs + onlineThreshold * intervalMs;
// What the issue's formula (interval × threshold + timeout) gives, for comparison.
const naiveOffline = offlineThreshold * intervalMs + timeoutMs;
const naiveOnline = onlineThreshold * intervalMs + timeoutMs;

// ---------------------------------------------------------------------------------------
// the host process: CPU

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** The host's CPU so far: utime+stime (ticks → ms), reaped children, and schedstat (all threads, ms). */
function cpuSample(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after "(comm) ": state is field 3, utime 14, stime 15, cutime 16, cstime 17
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = (n) => (Number(f[n - 3]) * 1000) / CLK_TCK;
  let schedNs = 0;
  const threads = {};
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      const name = `${task} ${fs.readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim()}`;
      threads[name] = ns / 1e6;
      schedNs += ns;
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return {
    wallMs: Number(process.hrtime.bigint()) / 1e6,
    ticksMs: tick(14) + tick(15),
    childrenMs: tick(16) + tick(17),
    schedMs: schedNs / 1e6,
    threads,
  };
}

/** b − a; per thread (tid + name) only where it used CPU. */
const diff = (a, b) => ({
  wallMs: b.wallMs - a.wallMs,
  ticksMs: b.ticksMs - a.ticksMs,
  childrenMs: b.childrenMs - a.childrenMs,
  schedMs: b.schedMs - a.schedMs,
  threads: Object.fromEntries(
    Object.entries(b.threads)
      .map(([name, ms]) => [name, Number((ms - (a.threads[name] ?? 0)).toFixed(3))])
      .filter(([, ms]) => ms > 0),
  ),
});

/** Checks that pid is the host itself (ip netns exec execs in place), not a wrapper. */
function checkHostPid(pid, hostBundle) {
  const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  if (!cmdline.includes(hostBundle) || !cmdline.includes('run') || ppid !== process.pid)
    throw new Error(`pid ${pid} is not the host (parent ${ppid}, argv ${cmdline.join(' ')})`);
  return comm;
}

// ---------------------------------------------------------------------------------------
// small helpers

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

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown cpu',
    kernel: os.release(),
    node: process.version,
    loadavg: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    memMiB: Math.round(os.totalmem() / 2 ** 20),
  };
}

const fmtS = (ms) => `${(ms / 1000).toFixed(2)} s`;
const fmtCpu = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

// ---------------------------------------------------------------------------------------
// one engine

async function runEngine(engine) {
  const lab = await lib.createLab(lib.LAB_SPEC);
  try {
    const ispNode = lab.node('isp');
    const routerNode = lab.node('router');
    let isp = await lib.startIsp(ispNode);
    const root = lab.tempDir('router-root');
    const host = await lab.startHost('router', {
      root,
      engine,
      ...bundles,
      ...(engine === 'qjs' ? { qjs: QJS, native: NATIVE } : {}),
      config: {
        // `true` stands in for `wifi reload`: every switch recomposes and applies wireless
        wrtkit: `config wrtkit 'main'\n\toption log_level '${logLevel}'\n\nconfig apply 'wireless'\n\tlist command 'true'\n`,
        system: "config system\n\toption hostname 'node1'\n",
        wireless: lib.WIRELESS,
        dynapoint: lib.dynapointConfig(ruleOptions, HOSTS),
      },
    });
    await host.waitForLog(/ready plugins=1 failed=0/, { timeoutMs: 30_000 });
    const comm = checkHostPid(host.pid, bundles.hostBundle);
    log(`bench: host on ${engine}: pid ${host.pid} (${comm}), the host process itself`);

    const status = async () => {
      const s = await host.call('dynapoint', 'status');
      const rule = s.rules?.[0];
      if (!rule) throw new Error(`dynapoint.status: no rule: ${JSON.stringify(s)}`);
      return rule;
    };
    const roundMs = (rule) => (rule.last_round?.results ?? []).reduce((sum, r) => sum + r.ms, 0);
    /** Polls status until pred holds (bounded). */
    const statusWhen = async (pred, what, limitMs = 30_000) => {
      const deadline = Date.now() + limitMs;
      for (;;) {
        const rule = await status();
        if (pred(rule)) return rule;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(rule)}`);
        await sleep(200);
      }
    };
    /**
     * Sleeps to a uniformly random phase of the probe cycle: the last round ended at
     * rule.last_round.at, the next starts interval later and lasts about as long as the
     * last one did. Returns the phase (ms after the last round's end, modulo the cycle).
     */
    const randomPhase = async (rule) => {
      const period = intervalMs + roundMs(rule);
      const phase = Math.random() * period;
      let at = rule.last_round.at + phase;
      while (at < Date.now() + 20) at += period;
      await sleep(at - Date.now());
      return phase;
    };

    const ways = {
      server: {
        cut: async () => {
          await isp.stop(2000);
        },
        restore: async () => {
          isp = await lib.startIsp(ispNode);
        },
      },
      link: {
        cut: () => ispNode.ip(['link', 'set', 'dev', 'eth-router', 'down']),
        restore: () => ispNode.ip(['link', 'set', 'dev', 'eth-router', 'up']),
      },
      route: {
        cut: () => routerNode.ip(['route', 'add', 'blackhole', `${lib.ISP4}/32`]),
        restore: () => routerNode.ip(['route', 'del', 'blackhole', `${lib.ISP4}/32`]),
      },
    };
    const waitSwitch = async (to, from, previous) => {
      await host.waitForLog(new RegExp(`dynapoint: rule internet switched to ${to}`), {
        from,
        timeoutMs: 3 * Math.max(boundOffline, boundOnline) + 15_000,
      });
      const seenAt = Date.now();
      const rule = await status();
      if (rule.state !== to || rule.switches !== previous.switches + 1)
        throw new Error(`expected one switch to ${to}, status says ${JSON.stringify(rule)}`);
      return { rule, seenAt };
    };

    // the first verdict: online once a round has answered
    let rule = await statusWhen((r) => r.state === 'online' && r.rounds >= 1 && r.last_round?.online, 'the rule online');

    // 1. the scripted outage
    const samples = [];
    log(`bench: host on ${engine}: ${cycles} outage cycles`);
    for (let c = 0; c < cycles; c++) {
      const way = cuts[c % cuts.length];
      const phaseCut = await randomPhase(rule);
      let mark = host.lines.length;
      let t0 = Date.now();
      await ways[way].cut();
      const tCut = Date.now();
      const cutCmdMs = tCut - t0;
      const off = await waitSwitch('offline', mark, rule);
      rule = off.rule;
      const offline = rule.since - tCut;
      const failedDetails = [...new Set(rule.last_round.results.map((r) => r.detail))];
      const failedRoundMs = roundMs(rule);

      const phaseRestore = await randomPhase(rule);
      mark = host.lines.length;
      t0 = Date.now();
      await ways[way].restore();
      const tRestore = Date.now();
      const restoreCmdMs = tRestore - t0;
      const on = await waitSwitch('online', mark, rule);
      rule = on.rule;
      const online = rule.since - tRestore;
      samples.push({
        way,
        offline,
        online,
        phaseCut,
        phaseRestore,
        cutCmdMs,
        restoreCmdMs,
        offlineLineLagMs: off.seenAt - off.rule.since,
        onlineLineLagMs: on.seenAt - rule.since,
        failedRoundMs,
        failedDetails,
      });
      log(
        `bench:   cycle ${c + 1}/${cycles} ${way}: offline after ${fmtS(offline)} (${failedDetails.join(', ')}), online after ${fmtS(online)}`,
      );
    }

    // 2. CPU per round
    const cpu = [];
    if (cpuRounds > 0) {
      /** Status, then a sleep to the middle of the gap after its last round: no round under way. */
      const gap = async () => {
        for (;;) {
          const r = await status();
          const mid = r.last_round.at + intervalMs / 2;
          if (Date.now() < mid - 20) {
            await sleep(mid - Date.now());
            return r;
          }
          await sleep(intervalMs / 2);
        }
      };
      const window = async (label, expectState) => {
        const first = await gap();
        const a = cpuSample(host.pid);
        const period = intervalMs + roundMs(first);
        await sleep((cpuRounds - 0.5) * period);
        const last = await gap();
        const b = cpuSample(host.pid);
        if (last.state !== expectState || last.switches !== first.switches)
          throw new Error(`${label}: the rule did not stay ${expectState}: ${JSON.stringify(last)}`);
        const rounds = last.rounds - first.rounds;
        const details = [...new Set(last.last_round.results.map((r) => r.detail))];
        const d = diff(a, b);
        log(`bench:   ${label}: ${rounds} rounds in ${fmtS(d.wallMs)}, ${fmtCpu(d.schedMs)} ms CPU`);
        return { label, rounds, details, roundMs: roundMs(last), ...d };
      };

      const setEnabled = async (on) => {
        fs.writeFileSync(
          path.join(host.configDir, 'dynapoint'),
          lib.dynapointConfig(on ? ruleOptions : { ...ruleOptions, enabled: '0' }, HOSTS),
        );
        const reload = await host.cli(['--socket', host.socket, 'reload']);
        if (reload.exitCode !== 0) throw new Error(`wrtkit reload: ${reload.stderr}`);
      };
      // the baseline: the rule disabled, over `wallMs`, with one status call near the end
      // as in the windows above
      const idleWindow = async (wallMs) => {
        await setEnabled(false);
        await statusWhen((r) => r.enabled === false, 'the rule disabled');
        await sleep(HOSTS.length * timeoutMs + 1000); // a round under way at the reload ends
        const a = cpuSample(host.pid);
        await sleep(wallMs - 1000);
        const idle = await status();
        if (idle.enabled !== false) throw new Error(`the rule is enabled again: ${JSON.stringify(idle)}`);
        await sleep(a.wallMs + wallMs - Number(process.hrtime.bigint()) / 1e6);
        const b = cpuSample(host.pid);
        const d = diff(a, b);
        log(`bench:   idle (rule disabled): ${fmtS(d.wallMs)}, ${fmtCpu(d.schedMs)} ms CPU`);
        await setEnabled(true);
        return { label: 'idle', rounds: 0, ...d };
      };

      log(
        `bench: host on ${engine}: CPU, ${cpuRepeats} × (${cpuRounds} online rounds, idle as long, ${cpuRounds} offline rounds per cut)`,
      );
      for (let repeat = 0; repeat < cpuRepeats; repeat++) {
        rule = await statusWhen((r) => r.enabled && r.state === 'online' && r.last_round?.online, 'the rule online');
        const online = { kind: 'online', repeat, ...(await window('online', 'online')) };
        cpu.push(online, { kind: 'idle', repeat, ...(await idleWindow(online.wallMs)) });
        rule = await statusWhen(
          (r) => r.enabled && r.state === 'online' && r.last_round?.online && r.last_round.at > Date.now() - intervalMs,
          'the rule probing again',
        );
        for (const way of cuts) {
          let mark = host.lines.length;
          await ways[way].cut();
          rule = (await waitSwitch('offline', mark, rule)).rule;
          cpu.push({ kind: 'offline', way, repeat, ...(await window(`offline, ${CUTS[way]}`, 'offline')) });
          rule = await status();
          mark = host.lines.length;
          await ways[way].restore();
          rule = (await waitSwitch('online', mark, rule)).rule;
        }
      }
    }
    return { comm, samples, cpu };
  } finally {
    await lab.destroy();
  }
}

// ---------------------------------------------------------------------------------------
// the report

const m0 = machine();
const results = [];
for (const engine of engines) results.push({ engine, version: engineVersion(engine), ...(await runEngine(engine)) });
const m1 = machine();

const pad = (s, n) => String(s).padStart(n);
const lines = [
  `dynapoint: detection latency over a scripted outage (${cycles} cycles), CPU per probe round`,
  `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}  ${m1.cpus} × ${m1.cpuModel}, ${m1.memMiB} MiB, kernel ${m1.kernel}`,
  `node ${m1.node}, load before ${m0.loadavg}, after ${m1.loadavg}`,
  `rule: interval ${interval} s, timeout ${timeout} s, offline_threshold ${offlineThreshold}, online_threshold ${onlineThreshold}, log_level ${logLevel}`,
  `hosts ${HOSTS.join(' ')}; cuts ${cutOption ? CUTS[cutOption] : `rotated: ${cuts.map((c) => CUTS[c]).join(', ')}`}`,
  `bounds: offline ≤ offline_threshold × (interval + hosts × timeout) = ${fmtS(boundOffline)}, ` +
    `online ≤ hosts × timeout + online_threshold × interval = ${fmtS(boundOnline)}`,
  `  naive: threshold × interval + timeout = ${fmtS(naiveOffline)} and ${fmtS(naiveOnline)} (the "over naive" column)`,
];
for (const { engine, version, comm, samples, cpu } of results) {
  const row = (label, values, bound, naive) => {
    const max = Math.max(...values);
    const over = values.filter((v) => v > bound);
    const overNaive = values.filter((v) => v > naive).length;
    return (
      `${label.padEnd(34)}${pad(fmtS(Math.min(...values)), 8)}${pad(fmtS(median(values)), 8)}${pad(fmtS(percentile(values, 90)), 8)}` +
      `${pad(fmtS(max), 8)}${pad(fmtS(bound), 8)}${pad((max / bound).toFixed(2), 10)}${pad(`${over.length}/${values.length}`, 7)}` +
      `${pad(`${overNaive}/${values.length}`, 12)}` +
      (over.length ? `  (by up to ${(Math.max(...over) - bound).toFixed(0)} ms)` : '')
    );
  };
  lines.push(
    '',
    `host on ${version} (pid = the ${comm} process itself)`,
    `${''.padEnd(34)}${pad('min', 8)}${pad('median', 8)}${pad('p90', 8)}${pad('max', 8)}${pad('bound', 8)}${pad('max/bound', 10)}${pad('over', 7)}${pad('over naive', 12)}`,
    row(
      'cut → switched to offline',
      samples.map((s) => s.offline),
      boundOffline,
      naiveOffline,
    ),
    row(
      'restored → switched to online',
      samples.map((s) => s.online),
      boundOnline,
      naiveOnline,
    ),
  );
  for (const way of cuts) {
    const of = samples.filter((s) => s.way === way);
    if (of.length === 0) continue;
    const details = [...new Set(of.flatMap((s) => s.failedDetails))].join(', ');
    lines.push(
      `  ${CUTS[way].padEnd(20)} ${of.length} × offline ${fmtS(Math.min(...of.map((s) => s.offline)))}–${fmtS(Math.max(...of.map((s) => s.offline)))}` +
        `, online ${fmtS(Math.min(...of.map((s) => s.online)))}–${fmtS(Math.max(...of.map((s) => s.online)))}` +
        `; a failed round ${fmtCpu(median(of.map((s) => s.failedRoundMs)))} ms (${details})`,
    );
  }
  const lag = samples.flatMap((s) => [s.offlineLineLagMs, s.onlineLineLagMs]);
  lines.push(`  switch → its log line seen here: median ${median(lag).toFixed(0)} ms, max ${Math.max(...lag).toFixed(0)} ms`);
  if (cpu.length > 0) {
    // per repeat: the idle rate of that repeat's baseline window
    const idleOf = new Map(cpu.filter((c) => c.kind === 'idle').map((c) => [c.repeat, c]));
    const aboveIdle = (c, field) => {
      const idle = idleOf.get(c.repeat);
      return (c[field] - (idle[field] / idle.wallMs) * c.wallMs) / c.rounds;
    };
    const sum = (list, field) => list.reduce((t, c) => t + c[field], 0);
    const range = (values) => `${fmtCpu(Math.min(...values))}–${fmtCpu(Math.max(...values))}`;
    lines.push(
      `CPU of the host process: schedstat (all threads) and utime+stime (${CLK_TCK} Hz ticks), ${cpuRepeats} interleaved repeats;`,
      "  ms/round = all windows' CPU ÷ their rounds; above idle = each window minus its repeat's idle rate × its wall time",
      `${''.padEnd(38)}${pad('rounds', 7)}${pad('wall', 9)}${pad('CPU ms', 9)}${pad('ms/round', 10)}${pad('above idle: median', 20)}${pad('range', 13)}${pad('ticks', 8)}`,
    );
    const idles = cpu.filter((c) => c.kind === 'idle');
    const idleRates = idles.map((c) => (c.schedMs / c.wallMs) * 1000);
    lines.push(
      `${'idle: rule disabled (baseline)'.padEnd(38)}${pad('—', 7)}${pad(fmtS(sum(idles, 'wallMs')), 9)}${pad(fmtCpu(sum(idles, 'schedMs')), 9)}` +
        `   ${fmtCpu((sum(idles, 'schedMs') / sum(idles, 'wallMs')) * 1000)} ms CPU/s (windows ${range(idleRates)}; ticks ${fmtCpu((sum(idles, 'ticksMs') / sum(idles, 'wallMs')) * 1000)})`,
    );
    const kinds = [
      ['online rounds (HTTP HEAD answered)', (c) => c.kind === 'online'],
      ...cuts.map((way) => [`offline, ${CUTS[way]}`, (c) => c.kind === 'offline' && c.way === way]),
    ];
    for (const [label, pick] of kinds) {
      const list = cpu.filter(pick);
      if (list.length === 0) continue;
      const above = list.map((c) => aboveIdle(c, 'schedMs'));
      const aboveTicks = median(list.map((c) => aboveIdle(c, 'ticksMs')));
      const children = sum(list, 'childrenMs');
      const last = list[list.length - 1];
      lines.push(
        `${label.padEnd(38)}${pad(sum(list, 'rounds'), 7)}${pad(fmtS(sum(list, 'wallMs')), 9)}${pad(fmtCpu(sum(list, 'schedMs')), 9)}` +
          `${pad(fmtCpu(sum(list, 'schedMs') / sum(list, 'rounds')), 10)}${pad(fmtCpu(median(above)), 20)}${pad(range(above), 13)}${pad(fmtCpu(aboveTicks), 8)}` +
          (children > 0 ? `  (+ children ${fmtCpu(children)} ms)` : '') +
          (last.kind === 'offline' ? `  [${last.details.join(', ')}; ${last.roundMs} ms/round]` : ''),
      );
    }
  }
}
console.log(lines.join('\n'));

fs.mkdirSync(benchDir, { recursive: true });
fs.writeFileSync(
  path.join(benchDir, 'dynapoint-detection.json'),
  `${JSON.stringify(
    {
      machine: { before: m0, after: m1 },
      settings: {
        cycles,
        cpuRounds,
        cpuRepeats,
        interval,
        timeout,
        offlineThreshold,
        onlineThreshold,
        logLevel,
        hosts: HOSTS,
        cuts,
      },
      bounds: { offlineMs: boundOffline, onlineMs: boundOnline, naiveOfflineMs: naiveOffline, naiveOnlineMs: naiveOnline },
      results,
    },
    null,
    2,
  )}\n`,
);
