#!/usr/bin/env node
// mptcp: what the plugin gives a LAN's plain TCP over several shaped paths, as a fraction of
// what those paths carry alone, measured in the same run; and how long a transfer suffers
// when a path goes away and comes back. Figures, not tests.
//
// Lab (the bench's own namespaces, torn down at the end, on error and on Ctrl-C): the
// plugin's lab tests' topology (plugins/mptcp/test/lab/mptcp-lab.ts):
//
//   hostA ── lan routerA p1..pN ══ (tc tbf per path, both ends) ══ routerB lan ── hostB
//
// with the wrtkit host and the plugin on both routers (routerA client: ss-redir, subflow
// endpoints, policy routing; routerB server: ss-server), bundles built once, unminified,
// into .cache/mptcp-test/bench. Congestion control reno everywhere (see the lab module).
// Every figure is receiver-side goodput (iperf3's end.sum_received, or the receiver's
// intervals): through the proxy the sender only fills ss-redir's buffer.
//
// 1. Aggregation, one lab per scenario: 2x10 (10 + 10 Mbit/s), 10+5, 3x10, 10+10+5. Per
//    direction (A→B; B→A is iperf3 -R, still opened by hostA):
//    - each path alone: plain TCP router to router over that path, no proxy, no MPTCP
//      (pathBaseline), once per scenario and direction, shorter (--seconds / 2, at least
//      3 s, -O 1): the baseline of this run on this machine;
//    - the aggregate: iperf3 hostA → hostB (one stream, -t --seconds -O --omit) through the
//      plugin, --rounds times, the directions alternating (first direction rotating per
//      round, so drift on a shared machine spreads over both).
//    Reported: aggregate (median, min–max), the sum of the paths' own goodputs and the
//    aggregate as a fraction of it, the fraction of the nominal sum of the tbf rates, and
//    how the bytes split over the paths (routerA's interface counters over the run, from
//    `mptcp status`: data and ACKs and anything else on the path). Beside 2x10: the GSoC
//    2017 seed result, 10 + 10 → 20 Mbit/s on an out-of-tree MPTCP 0.92 kernel (4.4).
// 2. Failover, in the 2x10 lab: 26 s transfers (iperf3 -i 0.5), the path taken down (both
//    ends admin-down, routerA's first) at 8 s and back up at 16 s; cases p1 (the path of
//    the connection's first subflow and of the main routes) and p2 (a join), each in both
//    directions, every round. Per run:
//    - gap: from the down (when the command started) to the start of the first 0.5 s
//      interval from which the rate stays ≥ 80 % of the surviving path's own goodput for
//      2 s (or until the up), counting from the interval that starts nearest the down:
//      0.0 = no interval under it; otherwise the rate came back during the 0.5 s before
//      (resolution 0.5 s, an upper bound). "Stays", because the dip can come an interval
//      late: what the receiving proxy already holds in order still drains;
//    - outage: the mean rate from the down to the up (gap included), also × the surviving
//      path alone;
//    - back in use: from the up (when both ends were up) to the END of the first interval,
//      again from the one nearest the up, whose rate is ≥ 1.5 × the surviving path alone —
//      more than one path can carry: by then the path certainly carried data again (an
//      upper bound, resolution 0.5 s; the plugin re-adds the path's endpoint, see its README);
//    - survived: the transfer ended without an error (no reset).
//    Event times are counted from the iperf3 client's launch, interval times from its test
//    start: those differ by the connection setup through the proxy (not measured; a few
//    round trips in the lab, small against 0.5 s).
//
//   node bench/mptcp/aggregate.mjs [--rounds 2] [--seconds 8] [--omit 2] [--only <scenario>[,…]]
//
// --only: 2x10, 10+5, 3x10, 10+10+5 (aggregation) and failover (in the 2x10 lab).
// Progress goes to stderr, the summary to stdout; raw figures: .cache/bench/mptcp-aggregate.json.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { median, range } from '../lib/stats.mjs';
import { benchDir, fmtMbps, fmtPct, fmtS, header, loadMptcpLib, log, pad } from './lib.mjs';

const USAGE =
  'usage: node bench/mptcp/aggregate.mjs [--rounds 2] [--seconds 8] [--omit 2] [--only 2x10|10+5|3x10|10+10+5|failover[,…]]';
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const fail = (message) => {
  log(`bench: ${message}\n${USAGE}`);
  process.exit(2);
};

