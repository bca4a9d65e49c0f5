// The offload datapath (ebpf/offload) on the real kernel, through BPF_PROG_TEST_RUN: the
// harness loads the object in a lab router's namespace, writes flows, tx ports and the
// heart beat like user space will, and runs frames built here through the XDP and the
// TC program. Hits must come out rewritten with valid checksums (computed here from
// scratch) and be counted; everything else must pass with its bytes untouched.
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { flowFor, keyFor, type FlowOptions, type Nat, type TestFlow } from './flows.js';
import { ADDR, LAB_SPEC } from './lab.js';
import {
  ETH_P_8021AD,
  ETH_P_8021Q,
  ETH_P_ARP,
  PAYLOAD,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  checksumsValid,
  frame,
  hex,
  ipPacket,
  mac,
  parseFrame,
  type Family,
  type FrameSpec,
  type L4Proto,
} from './packets.js';
import {
  ACTION,
  F_DSA,
  HOOK,
  LAYOUT,
  OBJECT,
  OBJECT_DSA,
  Runner,
  TC_ACT_OK,
  TC_ACT_REDIRECT,
  TC_ACT_SHOT,
  XDP_DROP,
  XDP_PASS,
  XDP_REDIRECT,
  labSkipReason,
  buildDatapath,
  encodeKey,
} from './runner.js';

const why = labSkipReason();

type Hook = 'xdp' | 'tc';
const HOOKS: Hook[] = ['xdp', 'tc'];
const FORWARDED = { xdp: XDP_REDIRECT, tc: TC_ACT_REDIRECT };
const PASSED = { xdp: XDP_PASS, tc: TC_ACT_OK };
const DROPPED = { xdp: XDP_DROP, tc: TC_ACT_SHOT };
const HEARTBEAT_TIMEOUT_NS = 30_000_000_000n;

let nextPort = 1000;
/** A frame spec for a flow no other test uses (its own source port). */
function spec(family: Family, proto: L4Proto, extra: Partial<FrameSpec> = {}): FrameSpec {
  const a = ADDR[family];
  return { family, proto, srcIp: a.client, dstIp: a.server, sport: nextPort++, dport: proto === 'tcp' ? 443 : 53, ...extra };
}

