// Hook call overhead: runs the bundled bench/hook-overhead.ts on each engine (it prints
// one JSON object) and collects the results. The engines run one after the other, never
// side by side: with 2 cores, a second engine would be the noise.
import { spawnSync } from 'node:child_process';
import { engineArgv } from './engines.mjs';

export function benchHooks({ engines, ks, fixtures, targetMs, rounds }) {
  const out = {};
  for (const engine of engines) {
    const args = ['--ks', ks.join(','), '--target-ms', String(targetMs), '--rounds', String(rounds)];
    const [cmd, ...argv] = engineArgv(engine, fixtures.hookBench, args);
    const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`hook bench on ${engine} failed (${r.status ?? r.signal}):\n${r.stderr}`);
    out[engine] = JSON.parse(r.stdout);
  }
  return out;
}
