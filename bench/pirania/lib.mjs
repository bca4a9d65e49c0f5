// Shared by bench/pirania/*.mjs: builds what they measure, machine header, MAC lists, a
// timing runner that lives inside a lab namespace. Figures, not tests: nothing here
// passes or fails on speed.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleAndImport } from '../lib/bundle.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const benchDir = path.join(repoRoot, '.cache/bench');

export const log = (text) => process.stderr.write(`${text}\n`);

/**
 * Bundles bench/pirania/entry.ts (the generator from plugins/pirania-nftables/src/nft and
 * the lab from sdk/src/lab) into .cache/bench and imports it. A fresh build every run, like
 * bench/run.mjs: the bench measures this checkout.
 */
export async function loadBenchLib() {
  return bundleAndImport(path.join(repoRoot, 'bench/pirania/entry.ts'), path.join(benchDir, 'pirania-lib.mjs'));
}

/** Exits with the reason when labs cannot run here (not root, no nft, no iperf3 …). */
export function requireLab(lib, programs) {
  const support = lib.labSupported();
  const missing = programs.filter((p) => {
    try {
      execFileSync(p, ['--version'], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  const reason = !support.ok ? support.reason : missing.length ? `needs ${missing.join(', ')}` : '';
  if (reason) {
    log(`bench: cannot run: ${reason}`);
    process.exit(1);
  }
}

function versionOf(argv, pattern) {
  try {
    const text = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return pattern.exec(text)?.[1] ?? text.trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown cpu',
    kernel: os.release(),
    node: process.version,
    nft: versionOf(['nft', '--version'], /nftables (v\S+)/),
    iperf3: versionOf(['iperf3', '--version'], /iperf (\S+)/),
    loadavg: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    memMiB: Math.round(os.totalmem() / 2 ** 20),
  };
}

export function header(title, m = machine()) {
  return [
    title,
    `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}  ${m.cpus} × ${m.cpuModel}, ${m.memMiB} MiB, kernel ${m.kernel}`,
    `node ${m.node}, nft ${m.nft ?? '?'}${m.iperf3 ? `, iperf3 ${m.iperf3}` : ''}, load ${m.loadavg}`,
  ].join('\n');
}

/** n distinct locally administered MACs (02:…), deterministic. */
export function macs(n, offset = 0) {
  const hex = (v) => v.toString(16).padStart(2, '0');
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    return `02:be:${hex((i >> 24) & 255)}:${hex((i >> 16) & 255)}:${hex((i >> 8) & 255)}:${hex(i & 255)}`;
  });
}

export const authorizations = (list, expiresAt) =>
  list.map((mac, i) => ({ mac, voucherId: `b${i}`, unrestricted: false, ...(expiresAt !== undefined ? { expiresAt } : {}) }));

/**
 * Runs a list of jobs inside a lab node with ONE `ip netns exec` (so namespace entry is
 * not part of any figure) and returns the time of every run in ms. A job: `{ name, argv,
 * input?, times? }`; its runs are `times` (default 1) executions of argv with input on
 * stdin. Stops at the first failure.
 */
const RUNNER = `
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const jobs = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
const out = {};
for (const job of jobs) {
  const input = job.input === undefined ? undefined : fs.readFileSync(job.input, 'utf8');
  const argvs = job.argvs || Array.from({ length: job.times || 1 }, () => job.argv);
  const ms = [];
  for (const argv of argvs) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) {
      process.stderr.write(job.name + ': ' + argv.join(' ').slice(0, 200) + ' failed (' + (r.status ?? r.signal) + '): ' + String(r.stderr) + '\\n');
      process.exit(1);
    }
  }
  (out[job.name] ||= []).push(...ms);
}
process.stdout.write(JSON.stringify(out));
`;

export async function runJobs(node, jobsFile) {
  const r = await node.run([process.execPath, '-e', RUNNER, jobsFile], { timeoutMs: 30 * 60_000 });
  if (r.exitCode !== 0) throw new Error(`bench runner in ${node.name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export const fmtMs = (ms) =>
  ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
export const fmtRatio = (r) => (r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`);
