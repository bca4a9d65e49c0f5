import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseVoucher, serializeVoucher } from '../../src/vouchers/codec.js';
import { type StoreFs, VoucherStore } from '../../src/vouchers/store.js';
import { T0, nodePlatform, tempDir, voucher } from './helpers.js';

async function setup() {
  const platform = await nodePlatform();
  const dir = join(tempDir(), 'vouchers');
  let writes = 0;
  const fs: StoreFs = {
    ...platform.fs,
    writeAtomic: (path, text, options) => {
      writes++;
      platform.fs.writeAtomic(path, text, options);
    },
  };
  return { dir, store: new VoucherStore(fs, `${dir}/`), writes: () => writes };
}

describe('VoucherStore', () => {
  it('round-trips vouchers as one <id>.json each, creating the directory', async () => {
    const { dir, store } = await setup();
    const a = voucher({ id: 'aaaaaa', code: 'QWERTY', duration_m: 60, author_node: 'node1', unrestricted: true });
    const b = voucher({ id: 'bbbbbb', mac: 'aa:bb:cc:dd:ee:ff', activation_date: T0 + 5, duration_m: 0.5, mod_counter: 2 });
    expect(store.write(b)).toBe(true);
    expect(store.write(a)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['aaaaaa.json', 'bbbbbb.json']);
    expect(JSON.parse(readFileSync(join(dir, 'aaaaaa.json'), 'utf8'))).toEqual(a);
    expect(store.load()).toEqual({ vouchers: [a, b], problems: [] });
  });

  it('loads an empty store from a missing directory', async () => {
    const { store } = await setup();
    expect(store.load()).toEqual({ vouchers: [], problems: [] });
  });

  it('skips and reports files that are not vouchers, and leaves them on disk', async () => {
    const { dir, store } = await setup();
    store.write(voucher({ id: 'good01' }));
    writeFileSync(join(dir, 'broken.json'), '{"id": "broken", "na');
    writeFileSync(join(dir, 'array1.json'), '[1, 2]');
    writeFileSync(join(dir, 'nocode.json'), JSON.stringify({ id: 'nocode', name: 'x', creation_date: T0 }));
    writeFileSync(join(dir, 'badmac.json'), JSON.stringify({ ...voucher({ id: 'badmac' }), mac: 'aa:bb:cc' }));
    writeFileSync(join(dir, 'other1.json'), JSON.stringify(voucher({ id: 'other2' })));
    writeFileSync(join(dir, 'baddur.json'), JSON.stringify({ ...voucher({ id: 'baddur' }), duration_m: -5 }));
    const { vouchers, problems } = store.load();
    expect(vouchers.map((v) => v.id)).toEqual(['good01']);
    expect(problems).toEqual([
      { file: join(dir, 'array1.json'), reason: 'not a JSON object' },
      { file: join(dir, 'baddur.json'), reason: 'duration_m must be a number >= 0' },
      { file: join(dir, 'badmac.json'), reason: 'mac must be aa:bb:cc:dd:ee:ff' },
      { file: join(dir, 'broken.json'), reason: 'invalid JSON' },
      { file: join(dir, 'nocode.json'), reason: 'code must be a non-empty string' },
      { file: join(dir, 'other1.json'), reason: 'holds voucher other2, expected in other2.json' },
    ]);
    for (const name of ['broken.json', 'array1.json', 'nocode.json', 'badmac.json', 'other1.json', 'baddur.json']) {
      expect(existsSync(join(dir, name))).toBe(true);
    }
  });

  it('ignores temporary files of an interrupted write, hidden files and other names', async () => {
    const { dir, store } = await setup();
    const v = voucher({ id: 'abc123', name: 'old' });
    store.write(v);
    // What kill -9 between write and rename leaves: a half-written temporary beside the voucher.
    writeFileSync(join(dir, '.abc123.json.4242.tmp'), '{"id":"abc123","name":"new","co');
    writeFileSync(join(dir, '.pruned.json'), '{"zzzzzz": 1}');
    writeFileSync(join(dir, 'removed.txt'), 'x1,x2,');
    mkdirSync(join(dir, 'sub.json'));
    expect(store.load()).toEqual({ vouchers: [v], problems: [] });
  });

  it('does not rewrite a voucher its file already holds, even in another spelling', async () => {
    const { dir, store, writes } = await setup();
    const v = voucher({ id: 'same01', duration_m: 60 });
    expect(store.write(v)).toBe(true);
    expect(store.write({ ...v })).toBe(false);
    // Pirania's spacing and key order, and a redundant unrestricted=false: the same voucher.
    writeFileSync(
      join(dir, 'same01.json'),
      '{ "mod_counter": 1, "duration_m": 60, "code": "ABCDEF", "name": "v-same01", "id": "same01", "creation_date": ' +
        `${T0}, "unrestricted": false }`,
    );
    expect(store.write({ ...v })).toBe(false);
    expect(writes()).toBe(1);
    expect(store.write({ ...v, mod_counter: 2 })).toBe(true);
    expect(writes()).toBe(2);
  });

  it('loads the JSON Pirania writes', async () => {
    const { dir, store } = await setup();
    mkdirSync(dir, { recursive: true });
    // As vouchera.lua/store.lua leave them: nil fields absent, compact JSON, any key order.
    writeFileSync(
      join(dir, 'Xb3k9Q.json'),
      '{"author_node":"LiMe-abc123","code":"KJHGFD","creation_date":1596509101,"duration_m":1440,' +
        '"id":"Xb3k9Q","mac":"AA:BB:CC:00:11:22","activation_date":1596509200,"mod_counter":2,"name":"juan"}',
    );
    writeFileSync(join(dir, 'perm01.json'), '{"id":"perm01","name":"school","code":"POIUYT","creation_date":1596509101}');
    writeFileSync(
      join(dir, 'gone01.json'),
      '{"id":"gone01","name":"x","code":"MNBVCX","creation_date":1596509101,"duration_m":60,"invalidation_date":1596600000,' +
        '"mod_counter":3,"activation_deadline":1597000000,"unrestricted":true}',
    );
    const { vouchers, problems } = store.load();
    expect(problems).toEqual([]);
    expect(vouchers).toEqual([
      {
        id: 'Xb3k9Q',
        name: 'juan',
        code: 'KJHGFD',
        mac: 'aa:bb:cc:00:11:22',
        duration_m: 1440,
        creation_date: 1596509101,
        activation_date: 1596509200,
        author_node: 'LiMe-abc123',
        mod_counter: 2,
      },
      {
        id: 'gone01',
        name: 'x',
        code: 'MNBVCX',
        duration_m: 60,
        creation_date: 1596509101,
        activation_deadline: 1597000000,
        invalidation_date: 1596600000,
        mod_counter: 3,
        unrestricted: true,
      },
      { id: 'perm01', name: 'school', code: 'POIUYT', creation_date: 1596509101, mod_counter: 1 },
    ]);
  });

  it('removes a voucher file', async () => {
    const { dir, store } = await setup();
    store.write(voucher({ id: 'rm0001' }));
    store.remove('rm0001');
    store.remove('rm0001');
    expect(existsSync(join(dir, 'rm0001.json'))).toBe(false);
  });
});

describe('voucher JSON', () => {
  it('treats null as absent and writes fields in a fixed order', () => {
    const parsed = parseVoucher({ code: 'A', name: 'n', id: 'x1', creation_date: 5, mac: null, duration_m: null });
    expect(parsed).toEqual({ voucher: { id: 'x1', name: 'n', code: 'A', creation_date: 5, mod_counter: 1 } });
    expect(serializeVoucher({ mod_counter: 2, creation_date: 5, code: 'A', name: 'n', id: 'x1', duration_m: 3 })).toBe(
      '{"id":"x1","name":"n","code":"A","duration_m":3,"creation_date":5,"mod_counter":2}',
    );
  });

  it('refuses ids that are not plain file names', () => {
    for (const id of ['../etc', 'a/b', 'a.b', '', 'x'.repeat(65)]) {
      expect(parseVoucher({ ...voucher({ id: 'ok' }), id }).error).toMatch(/^id must be/);
    }
  });
});
