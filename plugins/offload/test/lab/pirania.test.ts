// pirania-nftables and offload together, end to end (root, real kernel): ONE wrtkit host
// on a lab router runs both real plugins — pirania's nftables gate with its portal, and
// offload, which runs the real offloadd with tc on the bridge ports and the uplink.
//
// What it shows: a client deauthorized by pirania loses its offloaded flows at once, and
// the gate holds. Why that matters: the offload fast path is TC ingress on the client's
// bridge port, BEFORE the bridge and netfilter — an offloaded packet never meets pirania's
// `pirania_forward` drop. If the flows stayed (or came back: conntrack still calls the
// connection ESTABLISHED), a client whose voucher ended would keep its connections.
//
// Steps (the tests run in order and share the lab): client1 is held at the gate; it takes
// a voucher at the portal and a long paced transfer to the internet is offloaded (both
// directions, counters growing); a control shows the premise — with client1's MAC taken
// out of the gate's nft set directly (no hook), new connections are dropped but the
// offloaded transfer goes on; the voucher is invalidated: pirania fires
// clientAuthorization(authorized: false), the flows are gone within a second, the MAC is
// excluded and offloadd refuses the client's further packets (`refused.excluded`); the
// transfer stalls, the fast path carries nothing, a fresh connection fails; a new voucher
// lets the client back onto the fast path. Topology: pirania-lab.ts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultHostPaths, type HostEngine, type LabHost, type LabProcess } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcome, probe } from '../../../pirania-nftables/test/lab/gate-lab.js';
import { INTERNET4, LAB_SPEC, MAC1, ROUTER4, httpProbe, startInternet } from '../../../pirania-nftables/test/lab/portal-lab.js';
import {
  DAEMON_BUILD_DIR,
  TCP_ECHO_SERVER,
  buildDaemon,
  flowsOf,
  localPort,
  mountBpffs,
  sleep,
  unmountBpffs,
  until,
  type FlowEntry,
} from '../daemon/daemon.js';
import { OBJECT, labSkipReason } from '../datapath/runner.js';
import type { Bundles } from './offload-lab.js';
import { FW4_RULES, PROGRESS_CLIENT, buildBundles, progressOf, startRouterHost } from './pirania-lab.js';

const why = labSkipReason(['nft', 'dnsmasq']);

/** Node, and QuickJS as on the router when it is built (.cache/qjs, the native module: offload needs its sockets). */
const { qjs, native } = defaultHostPaths();
const ENGINES: HostEngine[] = qjs && native && existsSync(qjs) ? ['node', 'qjs'] : ['node'];

const ECHO_PORT = 5001;
const CLIENT1 = '10.13.0.11';
/** The router's uplink address: the masquerade's source. */
const ROUTER_UPLINK4 = '198.51.100.1';
/** The portal's activation form, as client1's browser would post it. */
const ACTIVATE = { host: ROUTER4, port: 59080, path: '/activate', method: 'POST' as const, hostHeader: 'thisnode.info:59080' };
/** A fresh TCP connection to the internet: startInternet's server on 8080 answers "SERVER8080" and closes. */
const FRESH = { proto: 'tcp' as const, host: INTERNET4, port: 8080, timeoutMs: 1500 };

/** The same bundle serves both engines: built once per run. */
let built: Bundles | undefined;

interface OffloadStatus {
  configure?: { ok: boolean };
  deauthorized: string[];
  offloadd?: {
    interfaces: Array<{ ifname: string; attached: string }>;
    stats: Record<string, number>;
    events: { refused: Record<string, number> };
  };
}

