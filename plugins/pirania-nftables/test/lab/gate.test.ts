// The nftables gate on a real kernel with the real nft, no wrtkit host: NftGate applies
// its scripts inside the router namespace of a lab, and clients try the internet.
//
//   client1 ─┐
//            ├─ br-lan [router] eth-internet ── internet
//   client2 ─┘
//
// br-lan 10.13.0.1/16 fd13::1/64 (ports eth-client1, eth-client2); clients .11/.12 and
// ::11/::12; router 198.51.100.1/24 2001:db8:100::1/64 to internet .2/::2 (documentation
// prefixes: outside Pirania's default allow-lists). The router runs stand-ins for the
// portal (tcp 59080 "PORTAL"), its resolver (59053: udp "PORTALDNS", tcp "PORTALDNS-TCP")
// and HTTPS on the router (443); the internet host answers on 80, 8080, 443, 53 and 9999.
// Traffic goes only to addresses inside this lab.
import { spawnSync } from 'node:child_process';
import { labSupported } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { NftGate } from '../../src/nft/gate.js';
import type { GateConfig } from '../../src/nft/ruleset.js';
import type { Authorization } from '../../src/vouchers/voucher.js';
import { type Probe, nodeProcesses, outcome, probe, quietLogger, realClock, startServers } from './gate-lab.js';
import { LAB_SPEC, MAC1, MAC2 } from './portal-lab.js';

const nftPresent = spawnSync('nft', ['--version'], { stdio: 'ignore' }).status === 0;
const support = labSupported();
const why = !support.ok ? support.reason : !nftPresent ? 'nft is not installed' : '';

const base: GateConfig = {
  catchInterfaces: [],
  catchBridgedInterfaces: [],
  allowlistIpv4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
  allowlistIpv6: ['fc00::/7', 'fe80::/64'],
  portalPort: 59080,
  dnsPort: 59053,
};
const BRIDGE_PORTS: GateConfig = { ...base, catchBridgedInterfaces: ['eth-client1', 'eth-client2'] };
const BR_LAN: GateConfig = { ...base, catchInterfaces: ['br-lan'] };

const authorization = (mac: string, expiresAt?: number): Authorization => ({
  mac,
  voucherId: `v${mac.slice(-2)}`,
  unrestricted: false,
  ...(expiresAt !== undefined ? { expiresAt } : {}),
});

/** Everything a client tries, per IP family, by name. */
function probes(family: 4 | 6): Record<string, Probe> {
  const inet = family === 4 ? '198.51.100.2' : '2001:db8:100::2';
  const router = family === 4 ? '10.13.0.1' : 'fd13::1';
  const v = `v${family}`;
  return {
    [`${v} http`]: { proto: 'tcp', host: inet, port: 80 },
    [`${v} tcp 8080`]: { proto: 'tcp', host: inet, port: 8080 },
    [`${v} https`]: { proto: 'tcp', host: inet, port: 443 },
    [`${v} https router`]: { proto: 'tcp', host: router, port: 443 },
    [`${v} dns udp`]: { proto: 'udp', host: inet, port: 53 },
    [`${v} dns tcp`]: { proto: 'tcp', host: inet, port: 53 },
    [`${v} udp`]: { proto: 'udp', host: inet, port: 9999 },
    [`${v} portal`]: { proto: 'tcp', host: router, port: 59080 },
  };
}

const GATED = {
  http: 'PORTAL',
  'tcp 8080': 'timeout',
  https: 'refused',
  'https router': 'refused',
  'dns udp': 'PORTALDNS:q',
  'dns tcp': 'PORTALDNS-TCP',
  udp: 'timeout',
  portal: 'PORTAL',
};
const FREE = {
  http: 'SERVER80',
  'tcp 8080': 'SERVER8080',
  https: 'SERVER443',
  'https router': 'ROUTER443',
  'dns udp': 'REALDNS:q',
  'dns tcp': 'REALDNS-TCP',
  udp: 'ECHO:q',
  portal: 'PORTAL',
};
const both = (expected: Record<string, string>) =>
  Object.fromEntries([4, 6].flatMap((f) => Object.entries(expected).map(([k, v]) => [`v${f} ${k}`, v])));

