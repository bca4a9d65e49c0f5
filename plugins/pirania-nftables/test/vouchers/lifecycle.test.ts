import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { PiraniaErrors, piraniaReasonOf } from '../../src/vouchers/errors.js';
import type { VoucherChange } from '../../src/vouchers/vouchers.js';
import { T0, harness, voucher } from './helpers.js';

/** The Pirania reason the call throws with. */
function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return piraniaReasonOf(error);
  }
  return undefined;
}

function errorOf(fn: () => unknown): Error & { details?: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    return error as Error & { details?: Record<string, unknown> };
  }
  throw new Error('did not throw');
}

/** randomBytes that hands out the given chunks in order. */
function scripted(...chunks: number[][]) {
  let i = 0;
  return () => {
    const chunk = chunks[i++];
    if (!chunk) throw new Error('script exhausted');
    return new Uint8Array(chunk);
  };
}

describe('create', () => {
  it('creates one voucher named as given, stored and announced', async () => {
    const h = await harness();
    const changes: VoucherChange[] = [];
    h.vouchers.onChange((c) => changes.push(c));
    const [v] = h.vouchers.create({ name: 'juan', qty: 1, duration_m: 60 });
    expect(v).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9]{6}$/),
      name: 'juan',
      code: expect.stringMatching(/^[A-Z]{6}$/),
      duration_m: 60,
      creation_date: T0,
      author_node: 'node1',
      mod_counter: 1,
    });
    expect(JSON.parse(readFileSync(join(h.dir, `${v!.id}.json`), 'utf8'))).toEqual(v);
    expect(changes).toEqual([{ kind: 'created', vouchers: [v] }]);
    expect(h.vouchers.statusOf(v!)).toBe('available');
  });

  it('names a batch name-1 … name-N with distinct codes and ids', async () => {
    const h = await harness();
    const made = h.vouchers.create({ name: 'fiesta', qty: 50, duration_m: 30, activation_deadline: T0 + 3600 });
    expect(made.map((v) => v.name)).toEqual(Array.from({ length: 50 }, (_, i) => `fiesta-${i + 1}`));
    expect(new Set(made.map((v) => v.code)).size).toBe(50);
    expect(new Set(made.map((v) => v.id)).size).toBe(50);
    expect(made.every((v) => v.activation_deadline === T0 + 3600)).toBe(true);
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
    expect(h.open().list()).toEqual([...made].sort(byId));
  });

  it('makes permanent vouchers without duration, and records unrestricted', async () => {
    const h = await harness();
    const [p] = h.vouchers.create({ name: 'school', permanent: true, duration_m: 60, unrestricted: true });
    expect(p!.duration_m).toBeUndefined();
    expect(p!.unrestricted).toBe(true);
    const [q] = h.vouchers.create({ name: 'school', permanent: true });
    expect(q!.duration_m).toBeUndefined();
    expect(q!.unrestricted).toBeUndefined();
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: '   ' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ name: 'a\tb' }, 'name'],
    [{ qty: 0 }, 'qty'],
    [{ qty: 1001 }, 'qty'],
    [{ qty: 1.5 }, 'qty'],
    [{ duration_m: undefined }, 'duration_m'],
    [{ duration_m: 0 }, 'duration_m'],
    [{ duration_m: -1 }, 'duration_m'],
    [{ duration_m: Number.NaN }, 'duration_m'],
    [{ activation_deadline: T0 }, 'activation_deadline'],
    [{ activation_deadline: T0 - 100 }, 'activation_deadline'],
  ])('refuses %o', async (bad, field) => {
    const h = await harness();
    const error = errorOf(() => h.vouchers.create({ name: 'ok', duration_m: 60, ...bad }));
    expect(piraniaReasonOf(error)).toBe(PiraniaErrors.ARGUMENT_INVALID);
    expect(error.details?.field).toBe(field);
    expect(h.vouchers.list()).toEqual([]);
  });

  it('accepts a name of exactly 100 characters and fractional minutes', async () => {
    const h = await harness();
    const [v] = h.vouchers.create({ name: 'n'.repeat(100), duration_m: 0.5 });
    h.vouchers.activate(v!.code, 'aa:bb:cc:dd:ee:01');
    h.clock.advance(29);
    expect(h.vouchers.isMacAuthorized('aa:bb:cc:dd:ee:01')).toBe(true);
    h.clock.advance(1);
    expect(h.vouchers.isMacAuthorized('aa:bb:cc:dd:ee:01')).toBe(false);
  });

  it('draws again when a code is taken', async () => {
    const h = await harness();
    h.vouchers.store.write(voucher({ id: 'taken1', code: 'AAAAAA' }));
    const v = h.open({ randomBytes: scripted([0, 1, 2, 3, 4, 5], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]) });
    const [made] = v.create({ name: 'x', duration_m: 1 });
    expect(made).toMatchObject({ id: 'ABCDEF', code: 'BBBBBB' });
  });

  it('draws again when an id is taken or was pruned lately', async () => {
    const h = await harness();
    h.vouchers.store.write(voucher({ id: 'ABCDEF', code: 'ZZZZZZ' }));
    h.vouchers.pruned.record(['GHIJKL'], T0, 1000);
    const v = h.open({
      randomBytes: scripted([0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11], [12, 13, 14, 15, 16, 17], [2, 2, 2, 2, 2, 2]),
    });
    expect(v.create({ name: 'x', duration_m: 1 })[0]).toMatchObject({ id: 'MNOPQR', code: 'CCCCCC' });
  });

  it('gives up with GENERATE_FAILED on a random source that repeats itself', async () => {
    const h = await harness();
    h.vouchers.store.write(voucher({ id: 'taken1', code: 'AAAAAA' }));
    const v = h.open({ randomBytes: (n) => new Uint8Array(n) });
    expect(reasonOf(() => v.create({ name: 'x', duration_m: 1 }))).toBe(PiraniaErrors.GENERATE_FAILED);
  });
});

