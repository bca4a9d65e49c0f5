import { join } from 'node:path';
import { ErrorCodes, MethodRegistry } from '@wrtkit/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT } from '../src/content.js';
import { createPiraniaMethods, type PiraniaMethodsDeps } from '../src/methods.js';
import { PiraniaErrors } from '../src/vouchers/errors.js';
import { T0, harness, tempDir } from './vouchers/helpers.js';

async function setup() {
  const h = await harness();
  const calls: unknown[] = [];
  const config = { enabled: false, with_vouchers: true };
  let url = 'http://thisnode.info:59080/';
  const contentPath = join(tempDir(), 'content.json');
  const deps: PiraniaMethodsDeps = {
    vouchers: h.vouchers,
    portalConfig: () => config,
    setPortalConfig: (change) => {
      calls.push(['setPortalConfig', change]);
      config.enabled = change.activated;
    },
    portalUrl: () => url,
    setPortalUrl: (next) => {
      calls.push(['setPortalUrl', next]);
      url = next;
    },
    contentFs: h.platform.fs,
    contentPath: () => contentPath,
  };
  const table = createPiraniaMethods(deps);
  // The host's own dispatch: schemas are checked exactly as for ubus and the control socket.
  const registry = new MethodRegistry();
  registry.register('pirania', table);
  const call = (method: string, args: Record<string, unknown> = {}) => registry.invoke('pirania', method, args);
  /** The host's refusal of arguments that break the schema. */
  const refused = async (method: string, args: Record<string, unknown>) => {
    await expect(call(method, args)).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
  };
  return { h, calls, table, call, refused };
}

