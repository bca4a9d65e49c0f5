// Malformed and unusual packets, crafted with scapy (craft.py) and sent on the wire from
// the lab client through the router with the offload datapath attached to its
// client-facing device, must reach the stack unchanged: the server (and the client, for
// what comes back) must see byte for byte what they see when the datapath is detached,
// and the datapath must count every one of them as passed, for the reason it has (the
// two valid ones among them, UDP without payload, it may take: byte for byte all the same).
//
// Each case has a flow that matches its 5-tuple (with SNAT, so a frame the fast path took
// would arrive at the server with another source), so a datapath that misread a header
// would take the packet, and this test would see it.
//
//   client ── eth-client [router: offload XDP or TC on eth-client] eth-server ── server
//   scapy sendp          stats, pass reasons                     AF_PACKET sniffer
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabNode, LabProcess } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowFor } from './flows.js';
import { ADDR, CLIENT_MAC, LAB_SPEC, ROUTER_LAN_MAC, ROUTER_WAN_MAC, SERVER_MAC } from './lab.js';
import { readBe16, unhex, type Family, type L4Proto } from './packets.js';
import { OBJECT, Runner, labSkipReason, buildDatapath, type FlowKey } from './runner.js';

const CRAFT = join(dirname(fileURLToPath(import.meta.url)), 'craft.py');

/** A python that can import scapy: the one on PATH may not be Debian's. '' when none can. */
function scapyPython(): string {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import scapy.all'], { stdio: 'ignore' }).status === 0) return python;
  }
  return '';
}

const why0 = labSkipReason();
const PYTHON = why0 ? '' : scapyPython();
const why = why0 || (PYTHON ? '' : 'scapy is missing (apt-get install python3-scapy)');

interface CaseMeta {
  name: string;
  family: Family;
  proto: L4Proto;
  sport: number;
  dport: number;
  /** VIDs (0: untagged) to key this case's flows on. */
  vids: number[];
  nat: 'snat' | 'none';
}

const CASES: CaseMeta[] = why ? [] : (JSON.parse(execFileSync(PYTHON, [CRAFT, 'list'], { encoding: 'utf8' })) as CaseMeta[]);

type Kernel = 'forwards' | 'drops' | 'answers';
type Verdict = 'pass_malformed' | 'pass_options' | 'pass_fragment' | 'pass_ttl' | 'pass_unknown' | 'pass_no_flow' | 'forward';

/**
 * What the kernel alone does with each case (measured in the baseline, so a case that
 * never reached the router cannot pass for one the router dropped), and the datapath's
 * verdict, the same for both hooks. `icmp`: the error the stack answers the client with.
 */
const EXPECT: Record<string, { kernel: Kernel; datapath: Verdict; icmp?: [number, number] }> = {
  'ip4-truncated-header': { kernel: 'drops', datapath: 'pass_malformed' },
  'ip4-total-length-beyond-frame': { kernel: 'drops', datapath: 'pass_malformed' },
  'ip4-ihl-4': { kernel: 'drops', datapath: 'pass_malformed' },
  'ip4-ihl-15-beyond-packet': { kernel: 'drops', datapath: 'pass_malformed' },
  'ip4-ihl-beyond-total-length': { kernel: 'drops', datapath: 'pass_malformed' },
  'ip4-options-record-route': { kernel: 'forwards', datapath: 'pass_options' },
  'ip4-first-fragment': { kernel: 'forwards', datapath: 'pass_fragment' },
  'ip4-later-fragment': { kernel: 'forwards', datapath: 'pass_fragment' },
  'ip4-ttl-1': { kernel: 'answers', datapath: 'pass_ttl', icmp: [11, 0] },
  // a valid datagram without payload: the fast path may take it (its flow has no NAT),
  // and what arrives must then be what the stack would have sent
  'ip4-udp-length-8': { kernel: 'forwards', datapath: 'forward' },
  'ip4-udp-length-0': { kernel: 'forwards', datapath: 'pass_malformed' },
  'ip4-udp-truncated': { kernel: 'forwards', datapath: 'pass_malformed' },
  'ip4-tcp-truncated': { kernel: 'forwards', datapath: 'pass_malformed' },
  'ip4-tcp-data-offset-15': { kernel: 'forwards', datapath: 'pass_malformed' },
  'ip4-tcp-data-offset-2': { kernel: 'forwards', datapath: 'pass_malformed' },
  'ip6-truncated-header': { kernel: 'drops', datapath: 'pass_malformed' },
  'ip6-payload-length-beyond-frame': { kernel: 'drops', datapath: 'pass_malformed' },
  'ip6-hop-by-hop': { kernel: 'forwards', datapath: 'pass_options' },
  'ip6-routing': { kernel: 'forwards', datapath: 'pass_options' },
  'ip6-destination-options': { kernel: 'forwards', datapath: 'pass_options' },
  'ip6-first-fragment': { kernel: 'forwards', datapath: 'pass_fragment' },
  'ip6-later-fragment': { kernel: 'forwards', datapath: 'pass_fragment' },
  'ip6-hop-limit-1': { kernel: 'answers', datapath: 'pass_ttl', icmp: [3, 0] },
  'ip6-udp-length-8': { kernel: 'forwards', datapath: 'forward' },
  'ip6-udp-length-0': { kernel: 'forwards', datapath: 'pass_malformed' },
  // a jumbo option on a packet that is no jumbogram: parameter problem, erroneous field
  'ip6-jumbogram': { kernel: 'answers', datapath: 'pass_malformed', icmp: [4, 0] },
  'ip6-udp-checksum-0': { kernel: 'forwards', datapath: 'pass_malformed' },
  'ip6-tcp-truncated': { kernel: 'forwards', datapath: 'pass_malformed' },
  // no VLAN devices on the router: the stack drops tagged frames
  'qinq-8021ad-ip4': { kernel: 'drops', datapath: 'pass_unknown' },
  'qinq-8021q-8021q-ip4': { kernel: 'drops', datapath: 'pass_unknown' },
  'qinq-8021ad-ip6': { kernel: 'drops', datapath: 'pass_unknown' },
  'vlan-8021q-ip4': { kernel: 'drops', datapath: 'pass_no_flow' },
};