describe.skipIf(why !== '').each(ENGINES)(
  `pirania deauthorizes, offload lets go: one host with both plugins on %s${why ? ` (skipped: ${why})` : ''}`,
  (ENGINE) => {
    const lab = useLab(LAB_SPEC, { timeoutMs: 90_000 });
    let bpffs: string;
    let host: LabHost;
    let transfer: LabProcess | undefined;
    let transferPort: number;

    beforeAll(async () => {
      buildDaemon();
      built ??= buildBundles('both');
      bpffs = mountBpffs();
      const l = lab();
      const nft = await l.node('router').run(['nft', '-f', '-'], { input: FW4_RULES });
      expect(nft.stderr).toBe('');
      await startInternet(l.node('internet'));
      const echo = l.node('internet').spawn([process.execPath, '-e', TCP_ECHO_SERVER, String(ECHO_PORT)]);
      await echo.waitFor(/LISTENING/);
      const dir = l.tempDir('offload');
      host = await startRouterHost(l, l.tempDir('router-root'), built, {
        daemonDir: DAEMON_BUILD_DIR,
        object: OBJECT,
        pinDir: join(bpffs, 'offload'),
        controlSocket: join(dir, 'offloadd.sock'),
      });
    }, 120_000);

    afterAll(async () => {
      await transfer?.stop();
      await host?.stop().catch(() => undefined);
      if (bpffs) unmountBpffs(bpffs);
    });

    const flows = async () => ((await host.call('offload', 'flows')) as { flows: FlowEntry[] }).flows;
    const status = async () => (await host.call('offload', 'status')) as OffloadStatus;
    const fresh = async () => outcome((await probe(lab().node('client1'), [FRESH]))[0]!);
    const addVoucher = async () => {
      const r = (await host.call('pirania', 'add_vouchers', { name: 'lab', qty: 1, duration_m: 60 })) as {
        status: string;
        vouchers: Array<{ id: string; code: string }>;
      };
      expect(r.status).toBe('ok');
      return r.vouchers[0]!;
    };
    /** Starts a paced transfer client1 → internet echo; resolves once it is offloaded (both directions carried packets). */
    const offloadedTransfer = async (ms: number) => {
      const proc = lab()
        .node('client1')
        .spawn([process.execPath, '-e', PROGRESS_CLIENT, INTERNET4, String(ECHO_PORT), String(ms)]);
      const port = await localPort(proc);
      await proc.waitFor(/^PROGRESS /);
      const both = await until('the transfer offloaded', async () => {
        const f = flowsOf(await flows(), 'tcp', CLIENT1, port);
        return f.length === 2 && f.every((d) => d.counters.packets > 0) ? f : undefined;
      });
      return { proc, port, both };
    };

    it('both plugins are up: offloadd is attached by tc to the bridge ports and the uplink; client1 is held at the gate', async () => {
      const s = await until(
        'offloadd configured',
        async () => {
          const now = await status();
          return now.configure?.ok && now.offloadd?.interfaces.length === 3 ? now : undefined;
        },
        20_000,
      );
      expect(s.offloadd?.interfaces.map((i) => [i.ifname, i.attached])).toEqual([
        ['eth-client1', 'tc'],
        ['eth-client2', 'tc'],
        ['eth-internet', 'tc'],
      ]);
      expect(s.deauthorized).toEqual([]);
      // the fast path sits on the client's port, ahead of the bridge and netfilter
      const filters = await lab().node('router').exec(['tc', 'filter', 'show', 'dev', 'eth-client1', 'ingress']);
      expect(filters).toMatch(/offload_tc/);
      // no voucher yet: pirania_forward drops client1's connections to the internet
      expect(await fresh()).toBe('timeout');
    });

    it('client1 takes a voucher at the portal; its long transfer to the internet is offloaded, both directions, counters growing', async () => {
      const voucher = await addVoucher();
      const [page] = await httpProbe(lab().node('client1'), [{ ...ACTIVATE, form: { voucher: voucher.code } }]);
      expect(page?.status, JSON.stringify(page)).toBe(200);
      expect(page?.body).toContain('You are online');
      await host.waitForLog(/client authorized.*02:13:00:00:00:11/);
      // through the gate now (and, a short connection, through the stack)
      expect(await fresh()).toBe('SERVER8080');

      // long enough for the rest of the file: the tests below stop it
      const { proc, port, both } = await offloadedTransfer(60_000);
      transfer = proc;
      transferPort = port;
      const original = both.find((f) => f.dir === 'original')!;
      const reply = both.find((f) => f.dir === 'reply')!;
      // in on client1's bridge port, out of the uplink masqueraded; the reply back by the port the FDB names
      expect(original.key).toMatchObject({ ifname: 'eth-client1', src: CLIENT1, dst: INTERNET4, dport: ECHO_PORT });
      expect(original.egress).toMatchObject({ ifname: 'eth-internet' });
      expect(original.nat).toMatchObject({ src: ROUTER_UPLINK4 });
      expect(reply.key).toMatchObject({ ifname: 'eth-internet', src: INTERNET4, dst: ROUTER_UPLINK4 });
      expect(reply.egress).toMatchObject({ ifname: 'eth-client1', l3_ifname: 'br-lan', dst_mac: MAC1 });
      // the fast path carries the transfer: both directions' counters grow, and so does the echo
      const before = progressOf(proc).received;
      const grown = await until('the counters grew', async () => {
        const now = flowsOf(await flows(), 'tcp', CLIENT1, port);
        return now.length === 2 && now.every((f) => f.counters.packets > both.find((b) => b.dir === f.dir)!.counters.packets)
          ? now
          : undefined;
      });
      expect(grown.map((f) => f.id)).toEqual([original.id, original.id]);
      await until('the echo grew', async () => (progressOf(proc).received > before ? true : undefined), 5_000);
      expect((await status()).deauthorized).toEqual([]);
    });

    it('the premise: the fast path is ahead of the gate — with client1 taken out of the gate behind pirania’s back (no hook), its offloaded transfer goes on', async () => {
      const router = lab().node('router');
      const gateSet = ['inet', 'pirania', 'pirania-auth-macs'];
      // the nft set pirania_forward lets through (`ether saddr @pirania-auth-macs return`)
      expect(await router.exec(['nft', 'list', 'set', ...gateSet])).toContain(MAC1);
      const del = await router.run(['nft', 'delete', 'element', ...gateSet, `{ ${MAC1} }`]);
      expect(del.stderr).toBe('');
      try {
        // the gate is shut for client1: a new connection goes through netfilter and is dropped…
        expect(await fresh()).toBe('timeout');
        // …but the offloaded one never meets netfilter: still in the table, the echo still grows
        const before = progressOf(transfer!).received;
        const counters = flowsOf(await flows(), 'tcp', CLIENT1, transferPort);
        expect(counters).toHaveLength(2);
        await sleep(1000);
        expect(progressOf(transfer!).received).toBeGreaterThan(before);
        const after = flowsOf(await flows(), 'tcp', CLIENT1, transferPort);
        expect(after.map((f) => f.counters.packets > counters.find((c) => c.dir === f.dir)!.counters.packets)).toEqual([
          true,
          true,
        ]);
        // this is why offload must hear clientAuthorization: nothing fired here, nothing was flushed
        expect(host.matching(/deauthorized client flushed/)).toEqual([]);
      } finally {
        // back as pirania had it (the next test's invalidation then goes through pirania)
        const add = await router.run(['nft', 'add', 'element', ...gateSet, `{ ${MAC1} timeout 1h }`]);
        expect(add.stderr).toBe('');
      }
      expect(await fresh()).toBe('SERVER8080');
    });

    it('invalidating the voucher: pirania fires clientAuthorization(false), the flows are gone within 1 s, the MAC is excluded, refused.excluded grows', async () => {
      const active = (
        (await host.call('pirania', 'list_vouchers')) as { vouchers: Array<{ id: string; mac?: string; status: string }> }
      ).vouchers.find((v) => v.mac === MAC1 && v.status === 'active');
      expect(active).toBeDefined();
      // still offloaded right before
      expect(flowsOf(await flows(), 'tcp', CLIENT1, transferPort)).toHaveLength(2);

      expect(await host.call('pirania', 'invalidate', { id: active!.id })).toEqual({ status: 'ok' });
      const returned = Date.now();
      // the hook is not awaited by pirania's reply: poll, with a deadline of 1 s from the reply
      await until('the flows flushed', async () => {
        const left = flowsOf(await flows(), 'tcp', CLIENT1, transferPort);
        if (left.length === 0) return true;
        if (Date.now() - returned > 1000) throw new Error(`still offloaded 1 s after invalidate: ${JSON.stringify(left)}`);
        return undefined;
      });
      const gone = Date.now() - returned;
      expect(gone).toBeLessThan(1000);
      console.log(`[${ENGINE}] flows gone from offload.flows ${gone} ms after invalidate returned`);

      // it was pirania's hook that did it: pirania announced, offload flushed both directions
      expect(host.matching(/client deauthorized.*02:13:00:00:00:11/)).toHaveLength(1);
      const flushed = await host.waitForLog(/deauthorized client flushed/, { timeoutMs: 2000 });
      expect(flushed.join('\n')).toMatch(/02:13:00:00:00:11/);
      expect(flushed.join('\n')).toMatch(/removed[=:"\s]+2\b/);

      // the MAC stays excluded: the client's (and the server's) next packets miss the table,
      // are reported as new flows — conntrack still says ESTABLISHED — and refused
      const first = await until('the MAC excluded and a refusal counted', async () => {
        const s = await status();
        const n = s.offloadd?.events.refused.excluded ?? 0;
        return s.deauthorized.includes(MAC1) && n > 0 ? n : undefined;
      });
      const more = await until(
        'refused.excluded grows',
        async () => {
          const n = (await status()).offloadd?.events.refused.excluded ?? 0;
          return n > first ? n : undefined;
        },
        5_000,
      );
      expect(more).toBeGreaterThan(first);
      expect((await status()).deauthorized).toEqual([MAC1]);
      expect(flowsOf(await flows(), 'tcp', CLIENT1, transferPort)).toEqual([]);
    });

    it('the gate holds: the transfer stalls, the fast path carries nothing, a fresh connection fails', async () => {
      const proc = transfer!;
      // what was in flight at the invalidation has come back by now; from here nothing may
      const settled = progressOf(proc);
      const forward = (await status()).offloadd!.stats.forward!;
      await sleep(2500);
      const later = progressOf(proc);
      expect(proc.matching(/^PROGRESS/).length).toBeGreaterThan(0);
      expect(proc.exitStatus).toBeUndefined(); // alive and trying (its PROGRESS lines go on)
      expect(later.received).toBe(settled.received);
      // the datapath redirected no packet at all meanwhile (client1's is the only traffic)
      const s = await status();
      expect(s.offloadd!.stats.forward).toBe(forward);
      expect(flowsOf(await flows(), 'tcp', CLIENT1, transferPort)).toEqual([]);
      // and a new connection is dropped at the gate
      expect(await fresh()).toBe('timeout');
      await proc.stop();
      transfer = undefined;
    });

    it('a new voucher lets client1 back: the MAC leaves deauthorized and a new transfer is offloaded again', async () => {
      const voucher = await addVoucher();
      expect(await host.call('pirania', 'activate', { code: voucher.code, mac: MAC1 })).toMatchObject({ status: 'ok' });
      await until('the MAC no longer excluded', async () => ((await status()).deauthorized.length === 0 ? true : undefined));
      expect(await fresh()).toBe('SERVER8080');
      const { proc, both } = await offloadedTransfer(3_000);
      transfer = proc;
      expect(both.map((f) => f.dir).sort()).toEqual(['original', 'reply']);
      await proc.stop();
      transfer = undefined;
    });
  },
);
