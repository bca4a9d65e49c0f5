import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, MethodRegistry, UciPackage, WrtkitError } from '@wrtkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import schema from '../../schema.json';
import voucherCommand, { type VoucherCommandContext, runVoucher } from '../../src/commands/voucher.js';
import { cDate } from '../../src/commands/format.js';
import { STORE_DEFAULTS, readStoreConfig } from '../../src/commands/offline.js';
import { createPiraniaMethods } from '../../src/methods.js';
import { T0, harness, tempDir, type Harness } from '../vouchers/helpers.js';

beforeAll(() => {
  // %c is local time; pin it so the expected lines hold anywhere.
  process.env.TZ = 'UTC';
});

function uciWith(options: Record<string, string> | undefined) {
  return {
    get(name: string) {
      if (name !== 'pirania' || options === undefined) return undefined;
      const pkg = new UciPackage('pirania');
      const section = pkg.addSection('base_config', 'base_config');
      for (const [k, v] of Object.entries(options)) section.set(k, v);
      return pkg;
    },
  };
}

interface Run {
  code: number;
  out: string;
  err: string;
}

/** A ctx whose `call` goes through the host's method dispatch into the real table, on a harness store. */
function online(h: Harness) {
  const registry = new MethodRegistry();
  registry.register(
    'pirania',
    createPiraniaMethods({
      vouchers: h.vouchers,
      portalConfig: () => ({ enabled: true, with_vouchers: true }),
      setPortalConfig: () => undefined,
      portalUrl: () => 'http://thisnode.info/',
      setPortalUrl: () => undefined,
      contentFs: h.platform.fs,
      contentPath: () => join(h.dir, 'content.json'),
    }),
  );
  return (object: string, method: string, args: Record<string, unknown>) => registry.invoke(object, method, args);
}

function hostDown(): Promise<unknown> {
  return Promise.reject(new WrtkitError(ErrorCodes.CONTROL_UNAVAILABLE, 'cannot connect to /var/run/wrtkit.sock: ENOENT'));
}

