import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { VoucherChange } from '../../src/vouchers/vouchers.js';
import { T0, harness, voucher } from './helpers.js';

const DAY = 86400;

describe('prune', () => {
  async function seeded() {
    const h = await harness();
    const s = h.vouchers.store;
    // over for 31 days: expired (activated 31 days + 1 h ago for 1 h), invalidated, unused past deadline
    s.write(voucher({ id: 'exp031', mac: 'aa:bb:cc:dd:ee:01', activation_date: T0 - 31 * DAY - 3600, duration_m: 60 }));
    s.write(voucher({ id: 'inv031', invalidation_date: T0 - 31 * DAY, duration_m: 60 }));
    s.write(voucher({ id: 'ddl031', activation_deadline: T0 - 31 * DAY, duration_m: 60 }));
    // over for exactly the prune period: goes too
    s.write(voucher({ id: 'exp030', mac: 'aa:bb:cc:dd:ee:02', activation_date: T0 - 30 * DAY - 60, duration_m: 1 }));
    // over for 29 days, or not over: stay
    s.write(voucher({ id: 'exp029', mac: 'aa:bb:cc:dd:ee:03', activation_date: T0 - 29 * DAY - 60, duration_m: 1 }));
    s.write(voucher({ id: 'inv029', invalidation_date: T0 - 29 * DAY }));
    s.write(voucher({ id: 'perm01', mac: 'aa:bb:cc:dd:ee:04', activation_date: T0 - 400 * DAY }));
    s.write(voucher({ id: 'unused', creation_date: T0 - 400 * DAY, duration_m: 60 }));
    return h;
  }

  it('deletes vouchers over for at least prune_expired_for_days and remembers their ids', async () => {
    const h = await seeded();
    const v = h.open({ prune: false });
    const changes: VoucherChange[] = [];
    v.onChange((c) => changes.push(c));
    expect(v.prune()).toEqual(['ddl031', 'exp030', 'exp031', 'inv031']);
    expect(
      v
        .list()
        .map((x) => x.id)
        .sort(),
    ).toEqual(['exp029', 'inv029', 'perm01', 'unused']);
    for (const id of ['ddl031', 'exp030', 'exp031', 'inv031']) expect(existsSync(join(h.dir, `${id}.json`))).toBe(false);
    expect(existsSync(join(h.dir, 'exp029.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(h.dir, '.pruned.json'), 'utf8'))).toEqual({
      ddl031: T0,
      exp030: T0,
      exp031: T0,
      inv031: T0,
    });
    expect(changes).toHaveLength(1);
    expect(changes[0]!.kind).toBe('pruned');
    expect(changes[0]!.vouchers.map((x) => x.id)).toEqual(['ddl031', 'exp030', 'exp031', 'inv031']);
    expect(v.prune()).toEqual([]);
  });

  it('runs at open unless told not to', async () => {
    const h = await seeded();
    expect(h.open({ prune: false }).list()).toHaveLength(8);
    expect(h.open().list()).toHaveLength(4);
  });

  it('follows prune_expired_for_days', async () => {
    const h = await seeded();
    expect(
      h
        .open({ pruneExpiredForDays: 1 })
        .list()
        .map((x) => x.id)
        .sort(),
    ).toEqual(['perm01', 'unused']);
  });

  it('forgets pruned ids after twice the prune period', async () => {
    const h = await seeded();
    const v = h.open();
    expect(v.pruned.has('exp031')).toBe(true);
    h.clock.advance(60 * DAY);
    v.prune();
    expect(v.pruned.has('exp031')).toBe(true);
    h.clock.advance(1);
    v.prune();
    expect(v.pruned.has('exp031')).toBe(false);
    // inv029 and exp029 were pruned on the first of these runs; they are still remembered
    expect(JSON.parse(readFileSync(join(h.dir, '.pruned.json'), 'utf8'))).toEqual({
      exp029: T0 + 60 * DAY,
      inv029: T0 + 60 * DAY,
    });
  });

  it('does not rewrite the pruned record when nothing changed', async () => {
    const h = await harness();
    const write = vi.spyOn(h.platform.fs, 'writeAtomic');
    h.vouchers.prune();
    expect(write).not.toHaveBeenCalled();
    write.mockRestore();
  });

  it('starts with an empty record when the file is broken, and says so', async () => {
    const h = await harness();
    mkdirSync(h.dir, { recursive: true });
    writeFileSync(join(h.dir, '.pruned.json'), '[oops');
    const warn = vi.fn();
    const v = h.open({ log: { warn } });
    expect(v.pruned.ids().size).toBe(0);
    expect(warn).toHaveBeenCalledWith('pruned ids unreadable; starting empty', expect.anything());
  });
});
