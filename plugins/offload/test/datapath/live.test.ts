// The offload datapath attached to real devices in a lab router: frames sent by the
// client must come out of the device the flow names (not just "XDP_REDIRECT"), and a
// real TCP connection must survive being offloaded with NAT while the client's kernel
// leaves its checksums to be finished later (CHECKSUM_PARTIAL, kept across veth): the
// case BPF_PROG_TEST_RUN cannot build.
//
//   client ── eth-client [router: offload on eth-client ingress] eth-server ── server
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { flowFor, keyFor } from './flows.js';
import { ADDR, CLIENT_MAC, LAB_SPEC, ROUTER_LAN_MAC, ROUTER_WAN_MAC, SERVER_MAC } from './lab.js';
import {
  IPPROTO_TCP,
  PAYLOAD,
  be16,
  checksumDelta,
  checksumsValid,
  frame,
  hex,
  ip,
  ipv4HeaderValid,
  mac,
  parseFrame,
  partialChecksumSeed,
  readBe16,
  unhex,
  type Family,
  type FrameSpec,
} from './packets.js';
import { ACTION, F_SNAT, OBJECT, Runner, labSkipReason, buildDatapath } from './runner.js';

const why = labSkipReason();

interface Captured {
  frame: string;
  vlan: boolean;
  vlanTci: number;
  csumNotReady: boolean;
}

