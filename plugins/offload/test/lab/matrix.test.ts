// The offload plugin over the whole matrix (root, real kernel): the wrtkit host on a lab
// router (node) runs the plugin, which starts the real offloadd and configures it from
// /etc/config/offload — once with `mode tc`, once with `mode xdp` — on lan, wan and wan2;
// the router does what fw4 does (conntrack, masquerade out of the wans). For IPv4 and
// IPv6, TCP and UDP, a client's transfer to the server (SHA-256-checked echo) must:
//   - arrive intact and be carried by the fast path (both directions in `offload.flows`,
//     their counters growing, and conntrack — which sees only what the stack forwards —
//     counting a small part of it),
//   - be NATed right both ways (IPv4: out with the router's wan address, the server sees
//     that address, the reply translated back to the client; IPv6: no NAT),
//   - leave the fast path on TCP FIN and on TCP RST,
//   - outlive conntrack's timeout while the fast path carries it (the daemon refreshes it),
//   - follow a route change onto wan2 (re-resolved in place, data intact),
//   - keep flowing through the stack when offloadd is killed, which the plugin restarts.
import { constants } from 'node:os';
import { join } from 'node:path';
import type { LabHost, LabProcess } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OBJECT, labSkipReason } from '../datapath/runner.js';
import {
  ADDR,
  CLIENT_MAC,
  DAEMON_BUILD_DIR,
  FW4_RULES,
  LAB_SPEC,
  SERVER_MAC,
  SERVER_MAC2,
  TCP_CLIENT,
  TCP_ECHO_SERVER,
  UDP_CLIENT,
  UDP_ECHO_SERVER,
  buildDaemon,
  flowsOf,
  localPort,
  mountBpffs,
  result,
  sleep,
  unmountBpffs,
  until,
  type FlowEntry,
  type Status,
} from '../daemon/daemon.js';
import { type Bundles, buildBundles, startRouterHost } from './offload-lab.js';

const why = labSkipReason(['nft', 'mount', 'ethtool', 'ping', 'sysctl']);

const TCP_PORT = 5001;
const UDP_PORT = 5002;
type Family = 4 | 6;
type Proto = 'tcp' | 'udp';
const PORT: Record<Proto, number> = { tcp: TCP_PORT, udp: UDP_PORT };
const CASES: Array<{ family: Family; proto: Proto }> = [
  { family: 4, proto: 'tcp' },
  { family: 4, proto: 'udp' },
  { family: 6, proto: 'tcp' },
  { family: 6, proto: 'udp' },
];
const INTERFACES = ['lan', 'wan', 'wan2'];
/** What offloadd reports as attached for each mode of /etc/config/offload (veth has native XDP). */
const ATTACHED = { tc: 'tc', xdp: 'xdp-native' } as const;
/** Short conntrack timeouts for the timeout test: longer than offloadd's refresh period (10 s, not configurable through the plugin). */
const SHORT_CT_TIMEOUT_S = 12;
const CT_TIMEOUTS = [
  'net.netfilter.nf_conntrack_udp_timeout',
  'net.netfilter.nf_conntrack_udp_timeout_stream',
  'net.netfilter.nf_conntrack_tcp_timeout_established',
];

/**
 * TCP client that streams to host:port until it gets SIGUSR2, then resets the connection
 * (SO_LINGER 0: an RST instead of a FIN); prints `CONNECTED <local port>` and `RESET`.
 */
const TCP_RST_CLIENT = `
const net = require('net');
const [host, port] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port) }, () => {
  console.log('CONNECTED ' + s.localPort);
  const buf = Buffer.alloc(16384, 7);
  const tick = () => {
    if (s.destroyed) return;
    if (s.write(buf)) setTimeout(tick, 4); else s.once('drain', () => setTimeout(tick, 4));
  };
  tick();
});
s.on('data', () => {});
s.on('error', () => {});
process.on('SIGUSR2', () => { s.resetAndDestroy(); console.log('RESET'); setTimeout(() => process.exit(0), 200); });
setTimeout(() => process.exit(1), 30000);
`;

/** The plugin's `offload.status`, the parts this test reads. */
interface PluginStatus {
  enabled: boolean;
  daemon: { running: boolean; pid?: number; starts: number; last_exit?: { code: number | null; signal: number | null } };
  configure?: { ok: boolean; at: number; interfaces?: Array<{ ifname: string; attached?: string }> };
  offloadd?: Status;
  offloadd_error?: string;
}

