// The `voucher` CLI and the `pirania` methods through the real thing: the wrtkit CLI
// bundle runs the plugin's command, which calls the host over its control socket; the
// host serves Pirania's object from the store on disk. One test per verb and per method,
// and the refusals a user meets (bad MAC, bad duration, unknown id). The unit tests
// (test/commands, test/methods.test.ts) cover the corners; this shows the parts joined.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LabHost, labSupported } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bundles, buildBundles, startRouterHost } from './portal-lab.js';

const nftPresent = spawnSync('nft', ['--version'], { stdio: 'ignore' }).status === 0;
const support = labSupported();
const why = !support.ok ? support.reason : !nftPresent ? 'nft is not installed' : '';

const MAC = '02:aa:bb:cc:dd:01';
const LINE =
  /^([A-Za-z0-9]{6})\t([^\t]+)\t([A-Z]{6})\t([0-9a-fx:]{17})\t(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\t(perm|[\d.]+)\t(-|.+)\t(\d+)$/;

interface Line {
  id: string;
  name: string;
  code: string;
  mac: string;
  duration: string;
  expires: string;
  modCounter: number;
}
const parse = (stdout: string): Line[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = LINE.exec(l);
      if (!m) throw new Error(`not a voucher line: ${JSON.stringify(l)}`);
      return { id: m[1]!, name: m[2]!, code: m[3]!, mac: m[4]!, duration: m[6]!, expires: m[7]!, modCounter: Number(m[8]) };
    });

