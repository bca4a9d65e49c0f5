import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/engines.js';

// The bundles must run on QuickJS: the lint rule that keeps Node out of runtime code is
// part of the build (`make check`), so prove it fires where it should and only there.
describe('portability lint rule', () => {
  const eslint = new ESLint({ cwd: repoRoot });
  const lint = async (filePath: string, code: string) =>
    (await eslint.lintText(code, { filePath: `${repoRoot}/${filePath}` }))[0]?.messages.map((m) => m.ruleId) ?? [];

  it('rejects Node built-ins and Node globals in core, plugins and examples', async () => {
    const code =
      "import { readFileSync } from 'node:fs';\nimport path from 'path';\nexport const x = [readFileSync, path, process.pid, Buffer.from('a')];\n";
    for (const file of ['core/src/x.ts', 'plugins/demo/src/x.ts', 'examples/plugins/heartbeat/src/x.ts']) {
      const rules = await lint(file, code);
      expect(rules.filter((r) => r === 'no-restricted-imports').length).toBeGreaterThanOrEqual(2);
      expect(rules.filter((r) => r === 'no-restricted-globals')).toHaveLength(2);
    }
    expect(await lint('core/src/x.ts', 'export const t = setTimeout;\n')).toEqual(['no-restricted-globals']);
  });

  it('allows them in the Node platform, tests and scripts', async () => {
    const code = "import { readFileSync } from 'node:fs';\nexport const x = [readFileSync, process.pid];\n";
    for (const file of ['core/src/platform/node/x.ts', 'core/test/x.test.ts', 'bench/x.ts'])
      expect(await lint(file, code)).toEqual([]);
  });
});
