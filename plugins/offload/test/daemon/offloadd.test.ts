// offloadd, the offload plugin's daemon, in a real lab router (root, real kernel): it is
// configured over its control socket like the plugin will, and real TCP and UDP
// connections from the client to the server must be offloaded (the flow appears, its
// counters grow), keep their data intact and their NAT right both ways, be removed when
// they close, when a client is flushed or excluded, be re-resolved when the route
// changes, find the lowest device behind a bridge (and a VLAN, where the kernel has them),
// and keep flowing through the stack when the daemon is killed (fail open).
import { existsSync } from 'node:fs';
import type { LabProcess } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labSkipReason } from '../datapath/runner.js';
import {
  ADDR,
  CLIENT_MAC,
  Daemon,
  FW4_RULES,
  LAB_SPEC,
  SERVER_MAC,
  SERVER_MAC2,
  TCP_CLIENT,
  TCP_ECHO_SERVER,
  TCP_BURST,
  UDP_CLIENT,
  UDP_ECHO_SERVER,
  buildDaemon,
  flowsOf,
  localPort,
  mountBpffs,
  pinnedStats,
  result,
  sleep,
  unmountBpffs,
  until,
  type FlowEntry,
} from './daemon.js';

const why = labSkipReason(['nft', 'bpftool', 'ethtool', 'mount']);

const TCP_PORT = 5001;
const UDP_PORT = 5002;
const TC_ALL = [
  { ifname: 'lan', mode: 'tc' },
  { ifname: 'wan', mode: 'tc' },
  { ifname: 'wan2', mode: 'tc' },
];