describe.skipIf(why !== '')(`voucher CLI and pirania methods on a running host${why ? ` (skipped: ${why})` : ''}`, () => {
  const lab = useLab({ nodes: { router: {} } });
  let host: LabHost;
  let root: string;
  let bundles: Bundles;

  beforeAll(async () => {
    root = lab().tempDir('router-root');
    bundles = buildBundles('cli');
    host = await startRouterHost(lab(), root, bundles);
  });
  afterAll(async () => {
    await host?.stop().catch(() => undefined);
  });

  const voucher = (...args: string[]) => host.cli(['--socket', host.socket, 'voucher', ...args]);
  const call = (method: string, args: Record<string, unknown> = {}) => host.call('pirania', method, args);

  describe('voucher CLI, verb by verb', () => {
    let a: Line;
    let b: Line;

    it('add: one voucher per line; fractions of minutes; perm; --qty names them name-1..N', async () => {
      const one = await voucher('add', 'ana', '60');
      expect(one.stderr).toBe('');
      expect(one.exitCode).toBe(0);
      [a] = parse(one.stdout) as [Line];
      expect(a).toMatchObject({ name: 'ana', mac: 'xx:xx:xx:xx:xx:xx', duration: '60', expires: '-', modCounter: 1 });
      const many = await voucher('add', 'batch', '0.5', '--qty', '3');
      expect(parse(many.stdout).map((l) => [l.name, l.duration])).toEqual([
        ['batch-1', '0.5'],
        ['batch-2', '0.5'],
        ['batch-3', '0.5'],
      ]);
      const perm = await voucher('add', 'staff', 'perm');
      [b] = parse(perm.stdout) as [Line];
      expect(b.duration).toBe('perm');
      // the file is Pirania's: <db_path>/<id>.json with its fields
      const file = JSON.parse(readFileSync(join(root, 'pirania/vouchers', `${a.id}.json`), 'utf8')) as Record<string, unknown>;
      expect(file).toMatchObject({ id: a.id, name: 'ana', code: a.code, duration_m: 60, mod_counter: 1 });
    });

    it('add refuses a bad duration, with exit status 2 and the reason', async () => {
      for (const bad of ['-5', 'soon', '0x10']) {
        const r = await voucher('add', 'x', bad);
        expect(r.exitCode, bad).toBe(2);
        expect(r.stderr, bad).toMatch(/duration/);
      }
    });

    it('list: every voucher (oldest first; within one second by id)', async () => {
      const r = await voucher('list');
      expect(
        parse(r.stdout)
          .map((l) => l.name)
          .sort(),
      ).toEqual(['ana', 'batch-1', 'batch-2', 'batch-3', 'staff']);
    });

    it('activate binds a code to a MAC (any case, any separator Pirania takes); a bad MAC is refused', async () => {
      const bad = await voucher('activate', a.code, 'not-a-mac');
      expect(bad.exitCode).not.toBe(0);
      expect(bad.stderr).toMatch(/MAC/i);
      const r = await voucher('activate', a.code.toLowerCase(), MAC.toUpperCase());
      expect(r.exitCode, r.stderr).toBe(0);
      const again = await voucher('activate', a.code, '02:aa:bb:cc:dd:02');
      expect(again.exitCode).toBe(1);
    });

    it('list_active / list_available / list_expired split by status', async () => {
      const active = parse((await voucher('list_active')).stdout);
      expect(active.map((l) => [l.id, l.mac])).toEqual([[a.id, MAC]]);
      expect(active[0]?.expires).not.toBe('-');
      const available = parse((await voucher('list_available')).stdout).map((l) => l.name);
      expect(available.sort()).toEqual(['batch-1', 'batch-2', 'batch-3', 'staff']);
      expect((await voucher('list_expired')).stdout.trim()).toBe('');
    });

    it('is_mac_authorized: true/exit 0, false/exit 1', async () => {
      const yes = await voucher('is_mac_authorized', MAC);
      expect([yes.stdout.trim(), yes.exitCode]).toEqual(['true', 0]);
      const no = await voucher('is_mac_authorized', '02:aa:bb:cc:dd:99');
      expect([no.stdout.trim(), no.exitCode]).toEqual(['false', 1]);
    });

    it('show_authorized_macs: one per line', async () => {
      expect((await voucher('show_authorized_macs')).stdout.trim().split('\n')).toEqual([MAC]);
    });

    it('rename', async () => {
      expect((await voucher('rename', b.id, 'staff-2026')).exitCode).toBe(0);
      expect(parse((await voucher('list')).stdout).find((l) => l.id === b.id)?.name).toBe('staff-2026');
    });

    it('deactivate ends access; the voucher may be used again', async () => {
      expect((await voucher('deactivate', a.id)).exitCode).toBe(0);
      expect((await voucher('is_mac_authorized', MAC)).stdout.trim()).toBe('false');
      expect(parse((await voucher('list_available')).stdout).map((l) => l.id)).toContain(a.id);
    });

    it('invalidate ends it for good; an unknown id is refused', async () => {
      expect((await voucher('invalidate', b.id)).exitCode).toBe(0);
      const after = parse((await voucher('list')).stdout).find((l) => l.id === b.id);
      expect(after?.modCounter).toBeGreaterThan(1);
      const again = await voucher('activate', b.code, MAC);
      expect(again.exitCode).toBe(1);
      const unknown = await voucher('invalidate', 'nosuch');
      expect(unknown.exitCode).toBe(1);
      expect(unknown.stderr).toMatch(/nosuch/);
    });

    it('--json prints the method reply; --help prints the usage', async () => {
      const r = await host.cli(['--socket', host.socket, '--json', 'voucher', 'list_available']);
      const parsed = JSON.parse(r.stdout) as unknown;
      expect(Array.isArray(parsed) || typeof parsed === 'object').toBe(true);
      const help = await voucher('--help');
      expect(help.exitCode).toBe(0);
      expect(help.stdout).toMatch(/usage: voucher/);
    });
  });

  describe('pirania methods, as Pirania answers them', () => {
    it('get_portal_config / set_portal_config (writes /etc/config/pirania and the host reloads)', async () => {
      expect(await call('get_portal_config')).toEqual({ status: 'ok', activated: true, with_vouchers: true });
      expect(await call('set_portal_config', { activated: false, with_vouchers: true })).toEqual({ status: 'ok' });
      expect(readFileSync(join(root, 'etc/config/pirania'), 'utf8')).toMatch(/option enabled '0'/);
      expect(await call('get_portal_config')).toMatchObject({ activated: false });
      await host.waitForLog(/portal disabled/);
      expect(await call('set_portal_config', { activated: true, with_vouchers: true })).toEqual({ status: 'ok' });
      expect(await call('get_portal_config')).toMatchObject({ activated: true });
    });

    it('show_url / change_url', async () => {
      expect(await call('show_url')).toEqual({ status: 'ok', url: 'http://thisnode.info:59080/' });
      expect(await call('change_url', { url: 'http://portal.example.net/' })).toMatchObject({ status: 'ok' });
      expect(await call('show_url')).toEqual({ status: 'ok', url: 'http://portal.example.net/' });
      await expect(call('change_url', { url: 'javascript:alert(1)' })).rejects.toThrow(/INVALID_ARGUMENT/);
    });

    it('add_vouchers / list_vouchers / rename / invalidate', async () => {
      const added = (await call('add_vouchers', { name: 'm', qty: 2, duration_m: 30 })) as { vouchers: Array<{ id: string }> };
      expect(added.vouchers).toHaveLength(2);
      const id = added.vouchers[0]!.id;
      expect(await call('rename', { id, name: 'renamed' })).toEqual({ status: 'ok' });
      expect(await call('invalidate', { id })).toEqual({ status: 'ok' });
      const listed = (await call('list_vouchers')) as {
        status: string;
        vouchers: Array<{ id: string; name: string; status: string }>;
      };
      expect(listed.status).toBe('ok');
      expect(listed.vouchers.find((v) => v.id === id)).toMatchObject({ name: 'renamed', status: 'invalidated' });
      expect(await call('rename', { id: 'nosuch', name: 'x' })).toMatchObject({ status: 'error' });
      await expect(call('add_vouchers', { name: 'm', qty: 0 })).rejects.toThrow(/qty/);
      await expect(call('add_vouchers', { name: 'm', qty: 1, duration_m: -1 })).rejects.toThrow(/duration_m/);
    });

    it('activate / is_mac_authorized / show_authorized_macs / deactivate', async () => {
      const [v] = (
        (await call('add_vouchers', { name: 'n', qty: 1, duration_m: 30 })) as { vouchers: Array<{ id: string; code: string }> }
      ).vouchers;
      expect(await call('activate', { code: v!.code, mac: '02:aa:bb:cc:dd:05' })).toMatchObject({ status: 'ok' });
      expect(await call('is_mac_authorized', { mac: '02:AA:BB:CC:DD:05' })).toEqual({ status: 'ok', authorized: true });
      expect(((await call('show_authorized_macs')) as { macs: string[] }).macs).toContain('02:aa:bb:cc:dd:05');
      expect(await call('deactivate', { id: v!.id })).toEqual({ status: 'ok' });
      expect(await call('is_mac_authorized', { mac: '02:aa:bb:cc:dd:05' })).toEqual({ status: 'ok', authorized: false });
      expect(await call('activate', { code: v!.code, mac: 'zz' })).toMatchObject({ status: 'error' });
    });

    it('get_portal_page_content / set_portal_page_content', async () => {
      expect(await call('set_portal_page_content', { title: 'Red Libre', main_text: 'Hola' })).toEqual({ status: 'ok' });
      expect(await call('get_portal_page_content')).toMatchObject({ title: 'Red Libre', main_text: 'Hola' });
    });

    it('status', async () => {
      expect(await call('status')).toMatchObject({ status: 'ok', enabled: true, gating: true });
    });
  });
});
