import { describe, expect, it } from 'vitest';
import { method } from '../../src/control/methods.js';
import { ErrorCodes, WrtkitError } from '../../src/errors.js';
import { createHostMethods } from '../../src/host/host-methods.js';
import type { Host } from '../../src/host/host.js';
import { rpcdAcl, rpcdAclFiles } from '../../src/ubus/acl.js';
import { UbusStatusError } from '../../src/ubus/client.js';
import { BlobmsgType, Status } from '../../src/ubus/constants.js';
import { dispatchInvoke, replies, signatureOf, statusOf } from '../../src/ubus/objects.js';
import { ubusAllowed } from '../../src/ubus/scoped.js';
import { MethodRegistry } from '../../src/control/methods.js';
import { HostapdService } from '../../src/host/hostapd-service.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/engines.js';

const table = {
  set: method(
    {
      access: 'write',
      schema: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string' },
          count: { type: 'integer' },
          ratio: { type: 'number' },
          on: { type: 'boolean' },
          tags: { type: 'array' },
          opts: { type: 'object' },
          any: {},
        },
      },
    },
    (args) => ({ ok: args.name }),
  ),
  list: method({ access: 'read', schema: { type: 'object' } }, () => [1, 2]),
  parts: method({ access: 'read', schema: { type: 'object' } }, () => replies({ a: 1 }, { b: 2 })),
  nothing: method({ access: 'read', schema: { type: 'object' } }, () => undefined),
  denied: method({ schema: { type: 'object' } }, () => {
    throw new WrtkitError(ErrorCodes.PERMISSION, 'no');
  }),
  broken: method({ schema: { type: 'object' } }, () => {
    throw new Error('bug');
  }),
  busy: method({ schema: { type: 'object' } }, () => {
    throw new UbusStatusError(Status.NO_DATA, 'nothing yet');
  }),
};

describe('ubus objects from method tables', () => {
  it('derive the signature ubusd stores from each method schema', () => {
    expect(signatureOf(table).set).toEqual({
      name: BlobmsgType.STRING,
      count: BlobmsgType.INT32,
      ratio: BlobmsgType.DOUBLE,
      on: BlobmsgType.INT8,
      tags: BlobmsgType.ARRAY,
      opts: BlobmsgType.TABLE,
      any: BlobmsgType.UNSPEC,
    });
    expect(signatureOf(table).list).toEqual({});
  });

  it('answer with data and the right status for each outcome', async () => {
    const call = (m: string, args: Record<string, unknown> = {}) => dispatchInvoke(table, 'demo', m, args);
    expect(await call('set', { name: 'x' })).toEqual({ status: Status.OK, replies: [{ ok: 'x' }] });
    expect(await call('set', {})).toEqual({ status: Status.INVALID_ARGUMENT, replies: [] });
    expect(await call('set', { name: 1 })).toEqual({ status: Status.INVALID_ARGUMENT, replies: [] });
    expect(await call('list')).toEqual({ status: Status.OK, replies: [{ result: [1, 2] }] });
    expect(await call('parts')).toEqual({ status: Status.OK, replies: [{ a: 1 }, { b: 2 }] });
    expect(await call('nothing')).toEqual({ status: Status.OK, replies: [] });
    expect(await call('nope')).toEqual({ status: Status.METHOD_NOT_FOUND, replies: [] });
    expect((await call('denied')).status).toBe(Status.PERMISSION_DENIED);
    expect((await call('broken')).status).toBe(Status.UNKNOWN_ERROR);
    expect((await call('busy')).status).toBe(Status.NO_DATA);
  });

  it('map coded errors to ubus statuses', () => {
    expect(statusOf(new WrtkitError(ErrorCodes.HOOK_TIMEOUT, 't'))).toBe(Status.TIMEOUT);
    expect(statusOf(new WrtkitError(ErrorCodes.UNSUPPORTED, 'u'))).toBe(Status.NOT_SUPPORTED);
    expect(statusOf(new WrtkitError(ErrorCodes.PLUGIN_DISABLED, 'd'))).toBe(Status.NOT_FOUND);
    expect(statusOf(new Error('x'))).toBe(Status.UNKNOWN_ERROR);
  });
});

describe('plugin ubus permissions', () => {
  const allowed = ['hostapd.*', 'network.interface.wan:status', 'event:dynapoint.*'];
  it('allow calls and subscriptions by object and method globs', () => {
    expect(ubusAllowed(allowed, 'call', 'hostapd.wlan0', 'bss_transition_request')).toBe(true);
    expect(ubusAllowed(allowed, 'call', 'hostapd.wlan0')).toBe(true);
    expect(ubusAllowed(allowed, 'call', 'network.interface.wan', 'status')).toBe(true);
    expect(ubusAllowed(allowed, 'call', 'network.interface.wan', 'down')).toBe(false);
    expect(ubusAllowed(allowed, 'call', 'network.interface.wan')).toBe(false);
    expect(ubusAllowed(allowed, 'call', 'system', 'reboot')).toBe(false);
  });
  it('allow events only through event: entries', () => {
    expect(ubusAllowed(allowed, 'event', 'dynapoint.internet')).toBe(true);
    expect(ubusAllowed(allowed, 'event', 'hostapd.wlan0')).toBe(false);
    expect(ubusAllowed(['*'], 'event', 'x')).toBe(false);
  });
});