describe.skipIf(why !== '')(`offloadd in a lab router${why ? ` (skipped: ${why})` : ''}`, () => {
  const lab = useLab(LAB_SPEC, { timeoutMs: 120_000 });
  let bpffs: string;
  let d: Daemon;
  let servers: LabProcess[] = [];

  beforeAll(async () => {
    buildDaemon();
    bpffs = mountBpffs();
    const router = lab().node('router');
    const nft = await router.run(['nft', '-f', '-'], { input: FW4_RULES });
    expect(nft.stderr).toBe('');
    servers = [
      lab()
        .node('server')
        .spawn([process.execPath, '-e', TCP_ECHO_SERVER, String(TCP_PORT)]),
      ...[ADDR[4].server, ADDR[6].server].map((host) =>
        lab()
          .node('server')
          .spawn([process.execPath, '-e', UDP_ECHO_SERVER, host, String(UDP_PORT)]),
      ),
    ];
    for (const s of servers) await s.waitFor(/LISTENING/);
    d = await Daemon.start(lab(), bpffs);
  }, 180_000);

  afterAll(async () => {
    await d?.stop();
    if (bpffs) unmountBpffs(bpffs);
  });

  /** Everything the servers printed (`PEER <address> <port>`: whom they saw). */
  const server = () => servers.flatMap((s) => s.lines);

  /** Starts a TCP client in the client node; resolves once it is connected, with its port. */
  async function tcpClient(family: 4 | 6, ms: number, host: string = ADDR[family].server) {
    const proc = lab()
      .node('client')
      .spawn([process.execPath, '-e', TCP_CLIENT, host, String(TCP_PORT), String(ms)]);
    return { proc, port: await localPort(proc) };
  }

  async function udpClient(family: 4 | 6, ms: number) {
    const proc = lab()
      .node('client')
      .spawn([process.execPath, '-e', UDP_CLIENT, ADDR[family].server, String(UDP_PORT), String(ms)]);
    return { proc, port: await localPort(proc) };
  }

  /** Waits until the connection's two directions are offloaded and the fast path carried packets of both. */
  function offloaded(proto: 'tcp' | 'udp', family: 4 | 6, port: number, timeoutMs = 10_000): Promise<FlowEntry[]> {
    return until(
      `${proto} flow from port ${port} offloaded`,
      async () => {
        const flows = flowsOf(await d.flows(), proto, ADDR[family].client, port);
        return flows.length === 2 && flows.every((f) => f.counters.packets > 0) ? flows : undefined;
      },
      timeoutMs,
    );
  }

  describe('configure', () => {
    it('attaches tc to each interface, says what is attached, and is idempotent', async () => {
      const first = await d.control.ok('configure', { interfaces: TC_ALL, ipv6: true, heartbeat_ms: 200 });
      expect(first.interfaces).toEqual(
        TC_ALL.map((i) => expect.objectContaining({ ifname: i.ifname, mode: 'tc', attached: 'tc' })),
      );
      const again = await d.control.ok('configure', { interfaces: TC_ALL, ipv6: true, heartbeat_ms: 200 });
      expect(again).toEqual(first);
      const filters = await lab().node('router').exec(['tc', 'filter', 'show', 'dev', 'lan', 'ingress']);
      expect(filters).toMatch(/offload_tc/);
    });

    it('refuses what it cannot do, naming the interface, and changes nothing', async () => {
      const missing = await d.control.request('configure', { interfaces: [{ ifname: 'nosuch0', mode: 'tc' }] });
      expect(missing).toMatchObject({ ok: false, error: { code: 'no_such_interface' } });
      expect(missing.error?.message).toMatch(/nosuch0/);
      const mode = await d.control.request('configure', { interfaces: [{ ifname: 'lan', mode: 'dpdk' }] });
      expect(mode).toMatchObject({ ok: false, error: { code: 'bad_args' } });
      expect(mode.error?.message).toMatch(/lan/);
      expect((await d.status()).interfaces.map((i) => i.ifname)).toEqual(['lan', 'wan', 'wan2']);
    });

    it('answers bad requests and unknown commands with coded errors, several clients at once', async () => {
      expect(await d.control.raw('not json')).toMatchObject({ id: null, ok: false, error: { code: 'bad_request' } });
      expect(await d.control.request('nope')).toMatchObject({ ok: false, error: { code: 'unknown_command' } });
      const replies = await Promise.all([d.control.request('status'), d.control.request('flows')]);
      expect(replies.map((r) => r.ok)).toEqual([true, true]);
    });
  });

  describe.each([4, 6] as const)('IPv%s', (family) => {
    it('TCP: offloaded, counters grow, data intact, NAT right both ways; FIN removes the flow', async () => {
      const before = await d.status();
      const { proc, port } = await tcpClient(family, 5000);
      const flows = await offloaded('tcp', family, port);
      const original = flows.find((f) => f.dir === 'original')!;
      const reply = flows.find((f) => f.dir === 'reply')!;
      expect(original.key).toMatchObject({ ifname: 'lan', src: ADDR[family].client, dst: ADDR[family].server });
      expect(original.egress).toMatchObject({ ifname: 'wan', mtu: 1500 });
      expect(reply.key.ifname).toBe('wan');
      expect(reply.egress.ifname).toBe('lan');
      expect(reply.egress.dst_mac).toBe(CLIENT_MAC);
      if (family === 4) {
        // masquerade: out with the wan address, back to the client
        expect(original.nat).toMatchObject({ src: ADDR[4].routerWan });
        expect(reply.key.dst).toBe(ADDR[4].routerWan);
        expect(reply.nat).toMatchObject({ dst: ADDR[4].client, dport: port });
      } else {
        expect(original.nat).toBeNull();
        expect(reply.nat).toBeNull();
      }
      await sleep(1000);
      const later = flowsOf(await d.flows(), 'tcp', ADDR[family].client, port);
      expect(later.find((f) => f.dir === 'original')!.counters.packets).toBeGreaterThan(original.counters.packets);

      const res = await result(proc);
      expect(res).toMatchObject({ ok: true });
      expect(res.sent).toBeGreaterThan(1_000_000);
      // what the server saw as its peer
      const peer = family === 4 ? ADDR[4].routerWan : ADDR[6].client;
      expect(server().some((l) => l.startsWith(`PEER ${peer} `))).toBe(true);

      const after = await d.status();
      expect(after.stats.forward).toBeGreaterThan(before.stats.forward! + 500);
      expect(after.offloaded_total).toBeGreaterThan(before.offloaded_total);
      // FIN and the conntrack state change take the flow away
      await until('flow removed after FIN', async () =>
        flowsOf(await d.flows(), 'tcp', ADDR[family].client, port).length === 0 ? true : undefined,
      );
    });

    it('UDP: offloaded once replied, counters grow, echoes intact, NAT right', async () => {
      const { proc, port } = await udpClient(family, 4000);
      const flows = await offloaded('udp', family, port);
      const original = flows.find((f) => f.dir === 'original')!;
      if (family === 4) expect(original.nat).toMatchObject({ src: ADDR[4].routerWan });
      else expect(original.nat).toBeNull();
      await sleep(800);
      const later = flowsOf(await d.flows(), 'udp', ADDR[family].client, port);
      expect(later.every((f) => f.counters.packets > 50)).toBe(true);
      const res = await result(proc);
      expect(res).toMatchObject({ ok: true });
      const peer = family === 4 ? ADDR[4].routerWan : ADDR[6].client;
      expect(server().some((l) => l === `PEER ${peer} ${port}` || l.startsWith(`PEER ${peer} `))).toBe(true);
    });
  });

  it('200 TCP connections opened at once are all offloaded and stay so while open (queued handshake UPDATEs do not end them)', async () => {
    // The datapath's event can set a flow up from conntrack's ESTABLISHED entry while the
    // handshake's own UPDATE (SYN_RECV) still waits on the conntrack event socket; read
    // afterwards, it must not tear the flow down. A burst makes that likely.
    const from = d.proc.lines.length;
    const n = 200;
    const burst = lab()
      .node('client')
      .spawn([process.execPath, '-e', TCP_BURST, ADDR[4].server, String(TCP_PORT), String(n), '4000']);
    await burst.waitFor(/^CONNECTED \d+$/, { timeoutMs: 20_000 });
    const ports = new Set(
      (
        burst.lines
          .find((l) => l.startsWith('PORTS '))
          ?.slice(6)
          .split(',') ?? []
      ).map((p) => Number(p)),
    );
    expect(ports.size).toBe(n);
    const mine = (flows: FlowEntry[]) =>
      flows.filter((f) => f.dir === 'original' && f.key.proto === 'tcp' && ports.has(f.key.sport));
    await until('every connection offloaded', async () => (mine(await d.flows()).length === n ? true : undefined), 15_000);
    // while they are all open (the burst ends them after 4 s), none was removed again
    const removedEarly = d.proc.lines
      .slice(from)
      .filter((l) => /removed: TCP left ESTABLISHED/.test(l) && [...ports].some((p) => l.includes(`:${p} >`)));
    expect(removedEarly).toEqual([]);
    expect(mine(await d.flows())).toHaveLength(n);
    const [done] = await burst.waitFor(/^RESULT /, { timeoutMs: 30_000 });
    expect(JSON.parse(done!.slice(7))).toMatchObject({ ok: true, echoed: n });
  });

  it('flush_client removes every flow of a client at once (by address, by MAC); traffic goes on', async () => {
    const tcp = await tcpClient(4, 6000);
    const udp = await udpClient(4, 6000);
    await offloaded('tcp', 4, tcp.port);
    await offloaded('udp', 4, udp.port);
    const ofClient = (flows: FlowEntry[]) => flows.filter((f) => f.key.src === ADDR[4].client || f.nat?.dst === ADDR[4].client);
    const before = new Set(ofClient(await d.flows()).map((f) => f.id));
    const byAddress = await d.control.ok<{ removed: number }>('flush_client', { address: ADDR[4].client });
    expect(byAddress.removed).toBeGreaterThanOrEqual(4);
    // Every flow that was there is gone. The traffic goes on, and its next packets are new
    // flows to the daemon, which may offload them again at once (on a loaded machine, before
    // this query): keeping a client out is the plugin's job (it excludes the MAC).
    expect(ofClient(await d.flows()).filter((f) => before.has(f.id))).toEqual([]);
    // the next events offload them again; then by MAC
    await offloaded('tcp', 4, tcp.port);
    const beforeMac = new Set(flowsOf(await d.flows(), 'tcp', ADDR[4].client, tcp.port).map((f) => f.id));
    const byMac = await d.control.ok<{ removed: number }>('flush_client', { mac: CLIENT_MAC });
    expect(byMac.removed).toBeGreaterThanOrEqual(2);
    expect(flowsOf(await d.flows(), 'tcp', ADDR[4].client, tcp.port).filter((f) => beforeMac.has(f.id))).toEqual([]);
    expect(await d.control.request('flush_client', {})).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    expect(await result(tcp.proc)).toMatchObject({ ok: true });
    expect(await result(udp.proc)).toMatchObject({ ok: true });
  });

  it('never offloads an excluded client (MAC or CIDR)', async () => {
    for (const exclude of [{ exclude_macs: [CLIENT_MAC] }, { exclude_cidrs: [`${ADDR[4].client}/32`] }]) {
      await d.control.ok('configure', { interfaces: TC_ALL, heartbeat_ms: 200, ...exclude });
      const before = (await d.status()).events.refused.excluded!;
      const { proc, port } = await tcpClient(4, 2500);
      const res = await result(proc);
      expect(res).toMatchObject({ ok: true });
      expect(flowsOf(await d.flows(), 'tcp', ADDR[4].client, port)).toEqual([]);
      expect((await d.status()).events.refused.excluded!).toBeGreaterThan(before);
    }
    await d.control.ok('configure', { interfaces: TC_ALL, heartbeat_ms: 200 });
  });

  it('a route change re-resolves the flow onto the new link; traffic continues', async () => {
    const router = lab().node('router');
    // the new next hop's MAC is known (else the flow is removed and set up again later)
    await router.exec(['ping', '-c1', '-W2', ADDR[4].server2]);
    const { proc, port } = await tcpClient(4, 6000);
    const [first] = await offloaded('tcp', 4, port);
    await router.ip(['route', 'replace', `${ADDR[4].server}/32`, 'via', ADDR[4].server2, 'dev', 'wan2']);
    try {
      const moved = await until('original direction egress on wan2', async () => {
        const flows = flowsOf(await d.flows(), 'tcp', ADDR[4].client, port);
        const original = flows.find((f) => f.dir === 'original');
        return original?.egress.ifname === 'wan2' ? original : undefined;
      });
      expect(moved.egress.dst_mac).toBe(SERVER_MAC2);
      expect(moved.id).toBe(first!.id); // re-resolved in place, not torn down
      const packets = moved.counters.packets;
      await sleep(1000);
      const later = flowsOf(await d.flows(), 'tcp', ADDR[4].client, port).find((f) => f.dir === 'original')!;
      expect(later.counters.packets).toBeGreaterThan(packets);
      expect(await result(proc)).toMatchObject({ ok: true });
    } finally {
      await router.ip(['route', 'del', `${ADDR[4].server}/32`]);
    }
  });

  it('VLAN: the flow leaves by the lowest device with the tag; the reply key carries the VLAN id', async (ctx) => {
    const router = lab().node('router');
    const srv = lab().node('server');
    const vlan = await router.run(['ip', 'link', 'add', 'link', 'wan', 'name', 'wan.5', 'type', 'vlan', 'id', '5']);
    if (vlan.exitCode !== 0) {
      // e.g. a kernel without CONFIG_VLAN_8021Q
      ctx.skip(`no VLAN devices here: ${vlan.stderr.trim()}`);
      return;
    }
    await router.ip(['addr', 'add', '10.5.0.1/24', 'dev', 'wan.5']);
    await router.ip(['link', 'set', 'wan.5', 'up']);
    await srv.ip(['link', 'add', 'link', 'eth0', 'name', 'eth0.5', 'type', 'vlan', 'id', '5']);
    await srv.ip(['addr', 'add', '10.5.0.2/24', 'dev', 'eth0.5']);
    await srv.ip(['link', 'set', 'eth0.5', 'up']);
    await srv.ip(['route', 'add', '10.1.0.0/24', 'via', '10.5.0.1', 'dev', 'eth0.5']);
    try {
      const { proc, port } = await tcpClient(4, 4000, '10.5.0.2');
      const flows = await offloaded('tcp', 4, port);
      const original = flows.find((f) => f.dir === 'original')!;
      const reply = flows.find((f) => f.dir === 'reply')!;
      expect(original.egress).toMatchObject({ ifname: 'wan', l3_ifname: 'wan.5', vlan: 5, dst_mac: SERVER_MAC });
      expect(original.nat).toBeNull(); // no masquerade out of wan.5
      expect(reply.key).toMatchObject({ ifname: 'wan', vlan: 5, src: '10.5.0.2' });
      expect(reply.egress).toMatchObject({ ifname: 'lan', vlan: 0 });
      await sleep(800);
      const later = flowsOf(await d.flows(), 'tcp', ADDR[4].client, port);
      expect(later.every((f) => f.counters.packets > original.counters.packets / 2)).toBe(true);
      expect(await result(proc)).toMatchObject({ ok: true });
    } finally {
      await srv.ip(['link', 'del', 'eth0.5']);
      await router.ip(['link', 'del', 'wan.5']);
    }
  });

  it('bridge: a flow in from a bridge port leaves by the port the FDB names, back to it', async () => {
    const router = lab().node('router');
    const lanMac = /link\/ether ([0-9a-f:]+)/.exec(await router.ip(['link', 'show', 'lan']))![1]!;
    const moveAddresses = async (from: string, to: string) => {
      for (const a of ['10.1.0.1/24', 'fd01::1/64']) {
        await router.ip(['addr', 'del', a, 'dev', from]);
        await router.ip(['addr', 'add', a, 'dev', to, ...(a.includes(':') ? ['nodad'] : [])]);
      }
    };
    // like OpenWrt's br-lan: the datapath stays on the port
    await router.ip(['link', 'add', 'br-lan', 'address', lanMac, 'type', 'bridge']);
    await router.ip(['link', 'set', 'lan', 'master', 'br-lan']);
    await router.ip(['link', 'set', 'br-lan', 'up']);
    await moveAddresses('lan', 'br-lan');
    try {
      const { proc, port } = await tcpClient(4, 4000);
      const flows = await offloaded('tcp', 4, port);
      const original = flows.find((f) => f.dir === 'original')!;
      const reply = flows.find((f) => f.dir === 'reply')!;
      expect(original.key.ifname).toBe('lan');
      expect(reply.egress).toMatchObject({ ifname: 'lan', l3_ifname: 'br-lan', dst_mac: CLIENT_MAC, src_mac: lanMac });
      expect(await result(proc)).toMatchObject({ ok: true });
    } finally {
      await router.ip(['link', 'set', 'lan', 'nomaster']);
      await router.ip(['link', 'del', 'br-lan']);
      for (const a of ['10.1.0.1/24', 'fd01::1/64'])
        await router.ip(['addr', 'add', a, 'dev', 'lan', ...(a.includes(':') ? ['nodad'] : [])]).catch(() => undefined);
      await router.ip(['link', 'set', 'lan', 'up']);
    }
  });

  it('refreshes the conntrack timeout of flows the fast path carries', async () => {
    const router = lab().node('router');
    // conntrack would forget these UDP flows 3 s after the last packet it saw
    await router.sysctl({ 'net.netfilter.nf_conntrack_udp_timeout': 3, 'net.netfilter.nf_conntrack_udp_timeout_stream': 3 });
    await d.control.ok('configure', { interfaces: TC_ALL, heartbeat_ms: 200, refresh_s: 1 });
    try {
      const { proc, port } = await udpClient(4, 9000);
      const [first] = await offloaded('udp', 4, port);
      await sleep(6000);
      // reading the table reaps an expired entry (conntrack expires lazily): it must be alive
      const table = await router.exec(['cat', '/proc/net/nf_conntrack']);
      const entry = table.split('\n').find((l) => / udp +17 /.test(l) && l.includes(`sport=${port} `));
      expect(entry, 'the conntrack entry expired').toBeDefined();
      expect(Number(/ udp +17 +(\d+) /.exec(entry!)![1])).toBeGreaterThan(0);
      await sleep(300);
      // the same flow (never destroyed and set up again), still carried by the fast path
      const later = flowsOf(await d.flows(), 'udp', ADDR[4].client, port);
      expect(later.map((f) => f.id)).toEqual([first!.id, first!.id]);
      expect(await result(proc)).toMatchObject({ ok: true });
    } finally {
      await d.control.ok('configure', { interfaces: TC_ALL, heartbeat_ms: 200, refresh_s: 10 });
    }
  });

  it('XDP: attached natively, offloads a TCP connection with its data intact', async () => {
    for (const [node, dev] of [
      ['client', 'eth0'],
      ['server', 'eth0'],
    ] as const) {
      // veth: redirected XDP frames need NAPI on the peer (GRO), and lose CHECKSUM_PARTIAL,
      // so the end hosts compute full checksums
      await lab().node(node).exec(['ethtool', '-K', dev, 'gro', 'on', 'tx', 'off']);
    }
    const xdp = [
      { ifname: 'lan', mode: 'xdp' },
      { ifname: 'wan', mode: 'xdp' },
      { ifname: 'wan2', mode: 'tc' },
    ];
    const configured = await d.control.ok<{ interfaces: Array<{ ifname: string; attached: string }> }>('configure', {
      interfaces: xdp,
      heartbeat_ms: 200,
    });
    expect(configured.interfaces.filter((i) => i.ifname !== 'wan2').map((i) => i.attached)).toEqual(['xdp-native', 'xdp-native']);
    try {
      const { proc, port } = await tcpClient(4, 4000);
      await offloaded('tcp', 4, port);
      expect(await result(proc)).toMatchObject({ ok: true });
    } finally {
      await d.control.ok('configure', { interfaces: TC_ALL, heartbeat_ms: 200 });
    }
  });

  it('kill -9 mid-transfer: the datapath fails open, the traffic keeps flowing through the stack', async () => {
    const { proc, port } = await tcpClient(4, 7000);
    await offloaded('tcp', 4, port);
    const passHeartbeat = 11; // enum offload_stat
    const before = pinnedStats(d.pinDir)[passHeartbeat]!;
    d.proc.kill('SIGKILL');
    await d.proc.exited;
    d.control.close();
    const res = await result(proc);
    expect(res).toMatchObject({ ok: true });
    // the heart beat went stale and the datapath sent the rest to the stack
    expect(pinnedStats(d.pinDir)[passHeartbeat]!).toBeGreaterThan(before + 100);
  });

  it('SIGTERM: detaches every program, unpins the maps, exits 0', async () => {
    d = await Daemon.start(lab(), bpffs);
    await d.control.ok('configure', { interfaces: TC_ALL });
    expect(existsSync(`${d.pinDir}/flows`)).toBe(true);
    expect(await d.stop()).toBe(0);
    const router = lab().node('router');
    expect(await router.exec(['tc', 'filter', 'show', 'dev', 'lan', 'ingress'])).not.toMatch(/offload_tc/);
    expect(await router.exec(['ip', 'link', 'show', 'lan'])).not.toMatch(/xdp/);
    expect(existsSync(`${d.pinDir}/flows`)).toBe(false);
  });
});