type Hook = 'xdp' | 'tc';
type PhaseName = 'baseline' | Hook;

interface Captured {
  case: string | null;
  /** Sent by this node (the client's own frames), not received. */
  out: boolean;
  /** [type, code] of an ICMP / ICMPv6 error quoting the case's packet. */
  icmp: [number, number] | null;
  hex: string;
}

interface Phase {
  /** The bytes craft.py put on the wire, per case. */
  sent: Map<string, string>;
  /** Frames per case (and under '' the ones no case claims). */
  server: Map<string, Captured[]>;
  client: Map<string, Captured[]>;
  /** The datapath's stats that moved while each case was sent. */
  moved: Map<string, Record<string, number>>;
}

/** Stats that count packets (one per packet the program ran on), not events. */
const isPacketStat = (name: string): boolean => name !== 'event' && name !== 'event_lost';
const seen = (s: Record<string, number>): number => Object.entries(s).reduce((n, [k, v]) => n + (isPacketStat(k) ? v : 0), 0);

/**
 * A received frame with the outer IPv4 ID and header checksum zeroed: the stack numbers
 * the packets it makes itself (ICMP errors, RSTs) on, so those two differ from run to run.
 */
function normalized(hex: string): string {
  const b = unhex(hex);
  if (readBe16(b, 12) === 0x0800 && b.length >= 34) b.fill(0, 18, 20).fill(0, 24, 26);
  return Buffer.from(b).toString('hex');
}

const byCase = (frames: Captured[]): Map<string, Captured[]> => {
  const m = new Map<string, Captured[]>();
  for (const f of frames) m.set(f.case ?? '', [...(m.get(f.case ?? '') ?? []), f]);
  return m;
};

