import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serializeVoucher } from '../../src/vouchers/codec.js';
import { mergeVouchers, preferred } from '../../src/vouchers/merge.js';
import { isInvalidated } from '../../src/vouchers/status.js';
import type { Voucher } from '../../src/vouchers/voucher.js';
import type { VoucherChange } from '../../src/vouchers/vouchers.js';
import { T0, harness, voucher } from './helpers.js';

describe('preferred', () => {
  const base = voucher({ id: 'v00001', duration_m: 60 });

  it('takes the higher counter, whichever side it is on', () => {
    const newer = { ...base, name: 'renamed', mod_counter: 2 };
    expect(preferred(base, newer)).toBe(newer);
    expect(preferred(newer, base)).toBe(newer);
  });

  it('on equal counters: the tombstone, then the used copy, then the same copy on every node', () => {
    const dead = { ...base, mod_counter: 2, invalidation_date: T0 };
    const used = { ...base, mod_counter: 2, mac: 'aa:bb:cc:dd:ee:01', activation_date: T0 };
    const renamed = { ...base, mod_counter: 2, name: 'other' };
    expect(preferred(dead, used)).toBe(dead);
    expect(preferred(used, dead)).toBe(dead);
    expect(preferred(used, renamed)).toBe(used);
    expect(preferred(renamed, used)).toBe(used);
    const a = { ...base, mod_counter: 2, name: 'aaa' };
    expect(preferred(a, renamed)).toBe(preferred(renamed, a));
  });

  it('never lets a valid copy replace a tombstone, even with a higher counter (lime-packages#886)', () => {
    const dead = { ...base, mod_counter: 2, invalidation_date: T0 };
    const edited = { ...base, mod_counter: 7, name: 'renamed elsewhere' };
    expect(preferred(dead, edited)).toBe(dead);
    expect(preferred(edited, dead)).toBe(dead);
  });
});

describe('mergeVouchers', () => {
  it('adopts new ids and newer copies, keeps the rest, reports what changed', () => {
    const local = [voucher({ id: 'keep01', mod_counter: 3 }), voucher({ id: 'upd001' })];
    const remote = [
      voucher({ id: 'keep01', mod_counter: 2, name: 'stale' }),
      voucher({ id: 'upd001', mod_counter: 2, mac: 'aa:bb:cc:dd:ee:01', activation_date: T0 }),
      voucher({ id: 'new001' }),
    ];
    const result = mergeVouchers(local, remote);
    expect(result.vouchers).toEqual([local[0], remote[2], remote[1]]);
    expect(result.changed).toEqual([remote[2], remote[1]]);
    expect(result.refused).toEqual([]);
  });

  it('refuses ids pruned here', () => {
    const result = mergeVouchers([], [voucher({ id: 'gone01', mod_counter: 9 })], new Set(['gone01']));
    expect(result).toEqual({ vouchers: [], changed: [], refused: [{ id: 'gone01', reason: 'pruned' }] });
  });

  it('changes nothing when the remote copy is the same', () => {
    const v = voucher({ id: 'same01' });
    expect(mergeVouchers([v], [{ ...v }]).changed).toEqual([]);
  });
});

// Few ids and few values, so that generated sets overlap and collide often.
const ids = ['aaaaaa', 'bbbbbb', 'cccccc'];
const arbVoucher: fc.Arbitrary<Voucher> = fc
  .record({
    id: fc.constantFrom(...ids),
    name: fc.constantFrom('x', 'y'),
    code: fc.constantFrom('AAAAAA', 'BBBBBB'),
    mod_counter: fc.integer({ min: 1, max: 4 }),
    used: fc.boolean(),
    deactivated: fc.boolean(),
    invalidated: fc.boolean(),
    permanent: fc.boolean(),
  })
  .map((r) => {
    const v: Voucher = { id: r.id, name: r.name, code: r.code, creation_date: T0, mod_counter: r.mod_counter };
    if (!r.permanent) v.duration_m = 60;
    if (r.used) {
      v.activation_date = T0 + 10;
      if (!r.deactivated) v.mac = 'aa:bb:cc:dd:ee:01';
    }
    if (r.invalidated) v.invalidation_date = T0 + 20;
    return v;
  });
const arbSet = fc.array(arbVoucher, { maxLength: 6 });

/** A merged set in a comparable form. */
const text = (vs: readonly Voucher[]) => vs.map(serializeVoucher);

