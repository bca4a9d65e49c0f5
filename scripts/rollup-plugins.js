// The shared rollup setup lives in the SDK (sdk/build/rollup-plugins.mjs), which plugin
// authors get too; this module keeps the repository's scripts, tests and benches short.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export * from '../sdk/build/rollup-plugins.mjs';
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