describe.skipIf(why !== '')(`offload datapath: crafted frames on the wire${why ? ` (skipped: ${why})` : ''}`, () => {
  const lab = useLab(LAB_SPEC);
  let r: Runner;
  let LAN: number;
  let WAN: number;
  const flows = new Map<string, FlowKey[]>();
  const phases = new Map<PhaseName, Phase>();
  const flowPackets = new Map<string, bigint>();

  const addrArgs = [
    ['--src-mac', CLIENT_MAC],
    ['--dst-mac', ROUTER_LAN_MAC],
    ['--client4', ADDR[4].client],
    ['--server4', ADDR[4].server],
    ['--client6', ADDR[6].client],
    ['--server6', ADDR[6].server],
  ].flat();

  /** Stops a sniffer and reads what it captured. */
  async function sniffResult(p: LabProcess): Promise<Captured[]> {
    p.kill('SIGUSR1');
    const [line] = await p.waitFor(/^RESULT /, { timeoutMs: 10_000 });
    await p.exited;
    return (JSON.parse(line!.slice('RESULT '.length)) as { frames: Captured[] }).frames;
  }

  /** Sends every case once with scapy and collects what the client and the server saw. */
  async function runPhase(name: PhaseName): Promise<Phase> {
    const client = lab().node('client');
    const server = lab().node('server');
    const sniffers = [server, client].map((node) => node.spawn([PYTHON, CRAFT, 'sniff', 'eth-router', ...addrArgs]));
    await Promise.all(sniffers.map((s) => s.waitFor(/^READY$/, { timeoutMs: 20_000 })));

    const sent = new Map<string, string>();
    const moved = new Map<string, Record<string, number>>();
    await r.ok('heartbeat now');
    let before = await r.stats();
    const sender = client.spawn([PYTHON, CRAFT, 'send', 'eth-router', ...addrArgs]);
    for (const c of CASES) {
      const [line] = await sender.waitFor(new RegExp(`^SENT ${c.name} [0-9a-f]+$`), { timeoutMs: 20_000 });
      sent.set(c.name, line!.split(' ')[2]!);
      // Each frame goes through the hook exactly once: wait until the datapath has
      // counted it, so that what moved belongs to this case and not the next.
      let after = await r.stats();
      for (const deadline = Date.now() + 5_000; name !== 'baseline' && seen(after) === seen(before) && Date.now() < deadline;) {
        await new Promise((res) => setTimeout(res, 2));
        after = await r.stats();
      }
      moved.set(
        c.name,
        Object.fromEntries(Object.entries(after).flatMap(([k, v]) => (v !== before[k] ? [[k, v - (before[k] ?? 0)]] : []))),
      );
      before = after;
      sender.kill('SIGUSR1');
    }
    await sender.waitFor(/^DONE$/, { timeoutMs: 10_000 });
    expect((await sender.exited).code, sender.output).toBe(0);
    // The last frame, an echo request, comes back along the path of the stack's other
    // answers (ICMP errors): once both sides saw it, those are in, give or take a CPU.
    await Promise.all(sniffers.map((s) => s.waitFor(/^SENTINEL$/, { timeoutMs: 10_000 })));
    await new Promise((res) => setTimeout(res, 100));
    const [atServer, atClient] = await Promise.all(sniffers.map((s) => sniffResult(s)));
    return {
      sent,
      server: byCase(atServer!.filter((f) => !f.out)),
      client: byCase(atClient!),
      moved,
    };
  }

  beforeAll(async () => {
    buildDatapath();
    const router = lab().node('router');
    const server = lab().node('server');
    const client = lab().node('client');
    const index = async (name: string) => Number((await router.exec(['cat', `/sys/class/net/${name}/ifindex`])).trim());
    LAN = await index('eth-client');
    WAN = await index('eth-server');

    // Nothing but the crafted frames may cross eth-client while the stats are read per
    // case: permanent neighbours (no ARP / neighbour discovery, which would also hold
    // the first packet back in one run and not the other).
    const neigh = async (node: LabNode, dev: string, entries: Array<[string, string]>) => {
      for (const [address, mac] of entries) {
        await node.ip(['neigh', 'replace', address, 'lladdr', mac, 'dev', dev, 'nud', 'permanent']);
      }
    };
    await neigh(router, 'eth-client', [
      [ADDR[4].client, CLIENT_MAC],
      [ADDR[6].client, CLIENT_MAC],
    ]);
    await neigh(router, 'eth-server', [
      [ADDR[4].server, SERVER_MAC],
      [ADDR[6].server, SERVER_MAC],
    ]);
    await neigh(server, 'eth-router', [
      [ADDR[4].routerWan, ROUTER_WAN_MAC],
      [ADDR[6].routerWan, ROUTER_WAN_MAC],
    ]);
    // The client's own stack stays off the wire (MLD reports of its new addresses came
    // mid-run): the crafted frames leave through a packet socket, below these hooks.
    const nft = await client.run(['nft', '-f', '-'], {
      input: 'table inet wrtkit_wire {\n chain out {\n type filter hook output priority 0; policy drop;\n }\n}\n',
    });
    expect(nft.stderr).toBe('');
    // The ICMP errors of one run must not be rate limited away in the next; and no
    // fragment left waiting at the server may time out into an ICMP error mid-test.
    for (const node of [router, server]) await node.sysctl({ 'net.ipv4.icmp_ratelimit': 0, 'net.ipv6.icmp.ratelimit': 0 });
    await server.sysctl({ 'net.ipv4.ipfrag_time': 300, 'net.ipv6.ip6frag_time': 300 });

    r = await Runner.start(OBJECT, lab().tempDir('bpffs'), router.netns);
    await r.ok('set heartbeat_timeout_ns 120000000000');
    // a new-flow event for every miss, not one a second: the stats of a case stay exact
    await r.ok('set event_interval_ns 0');
    await r.ok('load');
    await r.ok(`txport ${WAN}`);
    // XDP frames redirected into a veth need NAPI on its peer; there in every run alike
    await r.ok(`attach xdppass eth-router ${server.netns}`);

    expect(Object.keys(EXPECT).sort()).toEqual(CASES.map((c) => c.name).sort());
    for (const c of CASES) {
      const keys: FlowKey[] = [];
      for (const vid of c.vids) {
        const f = flowFor(
          {
            family: c.family,
            proto: c.proto,
            srcIp: ADDR[c.family].client,
            dstIp: ADDR[c.family].server,
            sport: c.sport,
            dport: c.dport,
            vlans: vid ? [{ tci: vid }] : [],
          },
          LAN,
          WAN,
          { nat: c.nat === 'none' ? 'none' : 'snat' },
        );
        await r.flow(f.key, f.value);
        keys.push(f.key);
      }
      flows.set(c.name, keys);
    }

    phases.set('baseline', await runPhase('baseline'));
    for (const hook of ['xdp', 'tc'] as const) {
      await r.ok(`attach ${hook} eth-client`);
      try {
        phases.set(hook, await runPhase(hook));
      } finally {
        await r.ok(`detach ${hook} eth-client`);
      }
    }
    for (const c of CASES) {
      let packets = 0n;
      for (const key of flows.get(c.name)!) packets += (await r.counters(key)).packets;
      flowPackets.set(c.name, packets);
    }
  }, 180_000);

  afterAll(async () => {
    await r?.close();
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const e = EXPECT[c.name]!;
    const base = phases.get('baseline')!;
    const got = (p: Phase, side: 'server' | 'client') => p[side].get(c.name) ?? [];

    for (const [name, p] of phases) {
      // what scapy was asked to send is what went out of the client, once
      const out = got(p, 'client').filter((f) => f.out);
      expect(
        out.map((f) => f.hex),
        `${name}: on the wire`,
      ).toEqual([p.sent.get(c.name)]);
    }

    // the kernel alone (the baseline saw no datapath: nothing counted)
    expect(base.moved.get(c.name), 'baseline: stats').toEqual({});
    const arrived = got(base, 'server').map((f) => f.hex);
    expect(arrived, 'baseline: frames at the server').toHaveLength(e.kernel === 'forwards' ? 1 : 0);
    const errors = got(base, 'client')
      .filter((f) => !f.out && f.icmp)
      .map((f) => f.icmp);
    if (e.icmp) expect(errors, 'baseline: ICMP errors at the client').toContainEqual(e.icmp);
    const replies = (p: Phase) =>
      got(p, 'client')
        .filter((f) => !f.out)
        .map((f) => normalized(f.hex));

    for (const hook of ['xdp', 'tc'] as const) {
      const p = phases.get(hook)!;
      // byte for byte what the stack alone delivers (TTL, options, checksums included)
      expect(
        got(p, 'server').map((f) => f.hex),
        `${hook}: frames at the server`,
      ).toEqual(arrived);
      expect(replies(p), `${hook}: frames back at the client`).toEqual(replies(base));
      // seen once, with the verdict expected, and nothing else: no forward, no drop
      const verdict = { [e.datapath]: 1, ...(e.datapath === 'pass_no_flow' ? { event: 1 } : {}) };
      expect(p.moved.get(c.name), `${hook}: stats`).toEqual(verdict);
    }
    // the flows this case could have hit: taken only where the verdict is forward
    expect(flowPackets.get(c.name), 'flow counters').toBe(e.datapath === 'forward' ? 2n : 0n);
  });

  it('frames no case claims are the same in every run', () => {
    const base = phases.get('baseline')!;
    // A frame the datapath mangled past recognition lands here. IPv6 multicast (MLD
    // reports of addresses that just came up) is the stack's own chatter, sent when its
    // timers say, not part of any run.
    const chatter = (f: Captured) => f.hex.startsWith('3333');
    const other = (p: Phase, side: 'server' | 'client') =>
      (p[side].get('') ?? []).filter((f) => !f.out && !chatter(f)).map((f) => normalized(f.hex));
    for (const hook of ['xdp', 'tc'] as const) {
      const p = phases.get(hook)!;
      expect(other(p, 'server'), `${hook}: server`).toEqual(other(base, 'server'));
      expect(other(p, 'client'), `${hook}: client`).toEqual(other(base, 'client'));
    }
  });
});
