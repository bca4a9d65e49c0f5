// The mptcp core against a fake system: what apply makes on each side, all-or-nothing on
// bad input (nothing left behind), and the re-apply on link events (routes back, main
// routes moved, endpoint removed and re-added after rejoin_delay_ms).
import { ErrorCodes } from '@wrtkit/sdk';
import { describe, expect, it } from 'vitest';
import { CLIENT, PATHS, config, setup } from './harness.js';

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('client', () => {
  it('applies limits, a table and rule per path, endpoints, the main routes, ss-redir and the redirect', async () => {
    const t = setup();
    await t.mptcp.apply(config(CLIENT, PATHS));
    expect(t.net.limits_).toEqual({ subflows: 8, addAddrAccepted: 8 });
    expect(t.net.log).toEqual(
      expect.arrayContaining([
        'route 0.0.0.0/0 dev p1 via 10.100.1.2 table 181',
        'rule from 10.100.1.1 table 181 pref 9001',
        'endpoint add 10.100.1.1 dev p1 id 1',
        'route 0.0.0.0/0 dev p2 via 10.100.2.2 table 182',
        'rule from 10.100.2.1 table 182 pref 9002',
        'endpoint add 10.100.2.1 dev p2 id 2',
        'route 10.200.0.1/32 dev p1 via 10.100.1.2 table main',
        'route 10.2.0.0/24 dev p1 via 10.100.1.2 table main',
        'ping 10.200.0.1 from 10.100.1.1',
        'ping 10.200.0.1 from 10.100.2.1',
      ]),
    );
    expect(t.spawned.map((c) => c.argv)).toEqual([['ss-redir', '-c', '/var/run/wrtkit-mptcp/ss-redir.json', '--mptcp']]);
    const file = t.fs.files.get('/var/run/wrtkit-mptcp/ss-redir.json');
    expect(file?.mode).toBe(0o600);
    expect(JSON.parse(file?.text ?? '{}')).toMatchObject({
      server: '10.200.0.1',
      server_port: 8388,
      local_port: 1080,
      password: 'lab-secret-1',
      method: 'chacha20-ietf-poly1305',
    });
    expect(t.net.nftScript).toContain('iifname { "lan" } meta l4proto tcp ip daddr @aggregate ip daddr != @bypass');
    expect(t.net.nftScript).toContain('redirect to :1080');
    expect(t.net.nftScript).toContain('10.200.0.1/32');
    const status = await t.mptcp.status();
    expect(status).toMatchObject({
      enabled: true,
      role: 'client',
      applied: true,
      main_path: 'p1',
      paths: [
        {
          name: 'p1',
          device: 'p1',
          up: true,
          address: '10.100.1.1',
          table: 181,
          endpoint_id: 1,
          endpoint: true,
          reachable: true,
        },
        {
          name: 'p2',
          device: 'p2',
          up: true,
          address: '10.100.2.1',
          table: 182,
          endpoint_id: 2,
          endpoint: true,
          reachable: true,
        },
      ],
      proxy: { program: 'ss-redir', running: true, starts: 1 },
    });
  });

  it('backup paths get backup endpoints; off paths are left alone', async () => {
    const t = setup();
    t.net.link('p3', true, ['10.100.3.1']);
    await t.mptcp.apply(
      config(CLIENT, [PATHS[0]!, { ...PATHS[1]!, mode: 'backup' }, { '.name': 'p3', interface: 'p3', mode: 'off' }]),
    );
    expect(t.net.log).toContain('endpoint add 10.100.2.1 dev p2 id 2 backup');
    expect(t.net.log.some((l) => l.includes('p3'))).toBe(false);
  });

  it('disable takes everything down and puts the limits back', async () => {
    const t = setup();
    await t.mptcp.apply(config(CLIENT, PATHS));
    await t.mptcp.apply(config({ ...CLIENT, enabled: false }, PATHS));
    expect(t.net.leftovers()).toEqual([]);
    expect(t.net.limits_).toEqual({ subflows: 2, addAddrAccepted: 0 });
    expect(t.spawned[0]!.signals).toEqual(['SIGTERM']);
    expect(t.fs.files.size).toBe(0);
  });
});