async function run(h: Harness, argv: string[], options: Partial<VoucherCommandContext> = {}): Promise<Run> {
  let out = '';
  let err = '';
  const ctx: VoucherCommandContext = {
    argv,
    platform: h.platform,
    out: (text) => (out += text),
    err: (text) => (err += text),
    call: online(h),
    configDir: '/etc/config',
    uci: uciWith({ db_path: h.dir }),
    json: false,
    ...options,
  };
  const code = await runVoucher(ctx);
  return { code, out, err };
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');
const fields = (line: string) => line.split('\t');

describe('voucher command', () => {
  it('is the default export, with its name and usage', () => {
    expect(voucherCommand).toMatchObject({
      name: 'voucher',
      summary: expect.any(String),
      usage: expect.stringContaining('usage'),
    });
    // defineCommand's brand: what the CLI checks before running a command module
    expect((voucherCommand as unknown as Record<symbol, unknown>)[Symbol.for('wrtkit.command')]).toBe(true);
  });

  it('formats dates like C’s %c', () => {
    expect(cDate(1596509101)).toBe('Tue Aug  4 02:45:01 2020');
    expect(cDate(T0)).toBe('Thu Jan  1 00:00:00 2026');
  });

  it('prints usage for -h, and refuses no verb or an unknown one with exit 2', async () => {
    const h = await harness();
    expect(await run(h, ['-h'])).toMatchObject({ code: 0, out: expect.stringContaining('usage: voucher'), err: '' });
    expect(await run(h, ['list', '--help'])).toMatchObject({ code: 0 });
    expect(await run(h, [])).toMatchObject({ code: 2, out: '', err: expect.stringContaining('usage: voucher') });
    const r = await run(h, ['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^invalid command: frobnicate\n/);
    expect(await run(h, ['list', '--bogus'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown option --bogus') });
  });

  it('add prints the new voucher as Pirania does', async () => {
    const h = await harness();
    const r = await run(h, ['add', 'juan', '60']);
    expect(r).toMatchObject({ code: 0, err: '' });
    const [line] = lines(r.out);
    const v = h.vouchers.list()[0]!;
    expect(fields(line!)).toEqual([v.id, 'juan', v.code, 'xx:xx:xx:xx:xx:xx', 'Thu Jan  1 00:00:00 2026', '60', '-', '1']);
  });

  it('add takes --qty, --permanent, perm, a deadline and --unrestricted', async () => {
    const h = await harness();
    const batch = await run(h, ['add', 'fiesta', '0.5', '--qty', '3']);
    expect(lines(batch.out).map((l) => fields(l)[1])).toEqual(['fiesta-1', 'fiesta-2', 'fiesta-3']);
    expect(lines(batch.out).map((l) => fields(l)[5])).toEqual(['0.5', '0.5', '0.5']);
    const perm = await run(h, ['add', 'school', '--permanent', '--unrestricted']);
    expect(fields(lines(perm.out)[0]!)[5]).toBe('perm');
    const withDeadline = await run(h, ['add', 'later', 'perm', String(T0 + 3600), '--qty=2']);
    expect(withDeadline.code).toBe(0);
    const all = h.vouchers.list();
    expect(all).toHaveLength(6);
    expect(all.filter((v) => v.name.startsWith('later')).every((v) => v.activation_deadline === T0 + 3600)).toBe(true);
    expect(all.find((v) => v.name === 'school')!.unrestricted).toBe(true);
  });

  it.each([
    [['add', 'x']],
    [['add']],
    [['add', 'x', 'abc']],
    [['add', 'x', '0']],
    [['add', 'x', '-5']],
    [['add', 'x', '60', 'tomorrow']],
    [['add', 'x', '60', '1', '2']],
    [['add', 'x', '60', '--qty', '0']],
    [['add', 'x', '60', '--qty', 'many']],
    [['add', 'x', '60', '--qty']],
    [['add', 'x', '60', '--permanent']],
    [['add', '', '60']],
    [['add', 'a\tb', '60']],
    [['list', '--qty', '2']],
  ])('refuses %j with exit 2 and says why', async (argv) => {
    const h = await harness();
    const r = await run(h, argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^voucher: /);
    expect(h.vouchers.list()).toEqual([]);
  });

  it('add with a deadline in the past is refused by the store (exit 1)', async () => {
    const h = await harness();
    expect(await run(h, ['add', 'x', '60', String(T0 - 10)])).toMatchObject({
      code: 1,
      err: expect.stringContaining('is not in the future'),
    });
  });

  it('lists all, active, available and expired vouchers', async () => {
    const h = await harness();
    const [avail, active, expired, dead] = ['avail', 'active', 'expired', 'dead'].map(
      (name) => h.vouchers.create({ name, duration_m: name === 'expired' ? 1 : 60 })[0]!,
    );
    h.vouchers.activate(active!.code, 'aa:bb:cc:dd:ee:01');
    h.vouchers.activate(expired!.code, 'aa:bb:cc:dd:ee:02');
    h.vouchers.invalidate(dead!.id);
    h.clock.advance(120);
    const names = async (verb: string) => lines((await run(h, [verb])).out).map((l) => fields(l)[1]);
    expect((await names('list')).sort()).toEqual(['active', 'avail', 'dead', 'expired']);
    expect(await names('list_active')).toEqual(['active']);
    expect(await names('list_available')).toEqual(['avail']);
    expect(await names('list_expired')).toEqual(['expired']);
    const activeLine = fields(lines((await run(h, ['list_active'])).out)[0]!);
    expect(activeLine).toEqual([active!.id, 'active', active!.code, 'aa:bb:cc:dd:ee:01', cDate(T0), '60', cDate(T0 + 3600), '2']);
    expect(avail).toBeDefined();
    const json = await run(h, ['list_expired', '--json']);
    expect(JSON.parse(json.out)).toEqual([
      expect.objectContaining({ name: 'expired', status: 'expired', expiration_date: T0 + 60 }),
    ]);
    expect(await run(h, ['list', 'extra'])).toMatchObject({ code: 2 });
  });

  it('activate says "Voucher activated!", or Pirania’s message plus the reason', async () => {
    const h = await harness();
    const [v] = h.vouchers.create({ name: 'x', duration_m: 60 });
    expect(await run(h, ['activate', v!.code, 'AA:BB:CC:DD:EE:01'])).toEqual({ code: 0, out: 'Voucher activated!\n', err: '' });
    const used = await run(h, ['activate', v!.code, 'aa:bb:cc:dd:ee:02']);
    expect(used).toEqual({
      code: 1,
      out: `Invalid voucher code '${v!.code}' or invalid MAC 'aa:bb:cc:dd:ee:02'\n`,
      err: `voucher: voucher ${v!.id} is already used\n`,
    });
    const badMac = await run(h, ['activate', 'NOSUCH', 'not-a-mac']);
    expect(badMac.code).toBe(1);
    expect(badMac.out).toBe("Invalid voucher code 'NOSUCH' or invalid MAC 'not-a-mac'\n");
    expect(badMac.err).toContain('invalid MAC');
    const tooLong = await run(h, ['activate', 'A'.repeat(100), 'aa:bb:cc:dd:ee:02']);
    expect(tooLong.code).toBe(1);
    expect(await run(h, ['activate', 'ONLYCODE'])).toMatchObject({ code: 2 });
    const json = await run(h, ['activate', 'NOSUCH', 'aa:bb:cc:dd:ee:03', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ status: 'error', code: 'PIRANIA_ERR_CODE_UNKNOWN' });
  });

  it('deactivate, invalidate and rename: quiet on success, the reason on failure', async () => {
    const h = await harness();
    const [v] = h.vouchers.create({ name: 'x', duration_m: 60 });
    h.vouchers.activate(v!.code, 'aa:bb:cc:dd:ee:01');
    expect(await run(h, ['deactivate', v!.id])).toEqual({ code: 0, out: '', err: '' });
    expect(h.vouchers.get(v!.id)!.mac).toBeUndefined();
    expect(await run(h, ['rename', v!.id, 'maria'])).toEqual({ code: 0, out: '', err: '' });
    expect(await run(h, ['invalidate', v!.id, '--json'])).toEqual({ code: 0, out: '{\n  "status": "ok"\n}\n', err: '' });
    expect(h.vouchers.get(v!.id)).toMatchObject({ name: 'maria', invalidation_date: T0 });
    expect(await run(h, ['invalidate', 'nope42'])).toEqual({ code: 1, out: '', err: 'voucher: no voucher with id "nope42"\n' });
    expect(await run(h, ['deactivate', '../x'])).toMatchObject({ code: 2, err: expect.stringContaining('invalid voucher id') });
    expect(await run(h, ['deactivate'])).toMatchObject({ code: 2, err: expect.stringContaining('missing arguments') });
    expect(await run(h, ['rename', v!.id, ''])).toMatchObject({ code: 2 });
  });

  it('is_mac_authorized prints true or false with exit 0 or 1; show_authorized_macs lists them', async () => {
    const h = await harness();
    const [a, b] = h.vouchers.create({ name: 'x', qty: 2, duration_m: 60 });
    h.vouchers.activate(a!.code, 'aa:bb:cc:dd:ee:02');
    h.vouchers.activate(b!.code, 'aa:bb:cc:dd:ee:01');
    expect(await run(h, ['is_mac_authorized', 'AA:BB:CC:DD:EE:01'])).toEqual({ code: 0, out: 'true\n', err: '' });
    expect(await run(h, ['is_mac_authorized', 'aa:bb:cc:dd:ee:09'])).toEqual({ code: 1, out: 'false\n', err: '' });
    expect(await run(h, ['is_mac_authorized', 'bogus'])).toMatchObject({
      code: 2,
      out: '',
      err: expect.stringContaining('invalid MAC'),
    });
    expect(await run(h, ['show_authorized_macs'])).toEqual({ code: 0, out: 'aa:bb:cc:dd:ee:01\naa:bb:cc:dd:ee:02\n', err: '' });
    expect(JSON.parse((await run(h, ['show_authorized_macs'], { json: true })).out)).toEqual([
      'aa:bb:cc:dd:ee:01',
      'aa:bb:cc:dd:ee:02',
    ]);
  });

  it('add --json prints the new vouchers', async () => {
    const h = await harness();
    const r = await run(h, ['add', 'x', '60', '--qty', '2', '--json']);
    const reply = JSON.parse(r.out);
    expect(reply.status).toBe('ok');
    expect(reply.vouchers.map((v: { name: string }) => v.name)).toEqual(['x-1', 'x-2']);
  });

  it('reports other failures with exit 1', async () => {
    const h = await harness();
    const call = () => Promise.reject(new WrtkitError(ErrorCodes.METHOD_FAILED, 'pirania.list_vouchers failed: disk on fire'));
    expect(await run(h, ['list'], { call })).toEqual({
      code: 1,
      out: '',
      err: 'voucher: pirania.list_vouchers failed: disk on fire [WRTKIT_ERR_METHOD_FAILED]\n',
    });
  });
});

describe('voucher command with the host down', () => {
  it('works on the store in db_path, and says the firewall follows when the host starts', async () => {
    const h = await harness();
    const add = await run(h, ['add', 'offline', '60'], { call: hostDown });
    expect(add.code).toBe(0);
    expect(add.err).toMatch(
      /^note: the wrtkit host is not running; changed the store in .* directly\. The firewall is brought in line/,
    );
    const files = readdirSync(h.dir).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const stored = JSON.parse(readFileSync(join(h.dir, files[0]!), 'utf8'));
    expect(stored).toMatchObject({ name: 'offline', duration_m: 60, mod_counter: 1 });
    const listed = await run(h, ['list'], { call: hostDown });
    expect(listed).toMatchObject({ code: 0, err: '' });
    expect(fields(lines(listed.out)[0]!).slice(0, 3)).toEqual([stored.id, 'offline', stored.code]);
    const activated = await run(h, ['activate', stored.code, 'aa:bb:cc:dd:ee:01'], { call: hostDown });
    expect(activated.out).toBe('Voucher activated!\n');
    expect(activated.err).toContain('note:');
    expect(await run(h, ['is_mac_authorized', 'aa:bb:cc:dd:ee:01'], { call: hostDown })).toMatchObject({
      code: 0,
      out: 'true\n',
    });
    // and the host, starting, finds it
    expect(h.open().isMacAuthorized('aa:bb:cc:dd:ee:01')).toBe(true);
  });

  it('does not prune, reports skipped files, and refuses as the host would', async () => {
    const h = await harness();
    mkdirSync(h.dir, { recursive: true });
    writeFileSync(join(h.dir, 'broken.json'), '{');
    writeFileSync(
      join(h.dir, 'old001.json'),
      JSON.stringify({ id: 'old001', name: 'old', code: 'OLDOLD', creation_date: 1, invalidation_date: 2, mod_counter: 2 }),
    );
    const r = await run(h, ['list'], { call: hostDown });
    expect(r.err).toBe(`voucher: skipped ${join(h.dir, 'broken.json')}: invalid JSON\n`);
    expect(lines(r.out)).toHaveLength(1);
    expect(readdirSync(h.dir).sort()).toEqual(['broken.json', 'old001.json']);
    expect(await run(h, ['invalidate', 'nope42'], { call: hostDown })).toMatchObject({
      code: 1,
      err: expect.stringContaining('nope42'),
    });
  });

  it('also when the plugin is disabled or not loaded, but not for a missing method', async () => {
    const h = await harness();
    const remote = (code: string, details?: object) => () =>
      Promise.reject(Object.assign(new Error('remote'), { remote: { code, message: 'remote says no', details } }));
    expect(await run(h, ['list'], { call: remote(ErrorCodes.PLUGIN_DISABLED) })).toMatchObject({ code: 0 });
    expect(await run(h, ['list'], { call: remote(ErrorCodes.METHOD_NOT_FOUND, { object: 'pirania' }) })).toMatchObject({
      code: 0,
    });
    expect(
      await run(h, ['list'], { call: remote(ErrorCodes.METHOD_NOT_FOUND, { object: 'pirania', method: 'list_vouchers' }) }),
    ).toMatchObject({ code: 1, err: 'voucher: remote says no [WRTKIT_ERR_METHOD_NOT_FOUND]\n' });
  });

  it('reads db_path and prune days from /etc/config/pirania, falling back to the schema defaults', () => {
    const defaults = schema.properties.base_config.properties;
    expect(STORE_DEFAULTS).toEqual({
      db_path: defaults.db_path.default,
      prune_expired_for_days: defaults.prune_expired_for_days.default,
    });
    expect(readStoreConfig(uciWith(undefined))).toEqual({ ...STORE_DEFAULTS, ignored: [] });
    expect(readStoreConfig(uciWith({ db_path: '/tmp/v', prune_expired_for_days: '7' }))).toEqual({
      db_path: '/tmp/v',
      prune_expired_for_days: 7,
      ignored: [],
    });
    expect(readStoreConfig(uciWith({ db_path: 'relative', prune_expired_for_days: '0' }))).toEqual({
      ...STORE_DEFAULTS,
      ignored: ['db_path', 'prune_expired_for_days'],
    });
  });

  it('warns about an invalid option it ignored', async () => {
    const h = await harness();
    const dir = tempDir();
    const r = await run(h, ['list'], { call: hostDown, uci: uciWith({ db_path: dir, prune_expired_for_days: 'x' }) });
    expect(r).toEqual({
      code: 0,
      out: '',
      err: 'voucher: pirania.base_config.prune_expired_for_days is invalid; using the default\n',
    });
  });
});