describe.skipIf(why !== '')(`pirania gate on a real kernel${why ? ` (skipped: ${why})` : ''}`, () => {
  const lab = useLab(LAB_SPEC);
  let gate: NftGate;
  const logs: string[] = [];

  beforeAll(async () => {
    const l = lab();
    gate = new NftGate(nodeProcesses(l.node('router')), quietLogger(logs), realClock);
    await Promise.all([
      startServers(l.node('router'), {
        tcp: { 59080: 'PORTAL', 59053: 'PORTALDNS-TCP', 443: 'ROUTER443' },
        udp: { 59053: 'PORTALDNS' },
      }),
      startServers(l.node('internet'), {
        tcp: { 80: 'SERVER80', 8080: 'SERVER8080', 443: 'SERVER443', 53: 'REALDNS-TCP' },
        udp: { 53: 'REALDNS', 9999: 'ECHO' },
      }),
    ]);
  });

  /** Runs the probes of both families from a client: name → outcome. */
  async function tryAll(client: 'client1' | 'client2', which: string[] = Object.keys(GATED)) {
    const named = Object.entries({ ...probes(4), ...probes(6) }).filter(([name]) => which.includes(name.slice(3)));
    const results = await probe(
      lab().node(client),
      named.map(([, p]) => p),
    );
    const refusedSlowly = named.filter(([, _], i) => results[i]?.error === 'refused' && (results[i]?.ms ?? 0) > 500);
    expect(
      refusedSlowly.map(([n]) => n),
      'a reset must come at once',
    ).toEqual([]);
    return Object.fromEntries(named.map(([name], i) => [name, outcome(results[i] as never)]));
  }

  const pick = (expected: Record<string, string>, keys: string[]) =>
    Object.fromEntries(Object.entries(expected).filter(([k]) => keys.includes(k)));

  const nft = async (...args: string[]) =>
    lab()
      .node('router')
      .exec(['nft', ...args]);

  describe.each([
    ['bridge ports marked in table bridge pirania (catch_bridged_interfaces)', BRIDGE_PORTS],
    ["the bridge as an L3 interface (catch_interfaces ['br-lan'])", BR_LAN],
  ])('%s', (_title, config) => {
    it('gates unauthorized clients: HTTP → portal, DNS → portal resolver, HTTPS reset, the rest dropped (IPv4 and IPv6)', async () => {
      await gate.reconcile(config, []);
      expect(await gate.verify()).toBe(true);
      // neighbour discovery has to work through the gate: forget what was learnt before
      await Promise.all(['client1', 'client2', 'router'].map((n) => lab().node(n).run(['ip', 'neigh', 'flush', 'all'])));
      const [one, two] = await Promise.all([tryAll('client1'), tryAll('client2')]);
      expect(one).toEqual(both(GATED));
      expect(two).toEqual(both(GATED));
    });

    it('lets an authorized client through, and only that one', async () => {
      await gate.authorize([authorization(MAC1)]);
      expect(await gate.listAuthorized()).toEqual([{ mac: MAC1 }]);
      const [one, two] = await Promise.all([tryAll('client1'), tryAll('client2', ['http', 'tcp 8080', 'udp'])]);
      expect(one).toEqual(both(FREE));
      expect(two).toEqual(both(pick(GATED, ['http', 'tcp 8080', 'udp'])));
    });
  });

  it('ends access when the voucher expires: the kernel drops the element', async () => {
    await gate.reconcile(BR_LAN, []);
    const expiresAt = Date.now() / 1000 + 2;
    await gate.authorize([authorization(MAC1, expiresAt)]);
    const listed = await gate.listAuthorized();
    expect(listed.map((a) => a.mac)).toEqual([MAC1]);
    expect(listed[0]?.expiresMs).toBeGreaterThan(Date.now());
    expect(await tryAll('client1', ['tcp 8080'])).toEqual(both({ 'tcp 8080': 'SERVER8080' }));
    // no sleep to a fixed time: try until it is blocked, then check when that was
    let blocked: Record<string, string> | undefined;
    let endedAt = 0;
    while (Date.now() < expiresAt * 1000 + 4000) {
      const startedAt = Date.now() / 1000;
      const now = await tryAll('client1', ['tcp 8080']);
      endedAt = Date.now() / 1000;
      if (Object.values(now).every((o) => o === 'timeout')) {
        blocked = now;
        break;
      }
      expect(startedAt, 'passed when it had expired').toBeLessThan(expiresAt + 0.3);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(blocked, 'still passing 4 s after expiry').toEqual(both({ 'tcp 8080': 'timeout' }));
    // a blocked probe waited 0.8 s after its connect: the connect came after the expiry
    expect(endedAt).toBeGreaterThanOrEqual(expiresAt + 0.75);
    expect(await gate.listAuthorized()).toEqual([]);
  });

  it('refill after a deauthorization blocks that client again, the others stay', async () => {
    await gate.reconcile(BR_LAN, []);
    await gate.authorize([authorization(MAC1), authorization(MAC2)]);
    await gate.refill([authorization(MAC2)]);
    expect(await gate.listAuthorized()).toEqual([{ mac: MAC2 }]);
    const [one, two] = await Promise.all([tryAll('client1', ['tcp 8080']), tryAll('client2', ['tcp 8080'])]);
    expect(one).toEqual(both({ 'tcp 8080': 'timeout' }));
    expect(two).toEqual(both({ 'tcp 8080': 'SERVER8080' }));
  });

  it('reconcile twice leaves the same ruleset', async () => {
    const auths = [authorization(MAC1)];
    await gate.reconcile(BRIDGE_PORTS, auths);
    const first = await nft('list', 'ruleset');
    await gate.reconcile(BRIDGE_PORTS, auths);
    expect(await nft('list', 'ruleset')).toBe(first);
    expect(first.match(/^table \S+ pirania \{$/gm)).toEqual(['table inet pirania {', 'table bridge pirania {']);
    expect(await tryAll('client1', ['tcp 8080'])).toEqual(both({ 'tcp 8080': 'SERVER8080' }));
  });

  it('allow-listed destinations pass without a voucher; DNS still goes to the portal resolver', async () => {
    await gate.reconcile({ ...BR_LAN, allowlistIpv4: ['198.51.100.0/24'], allowlistIpv6: ['2001:db8:100::/64'] }, []);
    const keys = ['http', 'tcp 8080', 'https', 'udp', 'dns udp'];
    expect(await tryAll('client2', keys)).toEqual(
      both({ http: 'SERVER80', 'tcp 8080': 'SERVER8080', https: 'SERVER443', udp: 'ECHO:q', 'dns udp': 'PORTALDNS:q' }),
    );
  });

  it('verify notices a flushed ruleset, and an authorization then rebuilds the gate', async () => {
    await gate.reconcile(BR_LAN, []);
    await nft('flush', 'ruleset');
    expect(await gate.verify()).toBe(false);
    await gate.authorize([authorization(MAC1)]);
    expect(await gate.verify()).toBe(true);
    expect(logs.some((l) => l.startsWith('warn pirania tables are gone'))).toBe(true);
    const [one, two] = await Promise.all([tryAll('client1', ['tcp 8080']), tryAll('client2', ['tcp 8080'])]);
    expect(one).toEqual(both({ 'tcp 8080': 'SERVER8080' }));
    expect(two).toEqual(both({ 'tcp 8080': 'timeout' }));
  });

  it('remove() leaves no pirania tables (and may run again)', async () => {
    await gate.reconcile(BRIDGE_PORTS, []);
    await gate.remove();
    await gate.remove();
    expect(await nft('list', 'tables')).not.toMatch(/pirania/);
    expect(await gate.verify()).toBe(true);
    expect(await tryAll('client2', ['tcp 8080', 'http'])).toEqual(both({ 'tcp 8080': 'SERVER8080', http: 'SERVER80' }));
  });
});
