import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { loadPlatform } from '../../src/platform/detect.js';
import { platformCheckNames, runPlatformConformance, type CheckResult } from './conformance.js';

describe('Platform conformance on Node.js', () => {
  let tmpDir: string;
  let results: CheckResult[];

  beforeAll(async () => {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-conformance-node-'));
    results = await runPlatformConformance(await createNodePlatform([]), tmpDir);
  }, 60_000);

  afterAll(() => {
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  });

  it('loadPlatform() picks the Node platform', async () => {
    expect((await loadPlatform()).engine).toBe('node');
  });

  it.each(platformCheckNames())('%s', (name) => {
    const result = results.find((r) => r.name === name);
    expect(result, `check "${name}" did not run`).toBeDefined();
    expect(result?.ok, result?.error).toBe(true);
  });
});