describe('rpcd ACLs', () => {
  it('group each owner, read methods under read and all under write', () => {
    const registry = new MethodRegistry();
    registry.register('demo', table, 'demo');
    registry.register('demo.sub', { get: table.list }, 'demo');
    const acl = rpcdAcl(registry.describe());
    expect(acl['wrtkit-demo']).toEqual({
      description: 'wrtkit plugin demo',
      read: { ubus: { demo: ['list', 'nothing', 'parts'], 'demo.sub': ['get'] }, uci: ['demo'] },
      write: {
        ubus: { demo: ['broken', 'busy', 'denied', 'list', 'nothing', 'parts', 'set'], 'demo.sub': ['get'] },
        uci: ['demo'],
      },
    });
  });

  it('grant public methods to unauthenticated sessions, in the file of the plugin serving them', () => {
    const registry = new MethodRegistry();
    const open = (access: 'public' | 'read' | 'write') => method({ access, schema: { type: 'object' } }, () => ({}));
    registry.register(
      'pirania',
      { get_portal_page: open('public'), auth_voucher: open('public'), list_vouchers: open('read'), add_vouchers: open('write') },
      'pirania-nftables',
    );
    registry.register('pirania-nftables.admin', { rotate: open('write') }, 'pirania-nftables');
    registry.register('demo', table, 'demo');
    registry.register('portal', { page: open('public') }, 'other');

    const files = rpcdAclFiles(registry.describe());
    expect(Object.keys(files).sort()).toEqual(['wrtkit-demo', 'wrtkit-other', 'wrtkit-pirania-nftables']);
    expect(files['wrtkit-pirania-nftables']).toEqual({
      'wrtkit-pirania-nftables': {
        description: 'wrtkit plugin pirania-nftables',
        read: { ubus: { pirania: ['auth_voucher', 'get_portal_page', 'list_vouchers'] }, uci: ['pirania-nftables'] },
        write: {
          ubus: {
            pirania: ['add_vouchers', 'auth_voucher', 'get_portal_page', 'list_vouchers'],
            'pirania-nftables.admin': ['rotate'],
          },
          uci: ['pirania-nftables'],
        },
      },
      unauthenticated: {
        description: 'wrtkit plugin pirania-nftables: methods anyone may call, without logging in',
        read: { ubus: { pirania: ['auth_voucher', 'get_portal_page'] } },
      },
    });
    expect(files['wrtkit-other']?.unauthenticated?.read.ubus).toEqual({ portal: ['page'] });
    // A plugin without public methods grants nothing to strangers.
    expect(Object.keys(files['wrtkit-demo'] ?? {})).toEqual(['wrtkit-demo']);

    // Printed as one ACL: the owners' groups and every public method under unauthenticated.
    const acl = rpcdAcl(registry.describe());
    expect(Object.keys(acl).sort()).toEqual(['unauthenticated', 'wrtkit-demo', 'wrtkit-other', 'wrtkit-pirania-nftables']);
    expect(acl.unauthenticated?.read.ubus).toEqual({ pirania: ['auth_voucher', 'get_portal_page'], portal: ['page'] });
    expect(acl.unauthenticated?.write).toBeUndefined();
    expect(acl['wrtkit-demo']).toEqual(files['wrtkit-demo']?.['wrtkit-demo']);
  });

  it('the host ACL shipped in the package matches the host method tables (wrtkit, wrtkit.hostapd)', () => {
    const registry = new MethodRegistry();
    registry.register('wrtkit', createHostMethods({} as Host));
    const hostapd = new HostapdService({
      platform: {} as never,
      clock: {} as never,
      log: {} as never,
      ctrlDir: '/var/run/hostapd',
      onStation: () => undefined,
    });
    registry.register('wrtkit.hostapd', hostapd.methods());
    const shipped = JSON.parse(
      readFileSync(join(repoRoot, 'core/openwrt/files/usr/share/rpcd/acl.d/wrtkit.json'), 'utf8'),
    ) as unknown;
    expect(shipped).toEqual(rpcdAcl(registry.describe()));
    expect(shipped).toEqual(rpcdAclFiles(registry.describe()).wrtkit);
  });
});

describe('ubusd subscriber lists', () => {
  it('decode as ubusd writes them (int32 attributes with id 0) and encode the same way', async () => {
    const { decodeMessage, encodeMessage, attrsOf } = await import('../../src/ubus/message.js');
    // STATUS answer to a NOTIFY without NO_REPLY, laid out as ubusd_handle_notify builds it:
    // OBJID, SUBSCRIBERS { int32 id 0, int32 id 0 }, STATUS
    const hex =
      '0001000500000000' + // header: STATUS, seq 5, peer 0
      '00000028' + // root blob, 40 bytes
      '030000080000002a' + // OBJID 42
      '0b000014' +
      '0000000800000007' +
      '00000008ffffffff' + // SUBSCRIBERS nest
      '0100000800000000'; // STATUS 0
    const message = decodeMessage(Buffer.from(hex, 'hex'));
    expect(attrsOf(message)).toEqual({ objid: 42, subscribers: [7, 0xffffffff], status: 0 });
    expect(Buffer.from(encodeMessage(message)).toString('hex')).toBe(hex);
  });
});