const SCENARIOS = [
  { name: '2x10', rates: [10, 10] },
  { name: '10+5', rates: [10, 5] },
  { name: '3x10', rates: [10, 10, 10] },
  { name: '10+10+5', rates: [10, 10, 5] },
];
const FAILOVER = {
  scenario: '2x10',
  seconds: 26,
  downS: 8,
  upS: 16,
  gapShare: 0.8,
  holdS: 2,
  backFactor: 1.5,
  intervalS: 0.5,
};
const GSOC = { mbps: 20, nominal: 20, what: 'out-of-tree MPTCP 0.92, Linux 4.4' };
const DIRS = [
  { name: 'A→B', reverse: false },
  { name: 'B→A', reverse: true },
];

const known = new Set(['rounds', 'seconds', 'omit', 'only']);
for (let i = 0; i < argv.length; i += 2) {
  if (!argv[i].startsWith('--') || !known.has(argv[i].slice(2)) || argv[i + 1] === undefined)
    fail(`unknown or incomplete option: ${argv[i]}`);
}
const rounds = Number(option('rounds', 2));
const seconds = Number(option('seconds', 8));
const omit = Number(option('omit', 2));
const only = option('only', undefined)?.split(',');
if (!Number.isInteger(rounds) || rounds < 1) fail('--rounds must be a whole number ≥ 1');
if (!Number.isInteger(seconds) || seconds < 2 || seconds > 60) fail('--seconds must be a whole number, 2..60');
if (!Number.isInteger(omit) || omit < 0 || omit > 10) fail('--omit must be a whole number, 0..10');
const NAMES = [...SCENARIOS.map((s) => s.name), 'failover'];
for (const name of only ?? []) if (!NAMES.includes(name)) fail(`--only: no scenario '${name}' (${NAMES.join(', ')})`);
const wanted = (name) => only === undefined || only.includes(name);
const baselineSeconds = Math.max(3, Math.ceil(seconds / 2));
const commandLine = ['node', 'bench/mptcp/aggregate.mjs', ...argv].join(' ');

