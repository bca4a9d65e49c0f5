/**
 * `make demo` keeps working: the demo script (a lab virtual router as root, a directory
 * otherwise) runs to its summary with every line ticked and leaves nothing behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../helpers/engines.js';

it('runs the demo to a summary with every check passing', () => {
  // what `make demo` builds: the host and every plugin, into build/
  execFileSync(process.execPath, [join(repoRoot, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
  const run = spawnSync(process.execPath, [join(repoRoot, 'scripts/demo.mjs')], { encoding: 'utf8', timeout: 300_000 });
  const out = run.stdout + run.stderr;
  expect(out, out).toMatch(/demo done\./);
  expect(run.status).toBe(0);
  if (out.includes('Summary')) {
    const summary = out.slice(out.indexOf('Summary'));
    expect(summary).not.toContain('✗');
    expect(summary).toContain('the lab is gone');
  }
}, 360_000);