/** One direction of a conntrack entry, as /proc/net/nf_conntrack prints it (counters with nf_conntrack_acct). */
interface CtTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  packets: number;
  bytes: number;
}

interface CtEntry {
  timeout: number;
  state: string;
  orig: CtTuple;
  reply: CtTuple;
}

/** An IPv6 address in its short form (/proc/net/nf_conntrack prints every group); IPv4 as it is. */
const canonical = (address: string) => (address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address);

function parseConntrack(line: string): CtEntry {
  const tokens = line.trim().split(/\s+/);
  const state = /^[A-Z_]+$/.test(tokens[5] ?? '') ? tokens[5]! : '';
  const dirs: Array<Record<string, string>> = [];
  for (const token of tokens.slice(5)) {
    const m = /^(src|dst|sport|dport|packets|bytes)=(.*)$/.exec(token);
    if (!m) continue;
    if (m[1] === 'src') dirs.push({});
    dirs[dirs.length - 1]![m[1]!] = m[2]!;
  }
  const tuple = (d: Record<string, string> = {}): CtTuple => ({
    src: canonical(d.src ?? ''),
    dst: canonical(d.dst ?? ''),
    sport: Number(d.sport),
    dport: Number(d.dport),
    packets: Number(d.packets ?? NaN),
    bytes: Number(d.bytes ?? NaN),
  });
  return { timeout: Number(tokens[4]), state, orig: tuple(dirs[0]), reply: tuple(dirs[1]) };
}

/**
 * Coalesces concurrent calls: every caller gets the answer of a call that started after it
 * asked, and concurrent callers share one (each `wrtkit call` is a process on a 2-core machine).
 */
function coalesced<T>(fn: () => Promise<T>): () => Promise<T> {
  let inflight: Promise<T> | undefined;
  let queued: Promise<T> | undefined;
  const get = (): Promise<T> => {
    if (!inflight) {
      inflight = fn().finally(() => {
        inflight = undefined;
      });
      return inflight;
    }
    queued ??= inflight
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return get();
      });
    return queued;
  };
  return get;
}

let bundles: Bundles | undefined;