describe('bad input: a clear error and nothing half-applied', () => {
  const cases: Array<[string, (t: ReturnType<typeof setup>) => void, Record<string, unknown>, unknown[], RegExp, string]> = [
    [
      'unknown interface',
      () => undefined,
      CLIENT,
      [...PATHS, { '.name': 'p3', interface: 'wan9' }],
      /mptcp\.p3\.interface: no interface 'wan9'/,
      ErrorCodes.CONFIG_INVALID,
    ],
    [
      'unknown LAN device',
      () => undefined,
      { ...CLIENT, lan: ['br-nope'] },
      PATHS,
      /mptcp\.main\.lan: no device 'br-nope'/,
      ErrorCodes.CONFIG_INVALID,
    ],
    [
      'proxy not installed',
      (t) => t.net.missing.add('ss-redir'),
      CLIENT,
      PATHS,
      /ss-redir is not installed \(opkg install shadowsocks-libev-ss-redir\)/,
      ErrorCodes.UNSUPPORTED,
    ],
    ['no kernel MPTCP', (t) => (t.net.mptcp = undefined), CLIENT, PATHS, /no MPTCP/, ErrorCodes.UNSUPPORTED],
    ['MPTCP off', (t) => (t.net.mptcp = false), CLIENT, PATHS, /net\.mptcp\.enabled=1/, ErrorCodes.UNSUPPORTED],
    [
      'no secret',
      () => undefined,
      { ...CLIENT, secret: undefined },
      PATHS,
      /mptcp\.main\.secret: required/,
      ErrorCodes.CONFIG_INVALID,
    ],
    ['no peer', () => undefined, { ...CLIENT, peer: undefined }, PATHS, /mptcp\.main\.peer: required/, ErrorCodes.CONFIG_INVALID],
    [
      'one interface twice',
      () => undefined,
      CLIENT,
      [PATHS[0]!, { '.name': 'again', interface: 'p1' }],
      /mptcp\.again\.interface: 'p1' is already path 'p1'/,
      ErrorCodes.CONFIG_INVALID,
    ],
    [
      'peer unreachable',
      (t) => t.net.reachable.clear(),
      CLIENT,
      PATHS,
      /peer 10\.200\.0\.1 is not reachable over any path \(p1: from 10\.100\.1\.1 via 10\.100\.1\.2, p2/,
      ErrorCodes.APPLY_FAILED,
    ],
    ['nft refuses the table', (t) => (t.net.failNft = true), CLIENT, PATHS, /nft: syntax error/, ErrorCodes.APPLY_FAILED],
  ];
  for (const [name, prepare, main, paths, message, code] of cases) {
    it(name, async () => {
      const t = setup();
      prepare(t);
      const error = await t.mptcp.apply(config(main, paths as never)).catch((e: unknown) => e);
      expect(error).toMatchObject({ message: expect.stringMatching(message) });
      if (name !== 'nft refuses the table') expect(error).toMatchObject({ code });
      expect(t.net.leftovers()).toEqual([]);
      expect(t.net.limits_).toEqual({ subflows: 2, addAddrAccepted: 0 });
      expect(t.fs.files.size).toBe(0);
      expect(t.spawned.every((c) => c.signals.includes('SIGTERM'))).toBe(true);
      expect(await t.mptcp.status()).toMatchObject({ applied: false, error: { message: expect.stringMatching(message) } });
    });
  }

  for (const behaviour of ['error', 'no-mptcp'] as const) {
    it(`a proxy that ${behaviour === 'error' ? 'fails' : 'listens without MPTCP'} is stopped and everything removed`, async () => {
      const t = setup(behaviour);
      const error = await t.mptcp.apply(config(CLIENT, PATHS)).catch((e: unknown) => e);
      expect(String(error)).toMatch(behaviour === 'error' ? /ss-redir failed.*Address already in use/ : /without MPTCP/);
      expect(t.net.leftovers()).toEqual([]);
      expect(t.spawned[0]!.signals).toEqual(['SIGTERM']);
    });
  }

  it('a proxy that never says it listens times out after 5 s', async () => {
    const t = setup('silent');
    const applying = t.mptcp.apply(config(CLIENT, PATHS)).catch((e: unknown) => e);
    for (let i = 0; i < 10; i++) await flush();
    await t.clock.advance(5000);
    expect(String(await applying)).toMatch(/did not start listening within 5 s/);
    expect(t.net.leftovers()).toEqual([]);
  });

  it('a crashed run (its marker still set) is cleaned up at the next start, even when now disabled', async () => {
    const t = setup('listen', { applied: true });
    t.net.rules_.push({ priority: 9005, src: '10.9.9.9', table: '185', protocol: '91' });
    t.net.table(185).set('0.0.0.0/0', { dst: '0.0.0.0/0', dev: 'p1' });
    t.net.endpoints_.push({ id: 5, address: '10.9.9.9', flags: ['subflow'] });
    t.net.nftScript = 'old';
    await t.mptcp.apply(config({ ...CLIENT, enabled: false }, PATHS));
    expect(t.net.leftovers()).toEqual([]);
    expect(t.marker.applied).toBe(false);
  });

  it('a router that never enabled the plugin keeps its own MPTCP endpoints', async () => {
    const t = setup();
    t.net.endpoints_.push({ id: 1, address: '10.9.9.9', flags: ['signal'] });
    await t.mptcp.apply(config({ ...CLIENT, enabled: false }, PATHS));
    expect(t.net.endpoints_).toHaveLength(1);
  });

  it('applied is remembered (for the crash case) and cleared by a clean stop', async () => {
    const t = setup();
    await t.mptcp.apply(config(CLIENT, PATHS));
    expect(t.marker.applied).toBe(true);
    await t.mptcp.stop();
    expect(t.marker.applied).toBe(false);
    expect(t.net.leftovers()).toEqual([]);
  });
});

describe('link events', () => {
  it('a path going down loses its endpoint and the main routes move; back up, its route and endpoint return', async () => {
    const t = setup();
    await t.mptcp.apply(config(CLIENT, PATHS));
    t.net.log.length = 0;

    t.net.link('p1', false, ['10.100.1.1']);
    t.mptcp.linkDown('p1');
    const down = await t.mptcp.reconcile('link p1 down');
    expect(down).toEqual(['p1: endpoint removed (path down)', 'route 10.200.0.1/32 via p2', 'route 10.2.0.0/24 via p2']);
    expect(t.net.table('main').get('10.200.0.1/32')).toMatchObject({ dev: 'p2', gateway: '10.100.2.2' });
    expect(t.net.endpoints_.map((e) => e.id)).toEqual([2]);

    // back after 1 s: the endpoint waits for rejoin_delay_ms (1.5 s) since its removal
    await t.clock.advance(1000);
    t.net.link('p1', true, ['10.100.1.1']);
    let done = false;
    const up = t.mptcp.reconcile('link p1 up').then((c) => ((done = true), c));
    for (let i = 0; i < 10; i++) await flush();
    expect(done).toBe(false);
    await t.clock.advance(500);
    const changes = await up;
    expect(changes).toEqual(['p1: endpoint 10.100.1.1 dev p1 id 1', 'route 10.200.0.1/32 via p1', 'route 10.2.0.0/24 via p1']);
    expect(t.net.table(181).get('0.0.0.0/0')).toMatchObject({ dev: 'p1', gateway: '10.100.1.2' });
  });

  it('a flap too short to be seen down (link down event, up again by the reconcile) still replaces the stale endpoint', async () => {
    const t = setup();
    await t.mptcp.apply(config(CLIENT, PATHS));
    t.net.log.length = 0;
    t.mptcp.linkDown('p2');
    const run = t.mptcp.reconcile('link p2 down');
    for (let i = 0; i < 10; i++) await flush();
    await t.clock.advance(1500);
    expect(await run).toContain('p2: endpoint 10.100.2.1 dev p2 id 2 (re-added)');
    expect(t.net.log).toEqual(expect.arrayContaining(['endpoint delete 2', 'endpoint add 10.100.2.1 dev p2 id 2']));
  });

  it('an address change moves the rule and the endpoint', async () => {
    const t = setup();
    await t.mptcp.apply(config(CLIENT, PATHS));
    t.net.link('p2', true, ['10.100.20.1']);
    const run = t.mptcp.reconcile('address p2');
    for (let i = 0; i < 10; i++) await flush();
    await t.clock.advance(1500);
    await run;
    expect(t.net.rules_.filter((r) => r.priority === 9002).map((r) => r.src)).toEqual(['10.100.20.1']);
    expect(t.net.endpoints_.find((e) => e.id === 2)?.address).toBe('10.100.20.1');
  });

  it('nothing to do: no changes', async () => {
    const t = setup();
    await t.mptcp.apply(config(CLIENT, PATHS));
    expect(await t.mptcp.reconcile('check')).toEqual([]);
  });
});

describe('server', () => {
  it('sets limits, keeps list route on the first live path, runs ss-server; no endpoints, no rules', async () => {
    const t = setup();
    await t.mptcp.apply(
      config({ role: 'server', secret: 'lab-secret-1', route: ['10.1.0.0/24'] }, [
        { '.name': 'p1', interface: 'p1', gateway: '10.100.1.1' },
        { '.name': 'p2', interface: 'p2', gateway: '10.100.2.1' },
      ]),
    );
    expect(t.net.endpoints_).toEqual([]);
    expect(t.net.rules_).toEqual([]);
    expect(t.net.table('main').get('10.1.0.0/24')).toMatchObject({ dev: 'p1', gateway: '10.100.1.1' });
    expect(t.net.nftScript).toBeUndefined();
    expect(t.spawned.map((c) => c.argv[0])).toEqual(['ss-server']);
    expect(JSON.parse(t.fs.files.get('/var/run/wrtkit-mptcp/ss-server.json')?.text ?? '{}')).toMatchObject({
      server: '0.0.0.0',
      server_port: 8388,
    });
    t.net.link('p1', false);
    await t.mptcp.reconcile('link p1 down');
    expect(t.net.table('main').get('10.1.0.0/24')).toMatchObject({ dev: 'p2' });
  });
});
