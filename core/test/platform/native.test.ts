import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, repoRoot } from '../../../scripts/rollup-plugins.js';
import { qjsPath } from '../helpers/engines.js';
import { buildNative } from './native-build.js';

interface Result {
  name: string;
  ok: boolean;
  error?: string;
}

/** The C module's own contract, exercised on qjs without the platform on top (native-entry.ts). */
describe('core/native (wrtkit-native.so) on qjs', () => {
  let so: string;
  let tmpDir: string;
  let results: Result[] = [];
  let output = '';

  beforeAll(async () => {
    so = buildNative();
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-native-'));
    const out = path.join(repoRoot, '.cache/test-bundles/native-entry.mjs');
    await bundle(path.join(repoRoot, 'core/test/platform/native-entry.ts'), out);
    const r = spawnSync(qjsPath(), [out, so, tmpDir], { encoding: 'utf8', timeout: 30_000 });
    output = `exit ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`;
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      results = (JSON.parse(line) as { results: Result[] }).results;
    } catch {
      results = [];
    }
  }, 120_000);

  afterAll(() => {
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  });

  it('loads into Debian trixie qjs and runs every check', () => {
    expect(results.length, output).toBeGreaterThanOrEqual(9);
  });

  it('error paths and contract hold', () => {
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('exports only js_init_module', () => {
    const nm = spawnSync('nm', ['--version']);
    if (nm.status !== 0) return; // binutils absent: nothing to inspect with
    const defined = execFileSync('nm', ['-D', '--defined-only', so], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length === 3 && /[A-Z]/.test(f[1] as string) && f[1] !== 'U')
      .map((f) => f[2]);
    expect(defined).toEqual(['js_init_module']);
  });
});
