import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle } from '../../../scripts/rollup-plugins.js';
import { qjsPath, repoRoot } from '../helpers/engines.js';

describe('UCI fixtures on QuickJS', () => {
  it('reproduces every case of the real uci on the router engine', async () => {
    const out = join(repoRoot, '.cache/test-bundles/uci-fixtures.js');
    await bundle(join(repoRoot, 'core/test/uci/qjs-entry.ts'), out, { minify: true });
    const tmp = mkdtempSync(join(tmpdir(), 'wrtkit-uci-qjs-'));
    try {
      const stdout = execFileSync(
        qjsPath(),
        ['--no-unhandled-rejection', out, join(repoRoot, 'core/test/fixtures/uci/cases'), tmp],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      const report = JSON.parse(stdout) as {
        engine: string;
        results: Array<{ case: string; steps: number; mismatches: unknown[] }>;
      };
      expect(report.engine).toBe('qjs');
      expect(report.results).toHaveLength(19);
      expect(report.results.reduce((n, r) => n + r.steps, 0)).toBeGreaterThan(150);
      expect(report.results.filter((r) => r.mismatches.length > 0)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
