#!/usr/bin/env node
// wrtkit benchmarks: boot time, hook call overhead, RSS after boot, bundle sizes, and ubus
// (blobmsg against JSON, call round trips through our broker), on Node.js and QuickJS,
// each figure next to a baseline measured in the same run (the machines this runs on are
// noisy; only same-run ratios compare). Figures, not tests: nothing here passes or fails
// on speed. See docs/performance.md.
//
//   node bench/run.mjs [--runs 15] [--engines node,qjs] [--hook-rounds 9] [--hook-target-ms 25]
//                      [--ubus-rounds 5] [--ubus-target-ms 300] [--parts boot,hooks,ubus]
//
// `make bench` runs this after `make build`; it builds what it measures itself, into
// .cache/bench, and writes the raw figures to .cache/bench/last.json.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchBoot } from './lib/boot.mjs';
import { availableEngines, qjsPath } from './lib/engines.mjs';
import { benchDir, buildFixtures, sizeOf } from './lib/fixtures.mjs';
import { benchHooks } from './lib/hooks.mjs';
import { formatReport } from './lib/report.mjs';
import { benchUbus, buildUbusBench } from './lib/ubus.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const runs = Number(option('runs', 15));
const hookRounds = Number(option('hook-rounds', 9));
const hookTargetMs = Number(option('hook-target-ms', 25));
const ubusRounds = Number(option('ubus-rounds', 5));
const ubusTargetMs = Number(option('ubus-target-ms', 300));
const parts = option('parts', 'boot,hooks,ubus').split(',');
const engines = availableEngines().filter((e) => option('engines', 'node,qjs').split(',').includes(e));
const PLUGIN_COUNTS = [0, 1, 10, 50];
const HOOK_TAPS = [1, 10, 50];

const log = (text) => process.stderr.write(`${text}\n`);

function qjsVersion() {
  try {
    // qjs has no --version; its help starts with "QuickJS version 2025-04-26".
    const text = execFileSync(qjsPath(), ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /QuickJS version (\S+)/.exec(text)?.[1];
  } catch (error) {
    return /QuickJS version (\S+)/.exec(String(error.stdout ?? ''))?.[1];
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown cpu',
    kernel: os.release(),
    node: process.version,
    qjs: engines.includes('qjs') ? qjsVersion() : undefined,
    loadavg: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    memMiB: Math.round(os.totalmem() / 2 ** 20),
  };
}

const started = performance.now();
const result = {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  machine: machine(),
  settings: {
    runs,
    engines,
    parts,
    pluginCounts: PLUGIN_COUNTS,
    hookTaps: HOOK_TAPS,
    hookRounds,
    hookTargetMs,
    ubusRounds,
    ubusTargetMs,
  },
  jsonPath: path.relative(process.cwd(), path.join(benchDir, 'last.json')) || path.join(benchDir, 'last.json'),
};

log('bench: building the host, the synthetic plugin and the hook bench into .cache/bench');
const fixtures = await buildFixtures(PLUGIN_COUNTS);
result.buildMs = fixtures.buildMs;

result.sizes = [
  { name: 'host wrtkit.js', file: fixtures.host, ...sizeOf(fixtures.host) },
  { name: 'plugin heartbeat (example)', file: fixtures.heartbeat, ...sizeOf(fixtures.heartbeat) },
  { name: 'plugin synthetic (bench)', file: fixtures.synthetic, ...sizeOf(fixtures.synthetic) },
].map((s) => ({ ...s, file: path.relative(process.cwd(), s.file) }));

// Hooks first: they run in one process per engine and are over in seconds, before the
// boot rounds have filled the page cache and the scheduler with short-lived processes.
if (parts.includes('hooks')) {
  log(`bench: hook call overhead (K = ${HOOK_TAPS.join(', ')}) on ${engines.join(', ')}`);
  result.hooks = benchHooks({ engines, ks: HOOK_TAPS, fixtures, targetMs: hookTargetMs, rounds: hookRounds });
}

// ubus next, for the same reason: a few processes for a few seconds each, one at a time.
if (parts.includes('ubus')) {
  const bench = await buildUbusBench();
  result.ubus = await benchUbus({
    engines,
    bench,
    codecTargetMs: hookTargetMs,
    codecRounds: hookRounds,
    callTargetMs: ubusTargetMs,
    callRounds: ubusRounds,
    log,
  });
}

if (parts.includes('boot')) {
  log(`bench: boot and RSS, ${runs} interleaved rounds on ${engines.join(', ')}`);
  result.boot = await benchBoot({ engines, counts: PLUGIN_COUNTS, runs, fixtures, log });
}

result.totalMs = performance.now() - started;
fs.mkdirSync(benchDir, { recursive: true });
fs.writeFileSync(path.join(benchDir, 'last.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(formatReport(result));
