import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/platform/platform.js';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { UciContext, diffPackages, exportUci, parseUci, type UciPackage } from '../../src/uci/index.js';
import { applyEdits, editArb, packageArb, snapshot } from './arbitraries.js';

const RUNS = Number(process.env.UCI_PROPERTY_RUNS ?? 200);

describe('parseUci(exportUci(p)) is p', () => {
  it('in export format (with the package line)', () => {
    fc.assert(
      fc.property(packageArb(), (p) => {
        const text = exportUci(p);
        expect(snapshot(parseUci(text, { name: p.name }).package)).toEqual(snapshot(p));
        // The package line alone names it, too.
        expect(snapshot(parseUci(text).package)).toEqual(snapshot(p));
      }),
      { numRuns: RUNS },
    );
  });

  it('in commit format (the config file)', () => {
    fc.assert(
      fc.property(packageArb(), (p) => {
        const parsed = parseUci(exportUci(p, { mode: 'commit' }), { name: p.name });
        expect(parsed.errors).toEqual([]);
        expect(snapshot(parsed.package)).toEqual(snapshot(p));
        expect(parsed.package.sectionCount).toBe(p.sectionCount);
      }),
      { numRuns: RUNS },
    );
  });

  it('with generated names written out (uci -n): same sections, all named', () => {
    fc.assert(
      fc.property(packageArb(), (p) => {
        const parsed = parseUci(exportUci(p, { mode: 'commit', nameAnonymous: true }), { name: p.name }).package;
        const named = p.clone();
        for (const s of named.sections) s.anonymous = false;
        expect(snapshot(parsed)).toEqual(snapshot(named));
      }),
      { numRuns: RUNS },
    );
  });

  it('non-strict parsing of exported text reports no errors', () => {
    fc.assert(
      fc.property(packageArb(), (p) => {
        expect(parseUci(exportUci(p), { name: p.name, strict: false }).errors).toEqual([]);
      }),
      { numRuns: 50 },
    );
  });
});

describe('diffPackages: staged through a UciContext and committed, a becomes b', () => {
  let platform: Platform;
  let tmp: string;
  let run = 0;

  beforeAll(async () => {
    platform = await createNodePlatform([]);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wrtkit-uci-diff-'));
  });

  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Commits a to a fresh config dir, applies diff(loaded a, b()), commits; returns the file. */
  function roundTrip(a: UciPackage, makeB: (base: UciPackage) => UciPackage): { file: string; b: UciPackage; changes: number } {
    const root = path.join(tmp, String(run++));
    const confdir = path.join(root, 'conf');
    const savedir = path.join(root, 'save');
    fs.mkdirSync(confdir, { recursive: true });
    fs.writeFileSync(path.join(confdir, a.name), exportUci(a, { mode: 'commit' }));
    const ctx = new UciContext(platform.fs, { confdir, savedir });
    const base = ctx.loadCommitted(a.name) as UciPackage;
    const b = makeB(base);
    const changes = diffPackages(base, b);
    ctx.applyChanges(a.name, changes);
    // The staged changes are what `uci changes` would list.
    expect(ctx.changes(a.name)[0]?.changes.length).toBeLessThanOrEqual(changes.length);
    ctx.commit(a.name);
    return { file: fs.readFileSync(path.join(confdir, a.name), 'utf8'), b, changes: changes.length };
  }

  it('for an edited copy of a (the host composing config)', () => {
    fc.assert(
      fc.property(packageArb('wireless'), fc.array(editArb, { maxLength: 8 }), (a, edits) => {
        const { file, b } = roundTrip(a, (base) => {
          const b = base.clone();
          applyEdits(b, edits);
          return b;
        });
        expect(file).toBe(exportUci(b, { mode: 'commit' }));
      }),
      { numRuns: RUNS },
    );
  });

  it('for an unrelated package b', () => {
    fc.assert(
      fc.property(packageArb('network'), packageArb('network'), (a, other) => {
        const { file, b } = roundTrip(a, () => other);
        expect(file).toBe(exportUci(b, { mode: 'commit' }));
      }),
      { numRuns: RUNS },
    );
  });

  it('finds nothing to change between a package and its copy', () => {
    fc.assert(
      fc.property(packageArb('firewall'), (a) => {
        expect(diffPackages(a, a.clone())).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