describe.skipIf(why !== '').each(['tc', 'xdp'] as const)(
  `the offload plugin over the matrix, mode %s, host on node${why ? ` (skipped: ${why})` : ''}`,
  (MODE) => {
    const lab = useLab(LAB_SPEC, { timeoutMs: 120_000 });
    let bpffs: string;
    let host: LabHost;
    let servers: LabProcess[] = [];

    beforeAll(async () => {
      buildDaemon();
      bundles ??= buildBundles('matrix');
      bpffs = mountBpffs();
      const router = lab().node('router');
      const nft = await router.run(['nft', '-f', '-'], { input: FW4_RULES });
      expect(nft.stderr).toBe('');
      // conntrack counts the packets the stack forwards: what the fast path leaves to it
      await router.sysctl({ 'net.netfilter.nf_conntrack_acct': 1 });
      if (MODE === 'xdp') {
        // veth: frames redirected by XDP need NAPI on the receiving peer (GRO), and lose
        // CHECKSUM_PARTIAL, so the end hosts compute full checksums (as offloadd.test.ts)
        for (const [node, dev] of [
          ['client', 'eth0'],
          ['server', 'eth0'],
          ['server', 'eth1'],
        ] as const) {
          await lab().node(node).exec(['ethtool', '-K', dev, 'gro', 'on', 'tx', 'off']);
        }
      }
      servers = [
        lab()
          .node('server')
          .spawn([process.execPath, '-e', TCP_ECHO_SERVER, String(TCP_PORT)]),
        ...[ADDR[4].server, ADDR[6].server].map((address) =>
          lab()
            .node('server')
            .spawn([process.execPath, '-e', UDP_ECHO_SERVER, address, String(UDP_PORT)]),
        ),
      ];
      for (const s of servers) await s.waitFor(/LISTENING/);
      const dir = lab().tempDir('offload-matrix');
      host = await startRouterHost(
        lab(),
        bundles,
        {
          daemonDir: DAEMON_BUILD_DIR,
          object: OBJECT,
          pinDir: join(bpffs, 'offload'),
          controlSocket: join(dir, 'offloadd.sock'),
        },
        INTERFACES,
        'node',
        { mode: MODE },
      );
    }, 240_000);

    afterAll(async () => {
      await host?.stop();
      if (bpffs) unmountBpffs(bpffs);
    });

    const flows = coalesced(async () => ((await host.call('offload', 'flows')) as { flows: FlowEntry[] }).flows);
    const status = async () => (await host.call('offload', 'status')) as PluginStatus;
    /** Everything the echo servers printed (`PEER <address> <port>`: whom they saw). */
    const serverLines = () => servers.flatMap((s) => s.lines);

    /** A client transferring to the server for ms milliseconds; resolves once connected/bound, with its local port. */
    async function transfer(proto: Proto, family: Family, ms: number) {
      const program = proto === 'tcp' ? TCP_CLIENT : UDP_CLIENT;
      const proc = lab()
        .node('client')
        .spawn([process.execPath, '-e', program, ADDR[family].server, String(PORT[proto]), String(ms)]);
      return { proc, port: await localPort(proc) };
    }

    /** Both directions of the client's connection from `port`, once the fast path carried packets of each. */
    function offloaded(proto: Proto, family: Family, port: number, timeoutMs = 15_000) {
      return until(
        `IPv${family} ${proto} flow from port ${port} offloaded`,
        async () => {
          const both = flowsOf(await flows(), proto, ADDR[family].client, port);
          const original = both.find((f) => f.dir === 'original');
          const reply = both.find((f) => f.dir === 'reply');
          return original && reply && original.counters.packets > 0 && reply.counters.packets > 0
            ? { original, reply }
            : undefined;
        },
        timeoutMs,
      );
    }

    /** The router's conntrack entry of the client's connection from `port` (reading the table also reaps expired entries). */
    async function conntrack(proto: Proto, family: Family, port: number): Promise<CtEntry | undefined> {
      const table = await lab().node('router').exec(['cat', '/proc/net/nf_conntrack']);
      const line = table
        .split('\n')
        .find(
          (l) =>
            l.startsWith(`ipv${family} `) &&
            new RegExp(` ${proto} +\\d+ `).test(l) &&
            l.includes(` sport=${port} dport=${PORT[proto]} `),
        );
      return line === undefined ? undefined : parseConntrack(line);
    }

    it(`starts offloadd and attaches it in ${MODE} mode to lan, wan and wan2`, async () => {
      const s = await until(
        'offloadd configured',
        async () => {
          const now = await status();
          return now.configure?.ok && now.offloadd?.interfaces.length === INTERFACES.length ? now : undefined;
        },
        20_000,
      );
      expect(s).toMatchObject({ enabled: true, daemon: { running: true, starts: 1 } });
      expect(s.offloadd!.interfaces.map((i) => [i.ifname, i.mode, i.attached])).toEqual(
        INTERFACES.map((i) => [i, MODE, ATTACHED[MODE]]),
      );
      // and the kernel agrees: the program is on the devices in the hook the config names
      const router = lab().node('router');
      for (const dev of INTERFACES) {
        const link = await router.ip(['link', 'show', dev]);
        const filters = await router.exec(['tc', 'filter', 'show', 'dev', dev, 'ingress']);
        if (MODE === 'xdp') {
          expect(link).toMatch(/\bxdp\b/);
          expect(filters).not.toMatch(/offload_tc/);
        } else {
          expect(link).not.toMatch(/\bxdp/);
          expect(filters).toMatch(/offload_tc/);
        }
      }
    });

    it.concurrent.for(CASES.map((c) => [c.family, c.proto] as const))(
      'IPv%s %s: data intact, carried by the fast path both ways, NAT right both ways (TCP: FIN hands it back)',
      { timeout: 60_000 },
      async ([family, proto], { expect }) => {
        const a = ADDR[family];
        const { proc, port } = await transfer(proto, family, 4000);
        const { original, reply } = await offloaded(proto, family, port);
        expect(original.key).toMatchObject({
          ifname: 'lan',
          proto,
          src: a.client,
          sport: port,
          dst: a.server,
          dport: PORT[proto],
        });
        expect(original.egress).toMatchObject({ ifname: 'wan', dst_mac: SERVER_MAC });
        // the reply comes back to the address the server saw: the router's wan address (IPv4, masquerade) or the client
        expect(reply.key).toMatchObject({
          ifname: 'wan',
          proto,
          src: a.server,
          sport: PORT[proto],
          dst: family === 4 ? ADDR[4].routerWan : ADDR[6].client,
        });
        expect(reply.egress).toMatchObject({ ifname: 'lan', dst_mac: CLIENT_MAC });
        if (family === 4) {
          // out with the wan address; back, translated to the client and its port
          expect(original.nat).toMatchObject({ src: ADDR[4].routerWan });
          expect(reply.nat).toMatchObject({ dst: ADDR[4].client, dport: port });
        } else {
          expect(original.nat).toBeNull();
          expect(reply.nat).toBeNull();
        }
        // the NAT the plugin reports is conntrack's (the reply tuple is what the fast path matches)
        const ct = await conntrack(proto, family, port);
        expect(ct, 'no conntrack entry').toBeDefined();
        expect(ct!.reply).toMatchObject({
          src: reply.key.src,
          sport: reply.key.sport,
          dst: reply.key.dst,
          dport: reply.key.dport,
        });

        // both directions' fast-path counters keep growing, on the same flow
        const grown = await until('the counters of both directions grew', async () => {
          const now = flowsOf(await flows(), proto, a.client, port);
          const o = now.find((f) => f.dir === 'original');
          const r = now.find((f) => f.dir === 'reply');
          return o && r && o.counters.packets > original.counters.packets && r.counters.packets > reply.counters.packets
            ? [o, r]
            : undefined;
        });
        expect(grown.map((f) => f.id)).toEqual([original.id, original.id]);
        expect(grown[0]!.counters.bytes).toBeGreaterThan(original.counters.bytes);
        expect(grown[1]!.counters.bytes).toBeGreaterThan(reply.counters.bytes);

        const res = await result(proc);
        expect(res).toMatchObject({ ok: true });
        expect(res.sent).toBeGreaterThan(proto === 'tcp' ? 1_000_000 : 200);
        // whom the server saw: the router's wan address and the NATed port (IPv4), the client itself (IPv6)
        const peer = family === 4 ? `${ADDR[4].routerWan} ${reply.key.dport}` : `${ADDR[6].client} ${port}`;
        expect(serverLines()).toContain(`PEER ${peer}`);

        // Served by the fast path: conntrack counts only what the stack forwarded (the
        // packets before the flow was offloaded, TCP's FIN exchange), a small part of it
        // (a handful of packets in practice; 10 % leaves room for a slow offload).
        const seen = await conntrack(proto, family, port);
        expect(seen, 'no conntrack entry').toBeDefined();
        if (proto === 'tcp') expect(seen!.orig.bytes).toBeLessThan(res.sent * 0.1);
        else expect(seen!.orig.packets).toBeLessThan(res.sent * 0.1);

        if (proto === 'tcp') {
          // FIN: the stack sees it (conntrack leaves ESTABLISHED) and the flow leaves the fast path
          await until(
            'flow removed after FIN',
            async () => (flowsOf(await flows(), proto, a.client, port).length === 0 ? true : undefined),
            5000,
          );
          const closed = await conntrack(proto, family, port);
          expect(closed?.state).toMatch(/^(FIN_WAIT|CLOSE_WAIT|LAST_ACK|TIME_WAIT|CLOSE)$/);
        }
      },
    );

    /** The connections reset by the RST test (their client port, when the RST left). */
    const resets: Partial<Record<Family, { port: number; at: number }>> = {};

    it.concurrent.for([4, 6] as const)(
      'IPv%s tcp: a connection carried by the fast path is reset by the client (RST)',
      { timeout: 60_000 },
      async (family, { expect }) => {
        const a = ADDR[family];
        const proc = lab()
          .node('client')
          .spawn([process.execPath, '-e', TCP_RST_CLIENT, a.server, String(TCP_PORT)]);
        const port = await localPort(proc);
        await offloaded('tcp', family, port);
        proc.kill('SIGUSR2');
        await proc.waitFor(/^RESET$/);
        resets[family] = { port, at: Date.now() };
        expect((await proc.exited).code).toBe(0);
        // the connection is dead: the client is gone and the server stopped echoing, nothing
        // moves on the fast path any more (the flow idles, or is gone)
        await sleep(1000);
        const now = flowsOf(await flows(), 'tcp', a.client, port);
        expect(now.every((f) => f.counters.idle_ms >= 500)).toBe(true);
      },
    );

    // conntrack alone would not say: it saw none of the offloaded segments, so an RST whose
    // sequence number is not the one it expects may leave the entry ESTABLISHED (RFC 5961
    // challenge ACK) with only a shorter timeout. The datapath reports the RST of an
    // offloaded flow (FLOW_END) and offloadd tears the flow down, as the kernel's flowtable
    // does; without that the refresh kept the dead flow offloaded for days.
    it.for([4, 6] as const)(
      'IPv%s tcp: the RST hands the flow back to the stack (the flow leaves offload.flows)',
      { timeout: 30_000 },
      async (family) => {
        const reset = resets[family];
        if (!reset) throw new Error('the RST test did not run');
        await until(
          'flow removed after RST',
          async () => (flowsOf(await flows(), 'tcp', ADDR[family].client, reset.port).length === 0 ? true : undefined),
          Math.max(0, reset.at + 5000 - Date.now()),
        );
      },
    );

    it('a flow that lives past the conntrack timeout keeps working, on the same flow, its conntrack entry refreshed', async () => {
      const router = lab().node('router');
      const saved: Record<string, string> = {};
      for (const key of CT_TIMEOUTS) saved[key] = (await router.exec(['sysctl', '-n', key])).trim();
      // conntrack would forget these connections 12 s after the last packet it saw
      await router.sysctl(Object.fromEntries(CT_TIMEOUTS.map((k) => [k, SHORT_CT_TIMEOUT_S])));
      try {
        const transfers = await Promise.all(CASES.map((c) => transfer(c.proto, c.family, (SHORT_CT_TIMEOUT_S + 4) * 1000)));
        const first = await Promise.all(CASES.map((c, i) => offloaded(c.proto, c.family, transfers[i]!.port)));
        // conntrack saw their last packet about now: without a refresh the entries expire at +12 s
        await sleep((SHORT_CT_TIMEOUT_S + 1.5) * 1000);
        for (const [i, c] of CASES.entries()) {
          const ct = await conntrack(c.proto, c.family, transfers[i]!.port);
          expect(ct, `IPv${c.family} ${c.proto}: the conntrack entry expired`).toBeDefined();
          expect(ct!.timeout).toBeGreaterThan(0);
          if (c.proto === 'tcp') expect(ct!.state).toBe('ESTABLISHED');
        }
        // the same flows (never torn down and set up again), still carried by the fast path
        const now = await flows();
        for (const [i, c] of CASES.entries()) {
          const both = flowsOf(now, c.proto, ADDR[c.family].client, transfers[i]!.port);
          expect(both.map((f) => f.id)).toEqual([first[i]!.original.id, first[i]!.original.id]);
          const original = both.find((f) => f.dir === 'original')!;
          expect(original.counters.packets).toBeGreaterThan(first[i]!.original.counters.packets);
        }
        const results = await Promise.all(transfers.map((t) => result(t.proc)));
        expect(results.map((r) => r.ok)).toEqual(CASES.map(() => true));
      } finally {
        await router.sysctl(saved);
      }
    }, 90_000);

    it('a route change re-resolves the next hop onto wan2 in place; traffic continues intact', async () => {
      const router = lab().node('router');
      // the new next hops' MACs are known (else the flows are removed and set up again later)
      await router.exec(['ping', '-c1', '-W2', ADDR[4].server2]);
      await router.exec(['ping', '-6', '-c1', '-W2', ADDR[6].server2]);
      const rxOnEth1 = async () =>
        Number((await lab().node('server').exec(['cat', '/sys/class/net/eth1/statistics/rx_bytes'])).trim());
      const transfers = await Promise.all(CASES.map((c) => transfer(c.proto, c.family, 5000)));
      const first = await Promise.all(CASES.map((c, i) => offloaded(c.proto, c.family, transfers[i]!.port)));
      const rxBefore = await rxOnEth1();
      await router.ip(['route', 'replace', `${ADDR[4].server}/32`, 'via', ADDR[4].server2, 'dev', 'wan2']);
      await router.ip(['-6', 'route', 'replace', `${ADDR[6].server}/128`, 'via', ADDR[6].server2, 'dev', 'wan2']);
      try {
        const moved = await Promise.all(
          CASES.map((c, i) =>
            until(`IPv${c.family} ${c.proto}: original direction egress on wan2`, async () => {
              const original = flowsOf(await flows(), c.proto, ADDR[c.family].client, transfers[i]!.port).find(
                (f) => f.dir === 'original',
              );
              return original?.egress.ifname === 'wan2' ? original : undefined;
            }),
          ),
        );
        for (const [i, m] of moved.entries()) {
          expect(m.egress.dst_mac).toBe(SERVER_MAC2);
          expect(m.id).toBe(first[i]!.original.id); // re-resolved in place, not torn down
        }
        await sleep(1000);
        const now = await flows();
        for (const [i, c] of CASES.entries()) {
          const original = flowsOf(now, c.proto, ADDR[c.family].client, transfers[i]!.port).find((f) => f.dir === 'original');
          // the fast path keeps carrying it, out of wan2
          expect(original?.egress.ifname).toBe('wan2');
          expect(original!.counters.packets).toBeGreaterThan(moved[i]!.counters.packets);
        }
        // the traffic really takes the second link (the server receives it on eth1)
        expect((await rxOnEth1()) - rxBefore).toBeGreaterThan(1_000_000);
        const results = await Promise.all(transfers.map((t) => result(t.proc)));
        expect(results.map((r) => r.ok)).toEqual(CASES.map(() => true));
      } finally {
        await router.ip(['route', 'del', `${ADDR[4].server}/32`]);
        await router.ip(['-6', 'route', 'del', `${ADDR[6].server}/128`]);
      }
    }, 90_000);

    it('kill -9 of offloadd: transfers in progress complete intact through the stack; the plugin restarts it and offloads again', async () => {
      const before = await status();
      expect(before.daemon.running).toBe(true);
      const pid = before.daemon.pid!;
      const transfers = await Promise.all(CASES.map((c) => transfer(c.proto, c.family, 6000)));
      await Promise.all(CASES.map((c, i) => offloaded(c.proto, c.family, transfers[i]!.port)));
      // what the stack forwarded of each connection so far (conntrack's counters)
      const stackBefore = await Promise.all(CASES.map((c, i) => conntrack(c.proto, c.family, transfers[i]!.port)));
      const logFrom = host.lines.length;
      await lab()
        .node('router')
        .exec(['kill', '-9', String(pid)]);
      await host.waitForLog(/offloadd exited/, { from: logFrom, timeoutMs: 10_000 });

      const results = await Promise.all(transfers.map((t) => result(t.proc)));
      expect(results.map((r) => r.ok)).toEqual(CASES.map(() => true));
      // the stack carried them for a while (the fast path failed open until the new daemon took over)
      for (const [i, c] of CASES.entries()) {
        const after = await conntrack(c.proto, c.family, transfers[i]!.port);
        expect(after, `IPv${c.family} ${c.proto}: no conntrack entry`).toBeDefined();
        expect(after!.orig.packets, `IPv${c.family} ${c.proto}: packets the stack forwarded`).toBeGreaterThan(
          stackBefore[i]!.orig.packets + 10,
        );
      }

      // restarted by the plugin, and configured again
      const restarted = await until(
        'offloadd restarted and configured',
        async () => {
          const s = await status();
          return s.daemon.running &&
            s.daemon.starts > before.daemon.starts &&
            s.configure?.ok &&
            s.offloadd?.interfaces.every((i) => i.attached === ATTACHED[MODE])
            ? s
            : undefined;
        },
        20_000,
      );
      expect(restarted.daemon.pid).not.toBe(pid);
      expect(restarted.daemon.starts).toBe(before.daemon.starts + 1);
      expect(restarted.daemon.last_exit).toEqual({ code: null, signal: constants.signals.SIGKILL });
      expect(restarted.offloadd!.interfaces.map((i) => i.ifname)).toEqual(INTERFACES);

      // new connections are offloaded by the new daemon
      const again = await Promise.all(CASES.map((c) => transfer(c.proto, c.family, 2500)));
      await Promise.all(CASES.map((c, i) => offloaded(c.proto, c.family, again[i]!.port)));
      const results2 = await Promise.all(again.map((t) => result(t.proc)));
      expect(results2.map((r) => r.ok)).toEqual(CASES.map(() => true));
    }, 90_000);
  },
);