describe('pirania methods', () => {
  it('get_portal_config and set_portal_config', async () => {
    const { call, calls, refused } = await setup();
    expect(await call('get_portal_config')).toEqual({ status: 'ok', activated: false, with_vouchers: true });
    expect(await call('set_portal_config', { activated: true, with_vouchers: true })).toEqual({ status: 'ok' });
    expect(calls).toEqual([['setPortalConfig', { activated: true }]]);
    expect(await call('get_portal_config')).toEqual({ status: 'ok', activated: true, with_vouchers: true });
    expect(await call('set_portal_config', { activated: false, with_vouchers: false })).toEqual({
      status: 'error',
      message: 'with_vouchers=false is not supported yet',
    });
    expect(calls).toHaveLength(1);
    await refused('set_portal_config', { activated: true });
    await refused('set_portal_config', { activated: 1, with_vouchers: true });
    await refused('set_portal_config', { activated: true, with_vouchers: true, extra: 1 });
    await refused('get_portal_config', { anything: 1 });
  });

  it('show_url and change_url', async () => {
    const { call, calls, refused } = await setup();
    expect(await call('show_url')).toEqual({ status: 'ok', url: 'http://thisnode.info:59080/' });
    expect(await call('change_url', { url: 'https://portal.example.org/' })).toEqual({
      status: 'ok',
      url: 'https://portal.example.org/',
    });
    expect(calls).toEqual([['setPortalUrl', 'https://portal.example.org/']]);
    expect(await call('show_url')).toEqual({ status: 'ok', url: 'https://portal.example.org/' });
    for (const url of ['ftp://x', 'thisnode.info', 'http://a b', 'http://x/"><script>', '']) await refused('change_url', { url });
    await refused('change_url', {});
  });

  it('add_vouchers creates and answers ids and codes', async () => {
    const { call } = await setup();
    const reply = (await call('add_vouchers', { name: 'fiesta', qty: 3, duration_m: 60 })) as {
      vouchers: Array<{ id: string; code: string }>;
    };
    expect(reply).toEqual({ status: 'ok', vouchers: expect.any(Array) });
    expect(reply.vouchers).toHaveLength(3);
    for (const v of reply.vouchers)
      expect(v).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9]{6}$/), code: expect.stringMatching(/^[A-Z]{6}$/) });
    expect(await call('add_vouchers', { name: 'p', qty: 1, permanent: true, unrestricted: true })).toMatchObject({
      status: 'ok',
    });
    // LimeApp sends null for fields left empty
    expect(
      await call('add_vouchers', { name: 'n', qty: 1, duration_m: 10, activation_deadline: null, permanent: false }),
    ).toMatchObject({ status: 'ok' });
    expect(await call('add_vouchers', { name: 'p2', qty: 1, duration_m: null, permanent: true })).toMatchObject({ status: 'ok' });
  });

  it('add_vouchers: the schema refuses malformed input, the store refuses what is out of range', async () => {
    const { call, refused, h } = await setup();
    for (const args of [
      { name: 'x' },
      { qty: 1, duration_m: 5 },
      { name: '', qty: 1, duration_m: 5 },
      { name: 'x'.repeat(101), qty: 1, duration_m: 5 },
      { name: 'x', qty: 0, duration_m: 5 },
      { name: 'x', qty: 1001, duration_m: 5 },
      { name: 'x', qty: 1.5, duration_m: 5 },
      { name: 'x', qty: '1', duration_m: 5 },
      { name: 'x', qty: 1, duration_m: -1 },
      { name: 'x', qty: 1, duration_m: '60' },
      { name: 'x', qty: 1, duration_m: 5, activation_deadline: 1.5 },
      { name: 'x', qty: 1, duration_m: 5, permanent: 'yes' },
      { name: 'x', qty: 1, duration_m: 5, note: 'no such field' },
    ]) {
      await refused('add_vouchers', args);
    }
    expect(await call('add_vouchers', { name: 'x', qty: 1 })).toEqual({
      status: 'error',
      message: 'duration_m is required unless the voucher is permanent',
      code: PiraniaErrors.ARGUMENT_INVALID,
    });
    expect(await call('add_vouchers', { name: 'x', qty: 1, duration_m: 0 })).toMatchObject({
      status: 'error',
      code: PiraniaErrors.ARGUMENT_INVALID,
    });
    expect(await call('add_vouchers', { name: 'x', qty: 1, duration_m: 5, activation_deadline: T0 - 1 })).toMatchObject({
      status: 'error',
      message: expect.stringContaining('not in the future'),
    });
    expect(h.vouchers.list()).toEqual([]);
  });

  it('list_vouchers reports every voucher with Pirania’s fields and its status', async () => {
    const { call, h } = await setup();
    const [timed] = h.vouchers.create({ name: 'juan', duration_m: 60, activation_deadline: T0 + 999 });
    const [perm] = h.vouchers.create({ name: 'school', permanent: true, unrestricted: true });
    h.vouchers.activate(timed!.code, 'aa:bb:cc:dd:ee:01');
    const reply = (await call('list_vouchers')) as { status: string; vouchers: unknown[] };
    expect(reply.status).toBe('ok');
    expect(reply.vouchers).toEqual(
      expect.arrayContaining([
        {
          id: timed!.id,
          name: 'juan',
          code: timed!.code,
          mac: 'aa:bb:cc:dd:ee:01',
          duration_m: 60,
          creation_date: T0,
          activation_date: T0,
          expiration_date: T0 + 3600,
          is_active: true,
          permanent: false,
          activation_deadline: T0 + 999,
          author_node: 'node1',
          status: 'active',
          unrestricted: false,
          mod_counter: 2,
        },
        {
          id: perm!.id,
          name: 'school',
          code: perm!.code,
          creation_date: T0,
          is_active: false,
          permanent: true,
          author_node: 'node1',
          status: 'available',
          unrestricted: true,
          mod_counter: 1,
        },
      ]),
    );
    expect(reply.vouchers).toHaveLength(2);
  });

  it('rename and invalidate answer ok, or an error naming the id', async () => {
    const { call, refused, h } = await setup();
    const [v] = h.vouchers.create({ name: 'x', duration_m: 60 });
    expect(await call('rename', { id: v!.id, name: 'maria' })).toEqual({ status: 'ok' });
    expect(h.vouchers.get(v!.id)!.name).toBe('maria');
    expect(await call('invalidate', { id: v!.id })).toEqual({ status: 'ok' });
    expect(h.vouchers.statusOf(h.vouchers.get(v!.id)!)).toBe('invalidated');
    for (const method of ['rename', 'invalidate', 'deactivate']) {
      expect(await call(method, { id: 'nope42', ...(method === 'rename' ? { name: 'y' } : {}) })).toEqual({
        status: 'error',
        message: 'no voucher with id "nope42"',
        code: PiraniaErrors.ID_UNKNOWN,
      });
      await refused(method, { id: '../../etc/passwd', ...(method === 'rename' ? { name: 'y' } : {}) });
    }
    await refused('rename', { id: v!.id, name: '' });
    await refused('rename', { id: v!.id });
  });

  it('activate, deactivate, is_mac_authorized, show_authorized_macs', async () => {
    const { call, refused, h } = await setup();
    const [v] = h.vouchers.create({ name: 'x', duration_m: 60 });
    expect(await call('is_mac_authorized', { mac: 'aa:bb:cc:dd:ee:01' })).toEqual({ status: 'ok', authorized: false });
    expect(await call('activate', { code: v!.code, mac: 'AA:BB:CC:DD:EE:01' })).toMatchObject({
      status: 'ok',
      voucher: { id: v!.id, mac: 'aa:bb:cc:dd:ee:01', status: 'active' },
    });
    expect(await call('is_mac_authorized', { mac: 'aa:bb:cc:dd:ee:01' })).toEqual({ status: 'ok', authorized: true });
    expect(await call('show_authorized_macs')).toEqual({ status: 'ok', macs: ['aa:bb:cc:dd:ee:01'] });
    expect(await call('activate', { code: v!.code, mac: 'aa:bb:cc:dd:ee:02' })).toMatchObject({
      status: 'error',
      code: PiraniaErrors.CODE_USED,
    });
    expect(await call('activate', { code: 'NOSUCH', mac: 'aa:bb:cc:dd:ee:02' })).toMatchObject({
      code: PiraniaErrors.CODE_UNKNOWN,
    });
    expect(await call('activate', { code: v!.code, mac: 'nope' })).toMatchObject({ code: PiraniaErrors.MAC_INVALID });
    expect(await call('is_mac_authorized', { mac: 'nope' })).toMatchObject({ status: 'error', code: PiraniaErrors.MAC_INVALID });
    expect(await call('deactivate', { id: v!.id })).toEqual({ status: 'ok' });
    expect(await call('show_authorized_macs')).toEqual({ status: 'ok', macs: [] });
    await refused('activate', { code: v!.code });
    await refused('activate', { code: '', mac: 'aa:bb:cc:dd:ee:01' });
    await refused('activate', { code: 'A'.repeat(65), mac: 'aa:bb:cc:dd:ee:01' });
    await refused('is_mac_authorized', {});
  });

  it('get_portal_page_content and set_portal_page_content', async () => {
    const { call, refused } = await setup();
    expect(await call('get_portal_page_content')).toEqual(DEFAULT_CONTENT);
    expect(await call('set_portal_page_content', { title: 'Quintana Libre', background_color: '#000' })).toEqual({
      status: 'ok',
    });
    expect(await call('set_portal_page_content', { main_text: 'Hola' })).toEqual({ status: 'ok' });
    expect(await call('get_portal_page_content')).toEqual({
      ...DEFAULT_CONTENT,
      title: 'Quintana Libre',
      main_text: 'Hola',
      background_color: '#000',
    });
    expect(await call('set_portal_page_content', { link_url: 'javascript:alert(1)' })).toEqual({
      status: 'error',
      message: 'link_url must be an http(s) URL',
      code: PiraniaErrors.CONTENT_INVALID,
    });
    await refused('set_portal_page_content', { title: 5 });
    await refused('set_portal_page_content', { colour: '#fff' });
    await refused('set_portal_page_content', { background_color: '#ffffff00ff' });
  });

  it('reads are read, changes are write', async () => {
    const { table } = await setup();
    const access = Object.fromEntries(Object.entries(table).map(([name, spec]) => [name, spec.access]));
    expect(access).toEqual({
      get_portal_config: 'read',
      set_portal_config: 'write',
      show_url: 'public',
      change_url: 'write',
      add_vouchers: 'write',
      list_vouchers: 'read',
      rename: 'write',
      invalidate: 'write',
      get_portal_page_content: 'public',
      set_portal_page_content: 'write',
      activate: 'write',
      deactivate: 'write',
      is_mac_authorized: 'read',
      show_authorized_macs: 'read',
    });
    for (const spec of Object.values(table)) expect(spec.schema).toMatchObject({ type: 'object', additionalProperties: false });
  });
});