function unavailable() {
  if (!existsSync('/proc/sys/net/mptcp/enabled')) return 'this kernel has no MPTCP';
  for (const program of ['ss-redir', 'ss-server', 'iperf3', 'nft', 'tc']) {
    if (!['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => existsSync(`${d}/${program}`)))
      return `${program} is not installed`;
  }
  return '';
}

// Ctrl-C and friends: the SDK lab's exit hook (armed with the first lab) kills everything in
// the lab's namespaces and deletes them when the process exits; a detached reaper does the
// same if this process is killed outright.
for (const [signal, code] of Object.entries({ SIGINT: 130, SIGTERM: 143, SIGHUP: 129 })) {
  process.on(signal, () => {
    log(`bench: ${signal}: tearing the lab down`);
    process.exit(code);
  });
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (error) => (error instanceof Error ? error.message : String(error)).split('\n')[0];

log('bench: bundling the lab into .cache/bench');
const lib = await loadMptcpLib();
const support = lib.labSupported();
const why = support.ok ? unavailable() : support.reason;
if (why) {
  log(`bench: cannot run: ${why}`);
  process.exit(1);
}
log('bench: building the host and the mptcp plugin into .cache/mptcp-test/bench');
const bundles = lib.buildMptcpBundles('bench');

const plan = SCENARIOS.filter((s) => wanted(s.name) || (s.name === FAILOVER.scenario && wanted('failover')));
const aggregateRuns = plan.filter((s) => wanted(s.name)).length * DIRS.length * rounds;
const failoverRuns = wanted('failover') ? 4 * rounds : 0;
log(
  `bench: ${plan.length} lab(s); ${aggregateRuns} aggregate runs of ${seconds} + ${omit} s, ` +
    `${failoverRuns} failover runs of ${FAILOVER.seconds} s, paths alone for ${baselineSeconds} + 1 s each`,
);

/** Results, also written to .cache/bench/mptcp-aggregate.json. */
const results = { command: commandLine, rounds, seconds, omit, baselineSeconds, scenarios: {}, failover: null, errors: [] };

const status = (host) => host.call('mptcp', 'status');

/** routerA's interface byte counters per path (tx: A→B data, rx: B→A data). */
async function pathBytes(host) {
  const s = await status(host);
  return s.paths.map((p) => ({ name: p.name, tx: p.tx_bytes ?? NaN, rx: p.rx_bytes ?? NaN }));
}

/** Waits until routerA's status shows every path up with its endpoint (after a failover case). */
async function pathsRestored(host, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const s = await status(host);
      if (s.applied && s.paths.every((p) => p.up && p.endpoint)) return true;
    } catch {
      // the host is busy re-applying: ask again
    }
    if (Date.now() > deadline) return false;
    await sleep(300);
  }
}

async function aggregation(lab, a, scenario, alone) {
  const runs = Object.fromEntries(DIRS.map((d) => [d.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < DIRS.length; k++) {
      const dir = DIRS[(k + r) % DIRS.length];
      try {
        const b0 = await pathBytes(a);
        const g = await lib.iperfGoodput(lab, { reverse: dir.reverse, seconds, omit });
        const b1 = await pathBytes(a);
        const bytes = b1.map((p, i) => (dir.reverse ? p.rx - b0[i].rx : p.tx - b0[i].tx));
        runs[dir.name].push({ mbps: g.mbps, retransmits: g.retransmits, bytes });
        const sum = alone[dir.name].reduce((x, y) => x + y, 0);
        log(
          `bench: [${scenario.name}] round ${r + 1}/${rounds} ${dir.name}: ${fmtMbps(g.mbps)} Mbit/s = ${fmtPct(g.mbps / sum)} of the paths alone, ` +
            `bytes per path ${split(bytes)} (${elapsed()})`,
        );
      } catch (error) {
        runs[dir.name].push({ mbps: NaN, error: message(error) });
        results.errors.push(`${scenario.name} ${dir.name} round ${r + 1}: ${message(error)}`);
        log(`bench: [${scenario.name}] round ${r + 1}/${rounds} ${dir.name}: FAILED: ${message(error)}`);
      }
    }
  }
  return runs;
}

/** Bytes per path as rounded percentages, "50 / 50". */
function split(bytes) {
  const total = bytes.reduce((x, y) => x + y, 0);
  if (!(total > 0)) return '–';
  return bytes.map((b) => `${Math.round((b / total) * 100)}`).join(' / ');
}

async function failover(lab, a, alone) {
  const cases = [];
  for (const n of [1, 2]) for (const dir of DIRS) cases.push({ path: n, dir, runs: [] });
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + r) % cases.length];
      const survivor = c.path === 1 ? 2 : 1;
      const single = alone[c.dir.name][survivor - 1];
      const label = `p${c.path} down ${c.dir.name}`;
      try {
        if (!(await pathsRestored(a))) throw new Error('the paths were not all up with their endpoints before the run');
        const t = await lib.transferTimeline(lab, {
          seconds: FAILOVER.seconds,
          reverse: c.dir.reverse,
          intervalS: FAILOVER.intervalS,
          events: [
            { atS: FAILOVER.downS, run: () => lib.pathDown(lab, c.path) },
            { atS: FAILOVER.upS, run: () => lib.pathUp(lab, c.path) },
          ],
        });
        const iv = t.intervals;
        const downS = t.events[0]?.startedS ?? FAILOVER.downS;
        const upS = t.events[1]?.doneS ?? FAILOVER.upS;
        const backAt = lib.firstTimeSustained(iv, downS, FAILOVER.gapShare * single, FAILOVER.holdS, upS);
        const inUseAt = lib.firstTimeSustained(iv, upS, FAILOVER.backFactor * single, 0);
        const run = {
          single,
          downS,
          upS,
          before: lib.meanMbps(iv, 3, downS),
          // not back before the path came up: no gap figure (counted apart)
          gap: backAt !== undefined ? Math.max(0, backAt - downS) : undefined,
          outage: lib.meanMbps(iv, downS, upS),
          back: inUseAt !== undefined ? (iv.find((i) => i.startS === inUseAt)?.endS ?? inUseAt) - upS : undefined,
          after: lib.meanMbps(iv, upS + 4, FAILOVER.seconds),
          survived: t.error === undefined,
          endS: iv.at(-1)?.endS ?? 0,
          ...(t.error !== undefined ? { error: t.error } : {}),
          intervals: iv.map((i) => Number(i.mbps.toFixed(2))),
        };
        c.runs.push(run);
        log(
          `bench: [failover] round ${r + 1}/${rounds} ${label}: before ${fmtMbps(run.before)}, gap ${run.gap === undefined ? `> ${fmtS(upS - downS)}` : fmtS(run.gap)} s, ` +
            `outage ${fmtMbps(run.outage)} Mbit/s, back in use ${run.back === undefined ? 'never' : `${fmtS(run.back)} s`} after up, ` +
            `${run.survived ? 'survived' : `FAILED at ${fmtS(run.endS)} s: ${run.error}`} (${elapsed()})`,
        );
        if (!run.survived) results.errors.push(`failover ${label} round ${r + 1}: ${run.error}`);
      } catch (error) {
        c.runs.push({ single, error: message(error), survived: false });
        results.errors.push(`failover ${label} round ${r + 1}: ${message(error)}`);
        log(`bench: [failover] round ${r + 1}/${rounds} ${label}: FAILED: ${message(error)}`);
        // whatever happened, leave the path up for the next case
        await lib.pathUp(lab, c.path).catch(() => {});
      }
    }
  }
  return cases;
}