describe.skipIf(why !== '')(`offload datapath attached to lab devices${why ? ` (skipped: ${why})` : ''}`, () => {
  const lab = useLab(LAB_SPEC);
  let r: Runner;
  let LAN: number;
  let WAN: number;
  let port = 3000;

  beforeAll(async () => {
    buildDatapath();
    const router = lab().node('router');
    const index = async (name: string) => Number((await router.exec(['cat', `/sys/class/net/${name}/ifindex`])).trim());
    LAN = await index('eth-client');
    WAN = await index('eth-server');
    r = await Runner.start(OBJECT, lab().tempDir('bpffs'), router.netns);
    await r.ok('set heartbeat_timeout_ns 30000000000');
    await r.ok('load');
    await r.ok(`txport ${WAN}`);
    // XDP frames redirected into a veth need NAPI on its peer: any XDP program there
    await r.ok(`attach xdppass eth-router ${lab().node('server').netns}`);
  }, 120_000);

  afterAll(async () => {
    await r?.close();
  });

  beforeEach(async () => {
    await r.ok('heartbeat now');
  });

  /** Sends a frame from the client to the router and returns what the server's device receives. */
  async function sendAndCapture(s: FrameSpec, marker: number[]): Promise<Captured | undefined> {
    const server = lab().node('server').netns;
    const id = (await r.ok(`listen eth-router ${server}`)).id as number;
    await r.ok(`send eth-router ${hex(frame(s))} ${lab().node('client').netns}`);
    const frames = (await r.ok(`recv ${id} 3000 ${hex(marker)}`)).frames as Captured[];
    return frames.find((f) => f.frame.includes(hex(marker)));
  }

  describe.each(['xdp', 'tc'] as const)('%s', (hook) => {
    beforeAll(async () => {
      await r.ok(`attach ${hook} eth-client`);
    });
    afterAll(async () => {
      await r.ok(`detach ${hook} eth-client`);
    });

    it.each([4, 6] as const)(
      'IPv%s: the frame leaves on the egress device, rewritten, with an egress VLAN tag',
      async (family: Family) => {
        const marker = [...be16(0xbeef), family, hook === 'xdp' ? 1 : 2, ...PAYLOAD.slice(0, 8)];
        const s: FrameSpec = {
          dst: ROUTER_LAN_MAC,
          src: CLIENT_MAC,
          family,
          proto: 'udp',
          srcIp: ADDR[family].client,
          dstIp: ADDR[family].server,
          sport: port++,
          dport: 5353,
          payload: marker,
        };
        const f = flowFor(s, LAN, WAN, { nat: 'both', egressVlan: (2 << 13) | 77 });
        await r.flow(f.key, f.value);
        const before = await r.stats();

        const got = await sendAndCapture(s, marker);
        expect(got, 'nothing arrived at the server').toBeDefined();
        const bytes = unhex(got!.frame);
        const out = parseFrame(bytes);
        expect(out.dst).toEqual(mac(SERVER_MAC));
        expect(out.src).toEqual(mac(ROUTER_WAN_MAC));
        expect(out.srcIp).toEqual(ip(family, ADDR[family].routerWan));
        expect(out.dstIp).toEqual(ip(family, ADDR[family].other));
        expect([out.sport, out.dport]).toEqual([f.after.sport, 8080]);
        expect(out.ttl).toBe(63);
        expect(checksumsValid(bytes, out)).toEqual({ ip: true, l4: true });
        // the receiving stack took the tag off (it would have for either hook): the tag is in auxdata
        expect({ vlan: got!.vlan, tci: got!.vlanTci }).toEqual({ vlan: true, tci: (2 << 13) | 77 });

        expect((await r.stats()).forward).toBe(before.forward! + 1);
        expect((await r.counters(f.key)).packets).toBe(1n);
      },
    );
  });

  describe('tc: a real TCP connection, offloaded with SNAT, its checksums left partial by the client', () => {
    beforeAll(async () => {
      const router = lab().node('router');
      await r.ok('attach tc eth-client');
      // What the stack does for the packets the datapath passes (SYN, FIN): the same SNAT.
      const rules = [
        'table inet wrtkit_offload_test {',
        '  chain post {',
        '    type nat hook postrouting priority 100;',
        `    ip saddr ${ADDR[4].client} tcp sport 40000 snat ip to ${ADDR[4].routerWan}:41000`,
        `    ip6 saddr ${ADDR[6].client} tcp sport 40000 snat ip6 to [${ADDR[6].routerWan}]:41000`,
        '  }',
        '}',
      ].join('\n');
      const nft = await router.run(['nft', '-f', '-'], { input: rules });
      expect(nft.stderr).toBe('');
      // conntrack sees only the packets the datapath passes: judge the window liberally
      await router.exec(['sysctl', '-qw', 'net.netfilter.nf_conntrack_tcp_be_liberal=1']);
    });
    afterAll(async () => {
      await r.ok('detach tc eth-client');
    });

    it.each([4, 6] as const)(
      'IPv%s: the data arrives intact; every offloaded segment carries a correct checksum',
      async (family: Family) => {
        const a = ADDR[family];
        const echo = lab()
          .node('server')
          .spawn([
            process.execPath,
            '-e',
            `require('net').createServer((s) => s.pipe(s)).listen(5001, ${JSON.stringify(a.server)}, () => console.log('listening'))`,
          ]);
        await echo.waitFor(/listening/, { timeoutMs: 10_000 });

        const spec: FrameSpec = { family, proto: 'tcp', srcIp: a.client, dstIp: a.server, sport: 40000, dport: 5001 };
        const key = keyFor(spec, LAN);
        const natAddr = [...ip(family, a.routerWan), ...ip(family, a.server)];
        await r.flow(key, {
          action: ACTION.forward,
          flags: F_SNAT,
          mtu: 1500,
          egressIfindex: WAN,
          natSaddr: [...ip(family, a.routerWan), ...new Array<number>(16).fill(0)].slice(0, 16),
          natSport: 41000,
          csumAddr: checksumDelta([...ip(family, a.client), ...ip(family, a.server)], natAddr),
          csumPort: checksumDelta([...be16(40000), ...be16(5001)], [...be16(41000), ...be16(5001)]),
          dstMac: mac(SERVER_MAC),
          srcMac: mac(ROUTER_WAN_MAC),
        });
        const capture = (await r.ok(`listen eth-router ${lab().node('server').netns}`)).id as number;
        const before = await r.stats();

        const client = await lab()
          .node('client')
          .run(
            [
              process.execPath,
              '-e',
              [
                "const net = require('net');",
                'const data = Buffer.alloc(300000).map((_, i) => (i * 7 + (i >> 9)) & 0xff);',
                `const s = net.connect({ host: ${JSON.stringify(a.server)}, port: 5001, localAddress: ${JSON.stringify(a.client)}, localPort: 40000 }, () => s.end(data));`,
                'const got = []; s.on("data", (c) => got.push(c));',
                's.on("end", () => { const all = Buffer.concat(got); console.log(all.equals(data) ? `OK ${all.length}` : `MISMATCH ${all.length}`); });',
                's.on("error", (e) => { console.log(`ERROR ${e.message}`); process.exitCode = 1; });',
              ].join('\n'),
            ],
            { timeoutMs: 20_000 },
          );
        echo.kill();
        expect(client.stdout.trim()).toBe('OK 300000');

        // offloaded, not forwarded by the router's stack
        const counters = await r.counters(key);
        expect(counters.packets).toBeGreaterThan(10n);
        expect((await r.stats()).forward).toBeGreaterThan(before.forward!);

        // every client segment as the server received it: NATed, and its checksum either
        // complete and valid, or (CHECKSUM_PARTIAL) holding the pseudo-header sum of the
        // NEW addresses, which the NIC/stack completes. A port delta applied to a partial
        // checksum, or an address delta not applied, shows up here.
        const frames = ((await r.ok(`recv ${capture} 500`)).frames as Captured[]).map((c) => ({ ...c, bytes: unhex(c.frame) }));
        const ours = frames
          .filter((c) => [0x0800, 0x86dd].includes(readBe16(c.bytes, 12)))
          .map((c) => ({ c, p: parseFrame(c.bytes) }))
          .filter(({ p }) => p.proto === IPPROTO_TCP && p.sport === 41000 && hex(p.srcIp) === hex(ip(family, a.routerWan)));
        expect(ours.length).toBeGreaterThan(10);
        let partial = 0;
        for (const { c, p } of ours) {
          if (family === 4) expect(ipv4HeaderValid(Array.from(c.bytes.slice(p.l3Off, p.l4Off)))).toBe(true);
          const segLen = p.l3Len - (p.l4Off - p.l3Off);
          if (c.csumNotReady) {
            partial++;
            expect(readBe16(c.bytes, p.l4Off + 16)).toBe(partialChecksumSeed(family, p.srcIp, p.dstIp, IPPROTO_TCP, segLen));
          } else {
            expect(checksumsValid(c.bytes, p).l4).toBe(true);
          }
        }
        expect(partial, 'no CHECKSUM_PARTIAL segment went through the offload').toBeGreaterThan(0);
      },
    );
  });
});