describe('mergeVouchers properties', () => {
  it('is commutative', () => {
    fc.assert(
      fc.property(arbSet, arbSet, (a, b) => {
        expect(text(mergeVouchers(a, b).vouchers)).toEqual(text(mergeVouchers(b, a).vouchers));
      }),
    );
  });

  it('is associative', () => {
    fc.assert(
      fc.property(arbSet, arbSet, arbSet, (a, b, c) => {
        const left = mergeVouchers(mergeVouchers(a, b).vouchers, c).vouchers;
        const right = mergeVouchers(a, mergeVouchers(b, c).vouchers).vouchers;
        expect(text(left)).toEqual(text(right));
      }),
    );
  });

  it('is idempotent: merging again, or merging a set with itself, changes nothing', () => {
    fc.assert(
      fc.property(arbSet, arbSet, (a, b) => {
        const once = mergeVouchers(a, b).vouchers;
        const twice = mergeVouchers(once, b);
        expect(twice.changed).toEqual([]);
        expect(text(twice.vouchers)).toEqual(text(once));
        expect(text(mergeVouchers(a, a).vouchers)).toEqual(text(mergeVouchers(a, []).vouchers));
      }),
    );
  });

  it('never resurrects: an invalidated voucher stays invalidated, a pruned one stays away', () => {
    fc.assert(
      fc.property(arbSet, arbSet, fc.subarray(ids), (local, remote, prunedIds) => {
        const pruned = new Set(prunedIds);
        const here = local.filter((v) => !pruned.has(v.id));
        const result = mergeVouchers(here, remote, pruned);
        const merged = new Map(result.vouchers.map((v) => [v.id, v]));
        for (const v of here) if (isInvalidated(v)) expect(isInvalidated(merged.get(v.id)!)).toBe(true);
        for (const id of pruned) expect(merged.has(id)).toBe(false);
        // every merged voucher is one of the copies given, never a blend
        const given = new Set(text([...here, ...remote]));
        for (const v of result.vouchers) expect(given.has(serializeVoucher(v))).toBe(true);
      }),
    );
  });
});

describe('Vouchers.merge', () => {
  it('writes what it adopts, announces it, and refuses junk, pruned and stale vouchers', async () => {
    const h = await harness();
    const [mine] = h.vouchers.create({ name: 'mine', duration_m: 60 });
    h.vouchers.pruned.record(['pruned'], T0, 86400 * 60);
    const changes: VoucherChange[] = [];
    h.vouchers.onChange((c) => changes.push(c));
    const activatedElsewhere = { ...mine!, mac: 'aa:bb:cc:dd:ee:09', activation_date: T0, mod_counter: 2 };
    const fresh = voucher({ id: 'fresh1', code: 'FRESHH', duration_m: 60 });
    const report = h.vouchers.merge([
      activatedElsewhere,
      fresh,
      voucher({ id: 'pruned' }),
      voucher({ id: 'old001', invalidation_date: T0 - 31 * 86400 }),
      { id: 'broken', name: 3 },
      'not even an object',
    ]);
    expect(report.changed.map((v) => v.id).sort()).toEqual([mine!.id, 'fresh1'].sort());
    expect(report.refused).toEqual([
      { id: 'old001', reason: 'stale' },
      { id: 'broken', reason: 'invalid: name must be a string' },
      { reason: 'invalid: not a JSON object' },
      { id: 'pruned', reason: 'pruned' },
    ]);
    expect(h.vouchers.isMacAuthorized('aa:bb:cc:dd:ee:09')).toBe(true);
    expect(JSON.parse(readFileSync(join(h.dir, 'fresh1.json'), 'utf8'))).toEqual(fresh);
    expect(existsSync(join(h.dir, 'pruned.json'))).toBe(false);
    expect(changes).toEqual([{ kind: 'merged', vouchers: report.changed }]);
    expect(h.vouchers.merge([fresh, activatedElsewhere])).toEqual({ changed: [], refused: [] });
    expect(changes).toHaveLength(1);
  });

  it('a remote copy cannot bring back a voucher invalidated here', async () => {
    const h = await harness();
    const [v] = h.vouchers.create({ name: 'x', duration_m: 60 });
    h.vouchers.invalidate(v!.id);
    const report = h.vouchers.merge([
      { ...v!, mod_counter: 2 },
      { ...v!, name: 'later edit', mod_counter: 5 },
    ]);
    expect(report.changed).toEqual([]);
    expect(h.vouchers.statusOf(h.vouchers.get(v!.id)!)).toBe('invalidated');
  });
});