for (const scenario of plan) {
  const t0 = Date.now();
  let lab;
  try {
    lab = await lib.createMptcpLab({ rates: scenario.rates.map((r) => `${r}mbit`) });
    const { a } = await lib.startRouters(lab, bundles);
    log(`bench: [${scenario.name}] lab ${lab.prefix}-*, routers ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    const alone = {};
    for (const dir of DIRS) {
      alone[dir.name] = [];
      for (let n = 1; n <= scenario.rates.length; n++) {
        const mbps = await lib.pathBaseline(lab, n, { reverse: dir.reverse, seconds: baselineSeconds, omit: 1 });
        alone[dir.name].push(mbps);
        log(`bench: [${scenario.name}] p${n} alone ${dir.name}: ${fmtMbps(mbps)} Mbit/s (nominal ${scenario.rates[n - 1]})`);
      }
    }
    const entry = { rates: scenario.rates, alone };
    results.scenarios[scenario.name] = entry;
    if (wanted(scenario.name)) entry.runs = await aggregation(lab, a, scenario, alone);
    if (scenario.name === FAILOVER.scenario && wanted('failover')) {
      results.failover = { alone, cases: await failover(lab, a, alone) };
    }
  } catch (error) {
    results.errors.push(`${scenario.name}: ${message(error)}`);
    log(`bench: [${scenario.name}] FAILED: ${error instanceof Error ? error.stack : String(error)}`);
  } finally {
    await lab?.destroy();
  }
}
const wallS = (Date.now() - started) / 1000;
mkdirSync(benchDir, { recursive: true });
writeFileSync(path.join(benchDir, 'mptcp-aggregate.json'), `${JSON.stringify({ ...results, wallS }, null, 1)}\n`);

// ---- report ----------------------------------------------------------------------------------

/** median (min–max) of the finite values, with how many were missing. */
function spread(values, fmt, missing = 'failed') {
  const ok = values.filter((v) => Number.isFinite(v));
  if (ok.length === 0) return values.length ? `${missing} ×${values.length}` : '–';
  const { min, max } = range(ok);
  const text = ok.length > 1 ? `${fmt(median(ok))} (${fmt(min)}–${fmt(max)})` : fmt(ok[0]);
  return ok.length < values.length ? `${text}, ${missing} ×${values.length - ok.length}` : text;
}

const out = [header(`mptcp: aggregation and failover through the plugin, two lab routers (${rounds} rounds)`)];
out.push(`command: ${commandLine}`);
out.push(`wall time: ${(wallS / 60).toFixed(1)} min`);

const aggregated = Object.entries(results.scenarios).filter(([, e]) => e.runs);
if (aggregated.length) {
  out.push('');
  out.push(
    `Aggregation: plain TCP hostA → hostB through the plugin, iperf3 one stream -t ${seconds} -O ${omit}, receiver-side Mbit/s, ` +
      `median (min–max) of ${rounds}; paths alone: plain TCP router to router over each path, -t ${baselineSeconds} -O 1, once`,
  );
  out.push(
    `  ${pad('scenario', 9, true)} ${pad('dir', 4, true)} ${pad('aggregate', 22, true)} ${pad('paths alone (sum)', 30, true)} ` +
      `${pad('× paths alone', 13)} ${pad('× nominal', 10)}  bytes per path %`,
  );
  for (const [name, e] of aggregated) {
    const nominal = e.rates.reduce((x, y) => x + y, 0);
    for (const dir of DIRS) {
      const runs = e.runs[dir.name];
      const v = runs.map((r) => r.mbps);
      const ok = v.filter(Number.isFinite);
      const m = ok.length ? median(ok) : NaN;
      const alone = e.alone[dir.name];
      const sum = alone.reduce((x, y) => x + y, 0);
      const bytes = runs.filter((r) => r.bytes).map((r) => r.bytes);
      const share = bytes.length ? e.rates.map((_, i) => median(bytes.map((b) => b[i] / b.reduce((x, y) => x + y, 0)))) : [];
      out.push(
        `  ${pad(name, 9, true)} ${pad(dir.name, 4, true)} ${pad(spread(v, fmtMbps), 22, true)} ` +
          `${pad(`${alone.map(fmtMbps).join(' + ')} (${fmtMbps(sum)})`, 30, true)} ${pad(fmtPct(m / sum), 13)} ` +
          `${pad(fmtPct(m / nominal), 10)}  ${share.length ? share.map((s) => Math.round(s * 100)).join(' / ') : '–'}`,
      );
    }
    if (name === '2x10')
      out.push(
        `  ${pad('', 14)} reference, GSoC 2017 seed: 10 + 10 → ${GSOC.mbps} Mbit/s = ${fmtPct(GSOC.mbps / GSOC.nominal)} of nominal (${GSOC.what})`,
      );
  }
  out.push(
    '  × paths alone: median aggregate / the sum of the paths alone (same lab, same run); × nominal: / the sum of the tbf rates.',
  );
  out.push("  bytes per path: routerA's interface counters on each path over the run, in the data's direction (median share).");
}

if (results.failover) {
  const f = results.failover;
  out.push('');
  out.push(
    `Failover, 2x10: iperf3 -t ${FAILOVER.seconds} hostA → hostB through the plugin, the path down at ${FAILOVER.downS} s and up at ${FAILOVER.upS} s; ` +
      `receiver-side ${FAILOVER.intervalS} s intervals; median (min–max) of ${rounds}`,
  );
  out.push(
    `  ${pad('case', 13, true)} ${pad('other alone', 11)} ${pad('before', 7)}  ${pad('gap s', 17, true)} ${pad('outage Mbit/s', 22, true)} ` +
      `${pad('× alone', 7)}  ${pad('back in use s', 18, true)} survived`,
  );
  for (const c of f.cases) {
    const single = c.runs[0]?.single ?? NaN;
    // runs that failed before giving a timeline count only under "survived" (and in the errors)
    const runs = c.runs.filter((r) => r.intervals);
    const outage = runs.map((r) => r.outage);
    const okOutage = outage.filter(Number.isFinite);
    out.push(
      `  ${pad(`p${c.path} ${c.dir.name}`, 13, true)} ${pad(fmtMbps(single), 11)} ${pad(fmtMbps(median(runs.map((r) => r.before).filter(Number.isFinite))), 7)}  ` +
        `${pad(
          spread(
            runs.map((r) => r.gap ?? NaN),
            fmtS,
            'not before up',
          ),
          17,
          true,
        )} ${pad(spread(outage, fmtMbps), 22, true)} ` +
        `${pad(okOutage.length ? fmtPct(median(okOutage) / single) : '–', 7)}  ${pad(
          spread(
            runs.map((r) => r.back ?? NaN),
            fmtS,
            'never',
          ),
          18,
          true,
        )} ` +
        `${c.runs.filter((r) => r.survived).length}/${c.runs.length}`,
    );
  }
  const I = FAILOVER.intervalS;
  for (const line of [
    'p1: the path of the first subflow and of the main routes; p2: a join. other alone: the surviving path alone, same',
    'direction (Mbit/s). before: mean from 3 s to the down. gap: from the down to the start of the first',
    `${I} s interval from which the rate stays ≥ ${FAILOVER.gapShare * 100} % of "other alone" for ${FAILOVER.holdS} s (or until the up), counted from the`,
    `interval starting nearest the down: 0.0 = no ${I} s interval under it, else an upper bound (resolution ${I} s).`,
    'outage: mean from down to up, gap included. back in use: from the up to the end of the first interval (from the',
    `one nearest the up) at ≥ ${FAILOVER.backFactor} × "other alone": an upper bound (resolution ${I} s). survived: transfers that ended`,
    'without an error (no reset).',
  ])
    out.push(`  ${line}`);
}

if (results.errors.length) {
  out.push('');
  out.push('errors:');
  for (const e of results.errors) out.push(`  ${e}`);
}
console.log(out.join('\n'));
process.exitCode = results.errors.length ? 1 : 0;