describe.skipIf(why !== '')(`offload datapath through BPF_PROG_TEST_RUN${why ? ` (skipped: ${why})` : ''}`, () => {
  const lab = useLab(LAB_SPEC);
  let r: Runner;
  /** Router ifindexes: frames arrive on LAN (eth-client) and leave on WAN (eth-server). */
  let LAN: number;
  let WAN: number;

  /** A runner in the lab router with its own pin root, settings applied, tx port and heart beat set. */
  async function startRunner(object: string, settings: Record<string, bigint | number> = {}): Promise<Runner> {
    const runner = await Runner.start(object, lab().tempDir('bpffs'), lab().node('router').netns);
    for (const [name, value] of Object.entries({ heartbeat_timeout_ns: HEARTBEAT_TIMEOUT_NS, ...settings })) {
      await runner.ok(`set ${name} ${value}`);
    }
    await runner.ok('load');
    await runner.ok(`txport ${WAN}`);
    await runner.ok('heartbeat now');
    return runner;
  }

  beforeAll(async () => {
    buildDatapath();
    const router = lab().node('router');
    const index = async (name: string) => Number((await router.exec(['cat', `/sys/class/net/${name}/ifindex`])).trim());
    LAN = await index('eth-client');
    WAN = await index('eth-server');
    r = await startRunner(OBJECT);
  }, 120_000);

  afterAll(async () => {
    await r?.close();
  });

  beforeEach(async () => {
    await r.ok('heartbeat now');
  });

  async function install(s: FrameSpec, opts: FlowOptions = {}): Promise<TestFlow> {
    const f = flowFor(s, LAN, WAN, opts);
    await r.flow(f.key, f.value);
    return f;
  }

  /** Runs a frame that must be forwarded, and checks the frame that comes out and the counters. */
  async function expectForward(hook: Hook, s: FrameSpec, f: TestFlow, runner = r, opts: { dsa?: boolean } = {}) {
    const input = frame(s);
    const before = await runner.counters(f.key);
    const res = await runner.run(hook, input, LAN);
    expect(res.error).toBeUndefined();
    expect(res.ret).toBe(FORWARDED[hook]);
    expect(res.moved).toEqual({ forward: 1 });

    const out = parseFrame(res.out, opts);
    const after = f.after;
    expect(out.dst).toEqual(mac(after.dst!));
    expect(out.src).toEqual(mac(after.src!));
    // TC sends the egress tag in skb metadata (bpf_skb_vlan_push): not part of the bytes here
    const tags = hook === 'tc' ? [] : (after.vlans ?? []).map((v) => ({ tpid: ETH_P_8021Q, tci: v.tci }));
    if (!opts.dsa) expect(out.vlans).toEqual(tags);
    expect(out.pppoe).toEqual(
      after.pppoe ? { sid: after.pppoe.sid, length: out.l3Len + 2, proto: s.family === 4 ? 0x21 : 0x57 } : undefined,
    );

    // the IP packet is the one built from the rewritten tuple, but for the checksum fields ...
    const expected = ipPacket(after);
    const got = Array.from(res.out.slice(out.l3Off, out.l3Off + out.l3Len));
    const mask = (b: number[]) => {
      const c = [...b];
      const l4 = s.family === 4 ? 20 : 40;
      const check = l4 + (s.proto === 'tcp' ? 16 : 6);
      if (s.family === 4) c[10] = c[11] = 0;
      c[check] = c[check + 1] = 0;
      return hex(c);
    };
    expect(mask(got)).toBe(mask(expected));
    expect(out.ttl).toBe((s.ttl ?? 64) - 1);
    expect(out.payload).toEqual([...(s.payload ?? PAYLOAD), ...(s.trailer ?? [])]);
    // ... which must be valid: computed here from scratch
    expect(checksumsValid(res.out, out)).toEqual({ ip: true, l4: true });

    const counters = await runner.counters(f.key);
    expect(counters.packets).toBe(before.packets + 1n);
    expect(counters.bytes).toBe(before.bytes + BigInt(out.l3Len));
    expect(counters.lastSeenNs).toBeGreaterThan(before.lastSeenNs);
    return res;
  }

  /** Runs a frame that must go to the stack untouched, counted under `moved`. */
  async function expectPass(hook: Hook, input: number[], moved: Record<string, number>, runner = r) {
    const res = await runner.run(hook, input, LAN);
    expect(res.error).toBeUndefined();
    expect(res.ret).toBe(PASSED[hook]);
    expect(hex(res.out)).toBe(hex(input));
    expect(res.moved).toEqual(moved);
  }

  describe('the contract with user space', () => {
    it('offload.h lays out keys, values and events as user space writes them', async () => {
      const layout = await r.ok('layout');
      expect(layout.abi).toBe(1);
      expect(layout.key).toEqual(LAYOUT.key);
      expect(layout.value).toEqual(LAYOUT.value);
      expect(layout.event).toEqual(LAYOUT.event);
      expect(layout.stats).toEqual(Object.keys(await r.stats()));
    });

    it('maps are pinned by name; a second instance on the same pin root shares them', async () => {
      const pins = await r.ok('pins');
      expect(pins.pinned).toEqual(expect.arrayContaining(['flows', 'tx_ports', 'events', 'event_limit', 'stats', 'heartbeat']));
      expect(pins.second).toEqual(pins.maps);
    });
  });

  describe('hit path', () => {
    const cases = HOOKS.flatMap((hook) =>
      ([4, 6] as const).flatMap((family) =>
        (['tcp', 'udp'] as const).flatMap((proto) =>
          (['none', 'snat', 'dnat', 'both'] as Nat[]).map((nat) => ({ hook, family, proto, nat })),
        ),
      ),
    );
    it.each(cases)(
      '$hook IPv$family $proto, NAT $nat: rewritten, checksums valid, redirected, counted',
      async ({ hook, family, proto, nat }) => {
        const s = spec(family, proto);
        const f = await install(s, { nat });
        // a translation that happens to leave the checksum as it was would prove nothing
        if (nat !== 'none') expect(f.value.csumAddr).not.toBe(0);
        await expectForward(hook, s, f);
        await expectForward(hook, s, f); // counters keep adding
      },
    );

    it.each(HOOKS)('%s: a VLAN-tagged flow is keyed by its VID, the tag is taken off; another VID misses', async (hook) => {
      const s = spec(4, 'tcp', { vlans: [{ tci: (5 << 13) | 100 }] });
      const f = await install(s, { nat: 'snat' });
      expect(f.key.vlanId).toBe(100);
      await expectForward(hook, s, f);
      const other = frame({ ...s, vlans: [{ tci: 101 }] });
      await expectPass(hook, other, { pass_no_flow: 1, event: 1 });
    });

    it.each(HOOKS)('%s: an egress VLAN tag is pushed (TC: into skb metadata)', async (hook) => {
      const s = spec(6, 'udp');
      const f = await install(s, { nat: 'both', egressVlan: (3 << 13) | 42 });
      await expectForward(hook, s, f);
    });

    it('xdp: a PPPoE flow is keyed by its session id, PPPoE is taken off; another session misses', async () => {
      for (const family of [4, 6] as const) {
        const s = spec(family, 'tcp', { pppoe: { sid: 0x1234 } });
        const f = await install(s, { nat: 'snat' });
        expect(f.key.pppoeSid).toBe(0x1234);
        await expectForward('xdp', s, f);
        await expectPass('xdp', frame({ ...s, pppoe: { sid: 0x1235 } }), { pass_no_flow: 1, event: 1 });
      }
    });

    it('xdp: VLAN and PPPoE in, VLAN and PPPoE out', async () => {
      const s = spec(4, 'udp', { vlans: [{ tci: 7 }], pppoe: { sid: 9 } });
      const f = await install(s, { nat: 'dnat', egressVlan: 8, egressPppoeSid: 10 });
      await expectForward('xdp', s, f);
    });

    it.each(HOOKS)('%s: PPPoE is put on for the egress', async (hook) => {
      const s = spec(6, 'tcp');
      const f = await install(s, { nat: 'snat', egressPppoeSid: 0x0bad });
      await expectForward(hook, s, f);
    });

    it.each(HOOKS)('%s: IPv4 UDP without a checksum keeps none', async (hook) => {
      const s = spec(4, 'udp', { udpCheck: 0 });
      const f = await install(s, { nat: 'both' });
      const res = await expectForward(hook, s, f);
      const out = parseFrame(res.out);
      expect(res.out[out.l4Off + 6]).toBe(0);
      expect(res.out[out.l4Off + 7]).toBe(0);
    });

    it.each(HOOKS)('%s: Ethernet padding after the IP packet travels along', async (hook) => {
      const s = spec(4, 'tcp', { payload: [1, 2], trailer: [0, 0, 0, 0, 0, 0] });
      const f = await install(s, { nat: 'snat' });
      await expectForward(hook, s, f);
    });

    it.each(HOOKS)('%s: action DROP drops and counts; action PASS passes untouched', async (hook) => {
      const s = spec(4, 'udp');
      const f = await install(s, { action: ACTION.drop });
      const res = await r.run(hook, frame(s), LAN);
      expect(res.ret).toBe(DROPPED[hook]);
      expect(res.moved).toEqual({ drop: 1 });
      expect((await r.counters(f.key)).packets).toBe(1n);

      const p = spec(4, 'udp');
      await install(p, { action: ACTION.pass });
      await expectPass(hook, frame(p), { pass_flow: 1 });
    });

    it('tc: a GSO packet is measured by its segments against the MTU and counted as its segments', async () => {
      const payload = Array.from({ length: 2960 }, (_, i) => i & 0xff);
      const s = spec(4, 'tcp', { payload });
      const f = await install(s, { nat: 'snat', mtu: 1500 });
      // one 3000-byte packet: too big for the flow's MTU
      await expectPass('tc', frame(s), { pass_mtu: 1 });
      // the same as a GSO packet of 3 segments of 1400 bytes payload: each fits
      const res = await r.run('tc', frame(s), LAN, { size: 1400, segs: 3 });
      expect(res.ret).toBe(TC_ACT_REDIRECT);
      expect(checksumsValid(res.out, parseFrame(res.out))).toEqual({ ip: true, l4: true });
      const counters = await r.counters(f.key);
      expect(counters.packets).toBe(3n);
      expect(counters.bytes).toBe(BigInt(3000 + 2 * 40)); // each segment has its own 40 header bytes
      // and PPPoE is not put on a GSO packet (segmentation would not know about it)
      const p = spec(4, 'tcp', { payload });
      await install(p, { egressPppoeSid: 1, mtu: 1500 });
      const gsoPppoe = await r.run('tc', frame(p), LAN, { size: 1400, segs: 3 });
      expect(gsoPppoe.ret).toBe(TC_ACT_OK);
      expect(gsoPppoe.moved).toEqual({ pass_l2: 1 });
    });
  });

  describe('pass to the stack, bytes untouched', () => {
    it.each(HOOKS)('%s: unknown ethertype', async (hook) => {
      const arp = [
        ...mac('ff:ff:ff:ff:ff:ff'),
        ...mac('02:00:00:00:00:02'),
        ETH_P_ARP >> 8,
        ETH_P_ARP & 0xff,
        ...new Array<number>(28).fill(1),
      ];
      await expectPass(hook, arp, { pass_unknown: 1 });
    });

    it.each(HOOKS)('%s: truncated at every length (plain, VLAN, PPPoE frames of real flows)', async (hook) => {
      const frames = [spec(4, 'tcp'), spec(6, 'udp', { vlans: [{ tci: 12 }] }), spec(4, 'tcp', { pppoe: { sid: 77 } })];
      for (const s of frames) {
        await install(s);
        const full = frame(s);
        // BPF_PROG_TEST_RUN refuses less than an Ethernet header, and for TC an IP
        // ethertype with less than the fixed IP header behind it; those cuts of the IP
        // header are covered by XDP (same core) and by the VLAN and PPPoE frames.
        const plainIp = !s.vlans && !s.pppoe;
        const refused = (len: number) => len < 14 || (hook === 'tc' && plainIp && len < 14 + (s.family === 4 ? 20 : 40));
        for (let len = 1; len < full.length; len++) {
          const cut = full.slice(0, len);
          if (refused(len)) {
            const res = await r.run(hook, cut, LAN);
            expect(res.error, `length ${len}`).toMatch(/Invalid argument/);
            continue;
          }
          const res = await r.run(hook, cut, LAN);
          expect(res.ret, `length ${len}`).toBe(PASSED[hook]);
          expect(hex(res.out), `length ${len}`).toBe(hex(cut));
          expect(res.moved, `length ${len}`).toEqual({ pass_malformed: 1 });
        }
      }
    });

    it.each(HOOKS)('%s: IPv4 header length below 5, beyond the packet, and with options', async (hook) => {
      const s = spec(4, 'udp');
      await install(s);
      const good = frame(s);
      const withIhl = (ihl: number) => good.map((b, i) => (i === 14 ? 0x40 | ihl : b));
      await expectPass(hook, withIhl(4), { pass_malformed: 1 });
      await expectPass(hook, withIhl(0), { pass_malformed: 1 });
      await expectPass(hook, withIhl(15).slice(0, 14 + 40), { pass_malformed: 1 });
      const opts = spec(4, 'udp', { ipOptions: [1, 1, 1, 0] });
      await install(opts);
      await expectPass(hook, frame(opts), { pass_options: 1 });
      const badVersion = good.map((b, i) => (i === 14 ? 0x55 : b));
      await expectPass(hook, badVersion, { pass_malformed: 1 });
    });

    it.each(HOOKS)('%s: fragments (MF, offset, IPv6 fragment header)', async (hook) => {
      const mf = spec(4, 'udp', { mf: true, df: false });
      const off = spec(4, 'udp', { fragOffset: 100, df: false });
      const v6 = spec(6, 'udp', { extHeaders: [{ type: 44, body: [0, 0, 0, 0, 0, 1] }] });
      for (const s of [mf, off, v6]) {
        await install(s);
        await expectPass(hook, frame(s), { pass_fragment: 1 });
      }
    });

    it.each(HOOKS)('%s: IPv6 extension headers', async (hook) => {
      for (const type of [0, 43, 60]) {
        const s = spec(6, 'tcp', { extHeaders: [{ type, body: [1, 4, 0, 0, 0, 0] }] });
        await install(s);
        await expectPass(hook, frame(s), { pass_options: 1 });
      }
    });

    it.each(HOOKS)('%s: double VLAN (QinQ)', async (hook) => {
      for (const outer of [ETH_P_8021AD, ETH_P_8021Q]) {
        const s = spec(4, 'tcp', { vlans: [{ tpid: outer, tci: 10 }, { tci: 20 }] });
        await install(s);
        await expectPass(hook, frame(s), { pass_unknown: 1 });
      }
    });

    it.each(HOOKS)('%s: zero-length, short and overlong UDP; IPv6 UDP without checksum', async (hook) => {
      for (const family of [4, 6] as const) {
        const s = spec(family, 'udp');
        await install(s);
        const good = frame(s);
        const udpLen = 14 + (family === 4 ? 20 : 40) + 4;
        for (const len of [0, 4, 7, 8 + PAYLOAD.length + 1]) {
          await expectPass(
            hook,
            good.map((b, i) => (i === udpLen ? len >> 8 : i === udpLen + 1 ? len & 0xff : b)),
            { pass_malformed: 1 },
          );
        }
      }
      const noCheck = spec(6, 'udp', { udpCheck: 0 });
      await install(noCheck);
      await expectPass(hook, frame(noCheck), { pass_malformed: 1 });
    });

    it.each(HOOKS)('%s: TCP FIN, RST and SYN pass; the FIN or RST of an offloaded flow is reported (FLOW_END)', async (hook) => {
      await r.ok('events'); // drain
      for (const flags of [TCP_FIN | TCP_ACK, TCP_RST, TCP_RST | TCP_ACK]) {
        // an offloaded flow ends: user space must hear it every time (conntrack may not say)
        const s = spec(4, 'tcp', { tcpFlags: flags });
        await install(s);
        await expectPass(hook, frame(s), { pass_fin_rst: 1, event: 1 });
        await expectPass(hook, frame(s), { pass_fin_rst: 1, event: 1 });
        const events = await r.events();
        expect(events.map((e) => ({ key: e.key, type: e.type, tcpFlags: e.tcpFlags }))).toEqual(
          Array(2).fill({ key: encodeKey(keyFor(s, LAN)), type: 2, tcpFlags: flags }),
        );
        // and it holds back the new-flow report of that key: the stack is changing its state
        await r.ok(`delflow ${encodeKey(keyFor(s, LAN))}`);
        const after = spec(4, 'tcp', { ...s, tcpFlags: TCP_ACK });
        await expectPass(hook, frame(after), { pass_no_flow: 1 });
      }
      for (const flags of [TCP_SYN, TCP_SYN | TCP_ACK]) {
        const s = spec(4, 'tcp', { tcpFlags: flags });
        await install(s);
        await expectPass(hook, frame(s), { pass_fin_rst: 1 });
      }
      // a FIN of a flow that is not offloaded: nothing to report, and no new flow either
      await expectPass(hook, frame(spec(6, 'tcp', { tcpFlags: TCP_FIN | TCP_ACK })), { pass_fin_rst: 1 });
      expect(await r.events()).toEqual([]);
    });

    it.each(HOOKS)('%s: TTL and hop limit 1 and 0', async (hook) => {
      for (const family of [4, 6] as const) {
        for (const ttl of [1, 0]) {
          const s = spec(family, 'tcp', { ttl });
          await install(s);
          await expectPass(hook, frame(s), { pass_ttl: 1 });
        }
      }
    });

    it.each(HOOKS)('%s: bigger than the flow MTU, or a flow without MTU', async (hook) => {
      const s = spec(4, 'tcp');
      const len = ipPacket(s).length;
      await install(s, { mtu: len - 1 });
      await expectPass(hook, frame(s), { pass_mtu: 1 });
      const fits = spec(4, 'tcp');
      await install(fits, { mtu: len });
      expect((await r.run(hook, frame(fits), LAN)).ret).toBe(FORWARDED[hook]);
      const none = spec(6, 'udp');
      await install(none, { mtu: 0 });
      await expectPass(hook, frame(none), { pass_mtu: 1 });
    });

    it.each(HOOKS)('%s: no flow: reported to user space once per interval', async (hook) => {
      await r.ok('events'); // drain
      const s = spec(6, 'tcp');
      await expectPass(hook, frame(s), { pass_no_flow: 1, event: 1 });
      await expectPass(hook, frame(s), { pass_no_flow: 1 });
      await expectPass(hook, frame(s), { pass_no_flow: 1 });
      const t = spec(4, 'udp');
      await expectPass(hook, frame(t), { pass_no_flow: 1, event: 1 });
      const events = await r.events();
      expect(events.map((e) => ({ key: e.key, hook: e.hook, type: e.type, tcpFlags: e.tcpFlags, l3Len: e.l3Len }))).toEqual([
        { key: encodeKey(keyFor(s, LAN)), hook: HOOK[hook], type: 1, tcpFlags: TCP_ACK | 0x08, l3Len: ipPacket(s).length },
        { key: encodeKey(keyFor(t, LAN)), hook: HOOK[hook], type: 1, tcpFlags: 0, l3Len: ipPacket(t).length },
      ]);
      expect(events[0]!.tsNs).toBeGreaterThan(0n);
    });

    it.each(HOOKS)('%s: heart beat stale or missing: everything passes, hits too', async (hook) => {
      const s = spec(4, 'udp');
      const f = await install(s, { nat: 'both' });
      await r.ok(`heartbeat ago ${HEARTBEAT_TIMEOUT_NS + 1_000_000_000n}`);
      await expectPass(hook, frame(s), { pass_heartbeat: 1 });
      await r.ok('heartbeat zero');
      await expectPass(hook, frame(s), { pass_heartbeat: 1 });
      await r.ok('heartbeat now');
      await expectForward(hook, s, f);
    });

    it('xdp: an egress device that is not in tx_ports', async () => {
      const s = spec(4, 'tcp');
      const f = flowFor(s, LAN, LAN);
      await r.flow(f.key, f.value);
      await expectPass('xdp', frame(s), { pass_no_txport: 1 });
    });

    it('tc: a PPPoE header cannot be taken off here (bpf_skb_adjust_room needs an IP skb)', async () => {
      const s = spec(4, 'tcp', { pppoe: { sid: 5 } });
      await install(s);
      await expectPass('tc', frame(s), { pass_l2: 1 });
    });

    it.each(HOOKS)('%s: PPPoE with a length that does not match, or not carrying IP', async (hook) => {
      const s = spec(4, 'udp', { pppoe: { sid: 6, length: 20 } });
      await install(s);
      await expectPass(hook, frame(s), { pass_malformed: 1 });
      const lcp = frame(spec(4, 'udp', { pppoe: { sid: 6 } })).map((b, i) => (i === 20 ? 0xc0 : b));
      await expectPass(hook, lcp, { pass_unknown: 1 });
    });
  });

  describe('settings and build options', () => {
    it.each(HOOKS)('%s: enable_ipv6=0 passes IPv6 and still offloads IPv4', async (hook) => {
      const v4only = await startRunner(OBJECT, { enable_ipv6: 0 });
      try {
        const s6 = spec(6, 'tcp');
        await v4only.flow(flowFor(s6, LAN, WAN).key, flowFor(s6, LAN, WAN).value);
        await expectPass(hook, frame(s6), { pass_disabled: 1 }, v4only);
        const s4 = spec(4, 'tcp');
        const f4 = flowFor(s4, LAN, WAN, { nat: 'snat' });
        await v4only.flow(f4.key, f4.value);
        await expectForward(hook, s4, f4, v4only);
      } finally {
        await v4only.close();
      }
    });

    it('the DSA build keys flows by switch port and tags frames for the egress port', async () => {
      const dsa = await startRunner(OBJECT_DSA);
      try {
        const s = spec(4, 'tcp', { dsaPort: 3 });
        const f = flowFor(s, LAN, WAN, { nat: 'snat', flags: F_DSA, egressDsaPort: 4 });
        expect(f.key.dsaPort).toBe(3);
        await dsa.flow(f.key, f.value);
        // the egress frame carries an MTK tag for port 4 in place of a VLAN tag
        const res = await dsa.run('xdp', frame(s), LAN);
        expect(res.ret).toBe(XDP_REDIRECT);
        const out = parseFrame(res.out, { dsa: true });
        expect(out.dsaTag).toEqual([0, 1 << 4, 0, 0]);
        expect(checksumsValid(res.out, out)).toEqual({ ip: true, l4: true });
        // with a VLAN, the tag carries it (TPID marker 1, TCI)
        const v = spec(4, 'udp', { dsaPort: 1 });
        const fv = flowFor(v, LAN, WAN, { flags: F_DSA, egressDsaPort: 2, egressVlan: 0x0123 });
        await dsa.flow(fv.key, fv.value);
        const tagged = parseFrame((await dsa.run('xdp', frame(v), LAN)).out, { dsa: true });
        expect(tagged.dsaTag).toEqual([1, 1 << 2, 0x01, 0x23]);
        // another switch port is another flow
        await expectPass('xdp', frame({ ...s, dsaPort: 2 }), { pass_no_flow: 1, event: 1 }, dsa);
        // TC cannot take the tag off
        await expectPass('tc', frame(s), { pass_l2: 1 }, dsa);
      } finally {
        await dsa.close();
      }
    });
  });
});
