// Shared by bench/mptcp/*.mjs: bundles the mptcp plugin's lab module (bench/mptcp/entry.ts)
// fresh into .cache/bench, so the bench runs this checkout's lab; formatting helpers.
// Figures, not tests: nothing here passes or fails on speed.
import path from 'node:path';
import { benchDir, repoRoot } from '../pirania/lib.mjs';
import { bundleAndImport } from '../lib/bundle.mjs';

export { benchDir, header, log, repoRoot } from '../pirania/lib.mjs';

/** The lab module and the SDK lab check (bench/mptcp/entry.ts), bundled fresh and imported. */
export async function loadMptcpLib() {
  return bundleAndImport(path.join(repoRoot, 'bench/mptcp/entry.ts'), path.join(benchDir, 'mptcp-lib.mjs'), {
    define: { 'import.meta.dirname': JSON.stringify(path.join(repoRoot, 'plugins/mptcp/test/lab')) },
  });
}

/** Mbit/s with two decimals under 100. */
export const fmtMbps = (v) => (Number.isFinite(v) ? v.toFixed(v >= 100 ? 1 : 2) : '–');
/** A fraction as a percentage with one decimal. */
export const fmtPct = (f) => (Number.isFinite(f) ? `${(f * 100).toFixed(1)} %` : '–');
/** Seconds with one decimal (the timelines have 0.5 s intervals). */
export const fmtS = (s) => (Number.isFinite(s) ? s.toFixed(1) : '–');
/** Right-aligned (or left-aligned) to n characters. */
export const pad = (s, n, left = false) => (left ? String(s).padEnd(n) : String(s).padStart(n));