describe('activate', () => {
  it('binds an available voucher to the device, normalizing MAC and code', async () => {
    const h = await harness();
    const [v] = h.vouchers.create({ name: 'juan', duration_m: 60 });
    const changes: VoucherChange[] = [];
    h.vouchers.onChange((c) => changes.push(c));
    h.clock.advance(10);
    const active = h.vouchers.activate(` ${v!.code.toLowerCase()} `, 'AA:BB:CC:DD:EE:FF');
    expect(active).toEqual({ ...v, mac: 'aa:bb:cc:dd:ee:ff', activation_date: T0 + 10, mod_counter: 2 });
    expect(changes).toEqual([{ kind: 'activated', vouchers: [active] }]);
    expect(h.vouchers.statusOf(active)).toBe('active');
    expect(h.open().get(v!.id)).toEqual(active);
  });

  it('tells apart unknown, used, expired and invalidated codes', async () => {
    const h = await harness();
    const [used, late, gone] = h.vouchers.create({ name: 'b', qty: 3, duration_m: 60, activation_deadline: T0 + 100 });
    h.vouchers.activate(used!.code, 'aa:bb:cc:dd:ee:01');
    h.vouchers.invalidate(gone!.id);
    expect(reasonOf(() => h.vouchers.activate('NOSUCH', 'aa:bb:cc:dd:ee:02'))).toBe(PiraniaErrors.CODE_UNKNOWN);
    expect(reasonOf(() => h.vouchers.activate('', 'aa:bb:cc:dd:ee:02'))).toBe(PiraniaErrors.CODE_UNKNOWN);
    expect(reasonOf(() => h.vouchers.activate(used!.code, 'aa:bb:cc:dd:ee:02'))).toBe(PiraniaErrors.CODE_USED);
    // the same device again: still used (the portal checks authorization first)
    expect(reasonOf(() => h.vouchers.activate(used!.code, 'aa:bb:cc:dd:ee:01'))).toBe(PiraniaErrors.CODE_USED);
    expect(reasonOf(() => h.vouchers.activate(gone!.code, 'aa:bb:cc:dd:ee:02'))).toBe(PiraniaErrors.CODE_INVALIDATED);
    h.clock.advance(101);
    expect(h.vouchers.statusOf(late!)).toBe('expired');
    expect(reasonOf(() => h.vouchers.activate(late!.code, 'aa:bb:cc:dd:ee:02'))).toBe(PiraniaErrors.CODE_EXPIRED);
    // used after its duration: still "used", not merely expired
    h.clock.advance(3600);
    expect(reasonOf(() => h.vouchers.activate(used!.code, 'aa:bb:cc:dd:ee:02'))).toBe(PiraniaErrors.CODE_USED);
  });

  it('keeps the duration of a voucher activated before its deadline', async () => {
    const h = await harness();
    const [v] = h.vouchers.create({ name: 'x', duration_m: 60, activation_deadline: T0 + 60 });
    h.vouchers.activate(v!.code, 'aa:bb:cc:dd:ee:01');
    h.clock.advance(120);
    expect(h.vouchers.statusOf(h.vouchers.get(v!.id)!)).toBe('active');
    expect(h.vouchers.isMacAuthorized('aa:bb:cc:dd:ee:01')).toBe(true);
  });

  it.each(['aa:bb:cc:dd:ee', 'aa:bb:cc:dd:ee:ff:00', 'aabb.ccdd.eeff', 'zz:bb:cc:dd:ee:ff', 'aa-bb-cc-dd-ee-ff', ''])(
    'refuses the MAC %j',
    async (mac) => {
      const h = await harness();
      const [v] = h.vouchers.create({ name: 'x', duration_m: 60 });
      expect(reasonOf(() => h.vouchers.activate(v!.code, mac))).toBe(PiraniaErrors.MAC_INVALID);
      expect(h.vouchers.statusOf(h.vouchers.get(v!.id)!)).toBe('available');
    },
  );

  it.each(['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '33:33:00:00:00:01'])(
    'refuses the non-device MAC %s',
    async (mac) => {
      const h = await harness();
      const [v] = h.vouchers.create({ name: 'x', duration_m: 60 });
      expect(reasonOf(() => h.vouchers.activate(v!.code, mac))).toBe(PiraniaErrors.MAC_INVALID);
    },
  );

  it('treats an older Pirania tombstone (duration_m 0) as invalidated', async () => {
    const h = await harness();
    h.vouchers.store.write(voucher({ id: 'old001', code: 'OLDOLD', duration_m: 0 }));
    const v = h.open();
    expect(v.statusOf(v.get('old001')!)).toBe('invalidated');
    expect(reasonOf(() => v.activate('OLDOLD', 'aa:bb:cc:dd:ee:01'))).toBe(PiraniaErrors.CODE_INVALIDATED);
  });
});

describe('expiry', () => {
  it('expires at activation + duration exactly; a permanent voucher never', async () => {
    const h = await harness();
    const [timed, perm] = [
      h.vouchers.create({ name: 't', duration_m: 10 })[0]!,
      h.vouchers.create({ name: 'p', permanent: true })[0]!,
    ];
    h.vouchers.activate(timed.code, 'aa:bb:cc:dd:ee:01');
    h.vouchers.activate(perm.code, 'aa:bb:cc:dd:ee:02');
    expect(h.vouchers.nextChange()).toBe(T0 + 600);
    h.clock.advance(599);
    expect(h.vouchers.authorizedMacs()).toEqual(['aa:bb:cc:dd:ee:01', 'aa:bb:cc:dd:ee:02']);
    h.clock.advance(1);
    expect(h.vouchers.statusOf(h.vouchers.get(timed.id)!)).toBe('expired');
    expect(h.vouchers.authorizedMacs()).toEqual(['aa:bb:cc:dd:ee:02']);
    expect(h.vouchers.nextChange()).toBeUndefined();
    h.clock.advance(100 * 365 * 86400);
    expect(h.vouchers.isMacAuthorized('aa:bb:cc:dd:ee:02')).toBe(true);
  });
});

describe('deactivate, invalidate, rename', () => {
  it('deactivate ends access and makes the voucher available again', async () => {
    const h = await harness();
    const [v] = h.vouchers.create({ name: 'x', duration_m: 60 });
    const active = h.vouchers.activate(v!.code, 'aa:bb:cc:dd:ee:01');
    const changes: VoucherChange[] = [];
    h.vouchers.onChange((c) => changes.push(c));
    const off = h.vouchers.deactivate(v!.id);
    const { mac: _mac, ...rest } = active;
    expect(off).toEqual({ ...rest, mod_counter: 3 });
    expect(h.vouchers.isMacAuthorized('aa:bb:cc:dd:ee:01')).toBe(false);
    expect(h.vouchers.statusOf(off)).toBe('available');
    expect(changes).toEqual([{ kind: 'deactivated', vouchers: [off] }]);
    // nothing bound: nothing to do, nothing written or told
    expect(h.vouchers.deactivate(v!.id)).toBe(off);
    expect(changes).toHaveLength(1);
    expect(h.open().get(v!.id)).toEqual(off);
  });

  it('invalidate leaves a tombstone that ends access', async () => {
    const h = await harness();
    const [v] = h.vouchers.create({ name: 'x', duration_m: 60 });
    h.vouchers.activate(v!.code, 'aa:bb:cc:dd:ee:01');
    h.clock.advance(5);
    const changes: VoucherChange[] = [];
    h.vouchers.onChange((c) => changes.push(c));
    const dead = h.vouchers.invalidate(v!.id);
    expect(dead).toMatchObject({ invalidation_date: T0 + 5, mod_counter: 3, mac: 'aa:bb:cc:dd:ee:01' });
    expect(h.vouchers.statusOf(dead)).toBe('invalidated');
    expect(h.vouchers.isMacAuthorized('aa:bb:cc:dd:ee:01')).toBe(false);
    expect(h.vouchers.invalidate(v!.id)).toBe(dead);
    expect(changes).toEqual([{ kind: 'invalidated', vouchers: [dead] }]);
    expect(h.open().get(v!.id)).toEqual(dead);
  });

  it('rename bumps the counter; an invalid name is refused', async () => {
    const h = await harness();
    const [v] = h.vouchers.create({ name: 'x', duration_m: 60 });
    const changes: VoucherChange[] = [];
    h.vouchers.onChange((c) => changes.push(c));
    expect(h.vouchers.rename(v!.id, 'maria')).toEqual({ ...v, name: 'maria', mod_counter: 2 });
    expect(h.vouchers.rename(v!.id, 'maria').mod_counter).toBe(2);
    expect(reasonOf(() => h.vouchers.rename(v!.id, ''))).toBe(PiraniaErrors.ARGUMENT_INVALID);
    expect(changes.map((c) => c.kind)).toEqual(['renamed']);
  });

  it.each(['deactivate', 'invalidate', 'rename'] as const)('%s of an unknown id names the id', async (op) => {
    const h = await harness();
    const error = errorOf(() => (op === 'rename' ? h.vouchers.rename('nope42', 'x') : h.vouchers[op]('nope42')));
    expect(piraniaReasonOf(error)).toBe(PiraniaErrors.ID_UNKNOWN);
    expect(error.message).toContain('nope42');
  });
});

describe('authorizations', () => {
  it('one per device: permanent beats timed, later expiry beats earlier', async () => {
    const h = await harness();
    const make = (name: string, extra: object) => h.vouchers.create({ name, ...extra })[0]!;
    const short = make('short', { duration_m: 10 });
    const long = make('long', { duration_m: 20, unrestricted: true });
    const perm = make('perm', { permanent: true });
    const other = make('other', { duration_m: 5 });
    h.vouchers.activate(short.code, 'aa:bb:cc:dd:ee:01');
    h.vouchers.activate(long.code, 'aa:bb:cc:dd:ee:01');
    h.vouchers.activate(other.code, 'aa:bb:cc:dd:ee:03');
    expect(h.vouchers.authorizations()).toEqual([
      { mac: 'aa:bb:cc:dd:ee:01', voucherId: long.id, expiresAt: T0 + 1200, unrestricted: true },
      { mac: 'aa:bb:cc:dd:ee:03', voucherId: other.id, expiresAt: T0 + 300, unrestricted: false },
    ]);
    h.vouchers.activate(perm.code, 'aa:bb:cc:dd:ee:01');
    expect(h.vouchers.authorizations()[0]).toEqual({ mac: 'aa:bb:cc:dd:ee:01', voucherId: perm.id, unrestricted: false });
    expect(h.vouchers.nextChange()).toBe(T0 + 300);
    expect(h.vouchers.authorizations(T0 + 300).map((a) => a.mac)).toEqual(['aa:bb:cc:dd:ee:01']);
  });

  it('isMacAuthorized refuses a malformed MAC', async () => {
    const h = await harness();
    expect(reasonOf(() => h.vouchers.isMacAuthorized('nope'))).toBe(PiraniaErrors.MAC_INVALID);
    expect(h.vouchers.isMacAuthorized('AA:BB:CC:DD:EE:FF')).toBe(false);
  });
});

describe('listeners and load problems', () => {
  it('a throwing listener does not undo or fail the change', async () => {
    const warn = vi.fn();
    const h = await harness({ log: { warn } });
    h.vouchers.onChange(() => {
      throw new Error('nft down');
    });
    const seen: string[] = [];
    const off = h.vouchers.onChange((c) => seen.push(c.kind));
    const [v] = h.vouchers.create({ name: 'x', duration_m: 60 });
    expect(h.vouchers.activate(v!.code, 'aa:bb:cc:dd:ee:01').mac).toBe('aa:bb:cc:dd:ee:01');
    expect(seen).toEqual(['created', 'activated']);
    expect(warn).toHaveBeenCalledWith('voucher change listener failed', expect.objectContaining({ kind: 'activated' }));
    off();
    h.vouchers.deactivate(v!.id);
    expect(seen).toHaveLength(2);
  });

  it('reports files it skipped and carries on', async () => {
    const warn = vi.fn();
    const h = await harness();
    mkdirSync(h.dir, { recursive: true });
    writeFileSync(join(h.dir, 'bad001.json'), 'not json');
    const v = h.open({ log: { warn } });
    expect(v.problems).toEqual([{ file: join(h.dir, 'bad001.json'), reason: 'invalid JSON' }]);
    expect(warn).toHaveBeenCalledWith('voucher file skipped', { file: join(h.dir, 'bad001.json'), reason: 'invalid JSON' });
    expect(v.create({ name: 'x', duration_m: 1 })).toHaveLength(1);
  });
});
