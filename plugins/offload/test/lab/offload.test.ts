// The offload plugin end to end (root, real kernel): the wrtkit host on a lab router runs
// the plugin, which starts the real offloadd and configures it from /etc/config/offload
// (tc on lan, wan, wan2). A TCP transfer from the client to the server is offloaded —
// `offload.flows` lists both directions with growing counters — and arrives intact; then
// `tester.deauth {mac}` fires clientAuthorization(authorized: false) and the client's
// flows are gone at once, and stay gone (the MAC is excluded until authorized again),
// while the transfer completes through the stack.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultHostPaths, type HostEngine, type LabHost, type LabProcess } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OBJECT, labSkipReason } from '../datapath/runner.js';
import {
  ADDR,
  CLIENT_MAC,
  DAEMON_BUILD_DIR,
  FW4_RULES,
  LAB_SPEC,
  TCP_CLIENT,
  TCP_ECHO_SERVER,
  buildDaemon,
  flowsOf,
  localPort,
  mountBpffs,
  result,
  unmountBpffs,
  until,
  type FlowEntry,
} from '../daemon/daemon.js';
import { type Bundles, buildBundles, startRouterHost } from './offload-lab.js';

const why = labSkipReason(['nft', 'mount']);
const TCP_PORT = 5001;
/** Node, and QuickJS as on the router when it is built (.cache/qjs, the native module). */
const { qjs, native } = defaultHostPaths();
const ENGINES: HostEngine[] = qjs && native && existsSync(qjs) ? ['node', 'qjs'] : ['node'];

describe.skipIf(why !== '').each(ENGINES)(
  `the offload plugin in a lab router, host on %s${why ? ` (skipped: ${why})` : ''}`,
  (ENGINE) => {
    const lab = useLab(LAB_SPEC, { timeoutMs: 120_000 });
    let bpffs: string;
    let bundles: Bundles;
    let host: LabHost;
    let server: LabProcess;

    beforeAll(async () => {
      buildDaemon();
      bundles = buildBundles(ENGINE);
      bpffs = mountBpffs();
      const router = lab().node('router');
      const nft = await router.run(['nft', '-f', '-'], { input: FW4_RULES });
      expect(nft.stderr).toBe('');
      server = lab()
        .node('server')
        .spawn([process.execPath, '-e', TCP_ECHO_SERVER, String(TCP_PORT)]);
      await server.waitFor(/LISTENING/);
      const dir = lab().tempDir('offload-plugin');
      host = await startRouterHost(
        lab(),
        bundles,
        {
          daemonDir: DAEMON_BUILD_DIR,
          object: OBJECT,
          pinDir: join(bpffs, 'offload'),
          controlSocket: join(dir, 'offloadd.sock'),
        },
        ['lan', 'wan', 'wan2'],
        ENGINE,
      );
    }, 240_000);

    let stopped = false;
    afterAll(async () => {
      if (host && !stopped) await host.stop();
      if (bpffs) unmountBpffs(bpffs);
    });

    const flows = async () => ((await host.call('offload', 'flows')) as { flows: FlowEntry[] }).flows;

    it('starts offloadd and configures it: tc on every interface', async () => {
      const status = await until(
        'offloadd configured',
        async () => {
          const s = (await host.call('offload', 'status')) as {
            configure?: { ok: boolean };
            offloadd?: { interfaces: Array<{ ifname: string; attached: string }> };
          };
          return s.configure?.ok && s.offloadd?.interfaces.length === 3 ? s : undefined;
        },
        20_000,
      );
      expect(status.offloadd?.interfaces.map((i) => [i.ifname, i.attached])).toEqual([
        ['lan', 'tc'],
        ['wan', 'tc'],
        ['wan2', 'tc'],
      ]);
      expect(status).toMatchObject({ enabled: true, daemon: { running: true, starts: 1 } });
      const filters = await lab().node('router').exec(['tc', 'filter', 'show', 'dev', 'lan', 'ingress']);
      expect(filters).toMatch(/offload_tc/);
    });

    it('a TCP transfer is offloaded (offload.flows, counters growing), deauth flushes it at once, data intact', async () => {
      const client = lab()
        .node('client')
        .spawn([process.execPath, '-e', TCP_CLIENT, ADDR[4].server, String(TCP_PORT), '8000']);
      const port = await localPort(client);
      const first = await until('the transfer offloaded', async () => {
        const both = flowsOf(await flows(), 'tcp', ADDR[4].client, port);
        return both.length === 2 && both.every((f) => f.counters.packets > 0) ? both : undefined;
      });
      const original = first.find((f) => f.dir === 'original')!;
      expect(original.key).toMatchObject({ ifname: 'lan', src: ADDR[4].client, dst: ADDR[4].server, dport: TCP_PORT });
      expect(original.nat).toMatchObject({ src: ADDR[4].routerWan });
      const grown = await until('the counters grew', async () => {
        const now = flowsOf(await flows(), 'tcp', ADDR[4].client, port).find((f) => f.dir === 'original');
        return now && now.counters.packets > original.counters.packets && now.counters.bytes > original.counters.bytes
          ? now
          : undefined;
      });
      expect(grown.id).toBe(original.id);

      // the client loses its authorization: its flows leave the fast path at once
      expect(await host.call('tester', 'deauth', { mac: CLIENT_MAC })).toEqual({ fired: true });
      expect(flowsOf(await flows(), 'tcp', ADDR[4].client, port)).toEqual([]);
      const flushed = host.matching(/deauthorized client flushed/);
      expect(flushed.join('\n')).toMatch(/removed[=:"\s]+[1-9]/);
      // and it stays out (excluded until authorized again), while its packets go on
      await new Promise((r) => setTimeout(r, 1000));
      expect(flowsOf(await flows(), 'tcp', ADDR[4].client, port)).toEqual([]);
      const status = (await host.call('offload', 'status')) as {
        deauthorized: string[];
        offloadd: { events: { refused: Record<string, number> } };
      };
      expect(status.deauthorized).toEqual([CLIENT_MAC]);
      expect(status.offloadd.events.refused.excluded).toBeGreaterThan(0);

      // the transfer completes through the stack, its data intact
      expect(await result(client)).toMatchObject({ ok: true });
    });

    it('the host stops: offloadd gets SIGTERM, detaches and unpins', async () => {
      const pins = join(bpffs, 'offload');
      expect(existsSync(join(pins, 'flows'))).toBe(true);
      stopped = true;
      expect((await host.stop()).code).toBe(0);
      expect(host.matching(/offloadd exited/)).toEqual([]);
      const filters = await lab().node('router').exec(['tc', 'filter', 'show', 'dev', 'lan', 'ingress']);
      expect(filters).not.toMatch(/offload_tc/);
      expect(existsSync(join(pins, 'flows'))).toBe(false);
    });
  },
);
