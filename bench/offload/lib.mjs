// Shared by bench/offload/*.mjs: builds the datapath, the baseline programs and the bench
// harness (bench/offload/testrun.c), and bundles the frame/flow helpers of the datapath
// tests. Figures, not tests: nothing here passes or fails on speed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { benchDir, repoRoot } from '../pirania/lib.mjs';

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
  const outfile = path.join(outDir, 'datapath-lib.mjs');
  await build({
    entryPoints: [path.join(repoRoot, 'bench/offload/entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  return import(pathToFileURL(outfile).href);
}

export const fmtNs = (ns) => (ns >= 100 ? `${ns.toFixed(0)} ns` : `${ns.toFixed(1)} ns`);
export const fmtRatio = (r) => (r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`);

/** The p-th percentile (0..1), nearest rank. */
export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] : NaN;
}
