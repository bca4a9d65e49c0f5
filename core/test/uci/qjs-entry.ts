/**
 * Bundled by uci/qjs.test.ts and run under QuickJS: every case of fixtures/uci through the
 * UCI library on the qjs platform (the engine routers run), printing one JSON line.
 * Usage: qjs <bundle> <fixtures/uci/cases dir> <empty temp dir>
 */
import { loadPlatform } from '../../src/platform/detect.js';
import { type FixtureCase, runFixtureCase } from './run-fixture.js';

// An async main, not top-level await (see core/src/main.ts for why).
async function main(): Promise<void> {
  const platform = await loadPlatform();
  const [casesDir, tmpDir] = platform.args as [string, string];
  const results: Array<{ case: string; steps: number; mismatches: unknown[] }> = [];
  for (const entry of platform.fs.list(casesDir)) {
    if (!entry.name.endsWith('.json')) continue;
    const fixture = JSON.parse(platform.fs.readText(`${casesDir}/${entry.name}`)) as FixtureCase;
    const root = `${tmpDir}/${entry.name.replace(/\.json$/, '')}`;
    results.push({ case: entry.name, steps: fixture.steps.length, mismatches: await runFixtureCase(fixture, platform.fs, root) });
  }
  platform.stdio.writeStdout(`${JSON.stringify({ engine: platform.engine, results })}\n`);
  platform.exit(0);
}

void main();
