import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/platform/platform.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { runFixtureCase, type FixtureCase } from './run-fixture.js';

const casesDir = path.join(import.meta.dirname, '../fixtures/uci/cases');
const cases = fs
  .readdirSync(casesDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(fs.readFileSync(path.join(casesDir, f), 'utf8')) as FixtureCase);

describe('uci CLI emulation reproduces the real uci (fixtures/uci)', () => {
  let platform: Platform;
  let tmp: string;

  beforeAll(async () => {
    platform = await createNodePlatform([]);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-uci-fixtures-'));
  });

  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('has all 19 cases', () => {
    expect(cases).toHaveLength(19);
  });

  for (const fixture of cases) {
    it(`${fixture.case}`, async () => {
      const root = path.join(tmp, fixture.case);
      const mismatches = await runFixtureCase(fixture, platform.fs, root);
      expect(mismatches).toEqual([]);
    });
  }
});
