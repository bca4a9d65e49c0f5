// Shared by bench/offload/*.mjs: builds the datapath, the baseline programs and the bench
// harness (bench/offload/testrun.c), and bundles the frame/flow helpers of the datapath
// tests; for setup.mjs and throughput.mjs also builds and starts offloadd and reads the
// machine's CPU time. Figures, not tests: nothing here passes or fails on speed.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchDir, repoRoot } from '../pirania/lib.mjs';
import { bundleAndImport } from '../lib/bundle.mjs';

export { header, log, machine, repoRoot } from '../pirania/lib.mjs';

export const outDir = path.join(benchDir, 'offload');
const HOST_ENDIAN = os.endianness() === 'LE' ? 'bpfel' : 'bpfeb';
export const OFFLOAD_OBJECT = path.join(repoRoot, `.cache/ebpf/offload/offload.${HOST_ENDIAN}.o`);
export const PASS_OBJECT = path.join(outDir, 'pass.bpf.o');
export const HARNESS = path.join(outDir, 'testrun');

/** Why this machine cannot run the bench, or ''. */
export function unavailable() {
  if (process.platform !== 'linux') return 'BPF needs Linux';
  if (process.getuid?.() !== 0) return 'loading BPF programs needs root';
  if (!fs.existsSync('/proc/sys/kernel/unprivileged_bpf_disabled')) return 'this kernel has no bpf() syscall';
  return '';
}

const run = (argv) => execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });

/** make -C ebpf/offload, then pass.bpf.o (clang -O2 -target bpf) and the harness (gcc + libbpf). */
export function buildAll() {
  fs.mkdirSync(outDir, { recursive: true });
  run(['make', '-s', '-C', path.join(repoRoot, 'ebpf/offload'), 'all']);
  const multiarch = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
  run([
    'clang',
    '-O2',
    '-g',
    '-target',
    HOST_ENDIAN,
    '-Wall',
    '-Werror',
    ...(multiarch ? ['-idirafter', `/usr/include/${multiarch}`] : []),
    '-c',
    path.join(repoRoot, 'bench/offload/pass.bpf.c'),
    '-o',
    PASS_OBJECT,
  ]);
  run([
    'gcc',
    '-O2',
    '-g',
    '-std=gnu11',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-o',
    HARNESS,
    path.join(repoRoot, 'bench/offload/testrun.c'),
    '-lbpf',
  ]);
}

/** The frame and flow helpers of plugins/offload/test/datapath, bundled fresh (bench/offload/entry.ts). */
export async function loadDatapathLib() {
  return bundleAndImport(path.join(repoRoot, 'bench/offload/entry.ts'), path.join(outDir, 'datapath-lib.mjs'));
}

export const fmtNs = (ns) => (ns >= 100 ? `${ns.toFixed(0)} ns` : `${ns.toFixed(1)} ns`);
export const fmtRatio = (r) => (r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`);

/** The p-th percentile (0..1), nearest rank. */
export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] : NaN;
}

// ---- offloadd in a lab router (bench/offload/setup.mjs, throughput.mjs) -----------------

export const OFFLOADD = path.join(repoRoot, '.cache/native/offloadd/offloadd');

/** make -C ebpf/offload all, make -C native/offloadd (the daemon the plugin runs). */
export function buildDaemon() {
  fs.mkdirSync(outDir, { recursive: true });
  run(['make', '-s', '-C', path.join(repoRoot, 'ebpf/offload'), 'all']);
  run(['make', '-s', '-C', path.join(repoRoot, 'native/offloadd'), `BUILD_DIR=${path.dirname(OFFLOADD)}`]);
}

/**
 * Starts offloadd in a lab node with the plugin's argv (default log level: info, one line
 * per event) and its pins under pinDir (on a bpffs of the bench's own), and connects a
 * control client (dp: the bundle of loadDatapathLib, for its Control class). Every stderr
 * line is kept as { ns, text }: ns is process.hrtime.bigint() (CLOCK_MONOTONIC, the clock
 * of every process on the machine) when the line reached this process.
 */
export async function startOffloadd(dp, node, { dir, pinDir, args = [] }) {
  const socket = path.join(dir, 'offloadd.sock');
  const argv = [OFFLOADD, '--control', socket, '--object', OFFLOAD_OBJECT, '--pin-dir', pinDir, ...args];
  const child = spawn('ip', ['netns', 'exec', node.netns, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = [];
  let partial = '';
  let wake = () => {};
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    const ns = process.hrtime.bigint();
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop();
    for (const text of parts) lines.push({ ns, text });
    wake();
  });
  let status;
  const exited = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      status = { code, signal };
      resolve(status);
      wake();
    }),
  );
  const deadline = Date.now() + 15_000;
  while (!lines.some((l) => /info offloadd: ready/.test(l.text))) {
    if (status || Date.now() > deadline)
      throw new Error(
        `offloadd did not start (${status ? `exit ${status.code ?? status.signal}` : 'timeout'}):\n${lines.map((l) => l.text).join('\n')}`,
      );
    await new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, 100);
    });
  }
  const control = await dp.Control.connect(socket);
  return {
    pid: child.pid,
    lines,
    control,
    exited,
    status: () => control.ok('status'),
    flows: () => control.ok('flows').then((r) => r.flows),
    /** SIGTERM (detach, unpin), SIGKILL after 5 s; the exit status. */
    async stop() {
      control.close();
      if (status) return status;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * The machine's CPU time so far, from the first line of /proc/stat, in core-seconds
 * (resolution 1/CLK_TCK per core): busy = user + nice + system + irq + softirq (guest is
 * inside user), idle = idle + iowait, steal; `at`: process.hrtime.bigint() of the read.
 */
export function cpuTimes() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return {
    busy: (user + nice + system + irq + softirq) / CLK_TCK,
    idle: (idle + iowait) / CLK_TCK,
    steal: steal / CLK_TCK,
    at: process.hrtime.bigint(),
  };
}

/**
 * Busy core-seconds between two cpuTimes(), two ways. `ticks`: the busy fields' growth —
 * on a kernel with tick-based accounting (CONFIG_TICK_CPU_ACCOUNTING) these are samples
 * at each timer tick of whatever ran then, so work done in short bursts between ticks
 * (a CPU that wakes from NOHZ idle, works, sleeps again) goes unseen. `nonIdle`: wall time
 * × CPUs − idle − steal, where idle (NOHZ) is measured with the clock at each idle entry
 * and exit: what the CPUs did not spend idle, burst-proof.
 */
export function cpuBusy(c0, c1) {
  const wall = Number(c1.at - c0.at) / 1e9;
  return {
    ticks: c1.busy - c0.busy,
    nonIdle: Math.max(0, wall * os.cpus().length - (c1.idle - c0.idle) - (c1.steal - c0.steal)),
    wall,
  };
}

/**
 * Calls fn (synchronous: unmount, kill) on SIGINT / SIGTERM / SIGHUP and exits 130 / 143 /
 * 129; a lab made after this is torn down by its own exit hook as the process exits.
 */
export function onInterrupt(fn) {
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  for (const [signal, code] of Object.entries(codes)) {
    process.on(signal, () => {
      process.stderr.write(`bench: ${signal}: cleaning up\n`);
      try {
        fn();
      } finally {
        process.exit(code);
      }
    });
  }
}

export const fmtMs = (ms) => (ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`);
