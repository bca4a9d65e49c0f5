/**
 * The build manifest (`manifest.json` in the output): the SHA-256 of every input — the
 * site file, the repository's sources that went into the build, the tools' versions — and
 * of every output file. Two builds with the same inputs must give the same manifest; a
 * difference in the inputs says why two outputs differ.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface Manifest {
  format: 1;
  source_date_epoch: number;
  tools: Record<string, string>;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

export const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/** Every file below `dir` (sorted, `/`-separated paths relative to `base`), skipping the names in `skip`. */
export function listFiles(dir: string, base: string, skip: ReadonlySet<string> = SKIP): string[] {
  if (!existsSync(dir)) return [];
  if (statSync(dir).isFile()) return [relative(base, dir).split(sep).join('/')];
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (skip.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...listFiles(path, base, skip));
    else found.push(relative(base, path).split(sep).join('/'));
  }
  return found;
}

/** What is never an input: dependencies, caches, tests and build output. */
const SKIP = new Set(['node_modules', '.cache', 'test', 'build', 'dist', 'generated-test']);

/** SHA-256 of each file (path → hex), the paths relative to `base`. */
export function hashFiles(base: string, paths: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of [...paths].sort()) out[p] = sha256(readFileSync(join(base, p)));
  return out;
}

export function manifestText(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}
