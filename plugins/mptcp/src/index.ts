import { type Cancel, definePlugin, method } from '@wrtkit/sdk';
import schema from '../schema.json';
import type { Config } from './generated/config.js';
import validateConfig from './generated/validate-config.js';
import { NetifdResolver } from './interfaces.js';
import { LinkMonitor } from './monitor.js';
import { Mptcp } from './mptcp.js';
import { IpNet } from './net.js';

const NO_ARGS = { type: 'object', properties: {}, additionalProperties: false } as const;
/** Link events arriving together (both ends of a veth, an address after the link) make one reconcile. */
const SETTLE_MS = 150;

/**
 * mptcp: transparent multipath aggregation between two routers (GSoC 2017's MPTCP
 * experiment on today's upstream kernel). Orchestrates kernel MPTCP (`ip mptcp`), a
 * routing table per path, nftables and shadowsocks-libev's ss-redir/ss-server with
 * --mptcp, from /etc/config/mptcp; re-applies routes and endpoints on link events.
 */
export default definePlugin<Config>({
  name: 'mptcp',
  version: '0.1.0',
  apiVersion: '^1',
  configSchema: schema,
  validateConfig,
  setup(ctx) {
    const mptcp = new Mptcp({
      net: new IpNet(ctx.processes, ctx.platform),
      marker: { load: () => ctx.state.get<boolean>('applied') === true, save: (applied) => ctx.state.set('applied', applied) },
      resolver: new NetifdResolver(ctx.ubus),
      processes: ctx.processes,
      fs: ctx.platform.fs,
      clock: ctx.clock,
      log: ctx.log,
    });
    let config = ctx.config;
    let lastError = '';
    let settle: Cancel | undefined;
    let timer: Cancel | undefined;
    const reasons = new Set<string>();

    const apply = async (): Promise<void> => {
      try {
        await mptcp.apply(config);
        lastError = '';
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // once per distinct error: a peer that stays unreachable is retried every check_interval
        if (message !== lastError) ctx.log.error(`mptcp: not applied: ${message}`, { code: (error as { code?: string }).code });
        lastError = message;
      }
    };
    const schedule = (reason: string): void => {
      reasons.add(reason);
      if (settle) return;
      settle = ctx.clock.setTimeout(() => {
        settle = undefined;
        const why = [...reasons].join(', ');
        reasons.clear();
        void (mptcp.isApplied ? mptcp.reconcile(why) : config.mptcp.enabled ? apply() : Promise.resolve()).catch(
          (error: unknown) => ctx.log.warn('mptcp: re-apply failed', { error: String(error) }),
        );
      }, SETTLE_MS);
    };
    const monitor = new LinkMonitor({
      processes: ctx.processes,
      clock: ctx.clock,
      log: ctx.log,
      onLink: (event) => void ctx.hooks.link.call(event),
      onAddress: (ifname) => {
        if (mptcp.devices().has(ifname)) schedule(`address ${ifname}`);
      },
    });
    const start = async (): Promise<void> => {
      timer?.();
      timer = undefined;
      await apply();
      if (!config.mptcp.enabled) {
        await monitor.stop();
        return;
      }
      await monitor.start();
      timer = ctx.clock.setInterval(() => schedule('check'), config.mptcp.check_interval * 1000);
    };

    ctx.hooks.link.tap((event) => {
      if (!mptcp.devices().has(event.ifname)) return;
      if (!event.up) mptcp.linkDown(event.ifname);
      schedule(`link ${event.ifname} ${event.up ? 'up' : 'down'}`);
    });
    ctx.hooks.ready.tap(() => start());
    ctx.hooks.configChanged.tap((change) => {
      config = change.config;
      return start();
    });
    ctx.serve({
      status: method(
        {
          access: 'read',
          description:
            'role, the paths (up, address, gateway, table, endpoint, subflows, bytes), the MPTCP connections with their subflows, the proxy, the last error',
          schema: NO_ARGS,
        },
        async () => ({ ...(await mptcp.status()), monitor: monitor.info() }),
      ),
      reapply: method(
        {
          access: 'write',
          description:
            'checks every path now and puts routes, rules and endpoints right (applies the config again when it is not applied); answers what changed',
          schema: NO_ARGS,
        },
        async () => {
          if (!mptcp.isApplied) {
            await start();
            return { applied: mptcp.isApplied, ...(lastError ? { error: lastError } : {}) };
          }
          return { applied: true, changes: await mptcp.reconcile('reapply') };
        },
      ),
    });
    ctx.onTeardown(async () => {
      settle?.();
      timer?.();
      await monitor.stop();
      await mptcp.stop();
    });
  },
});
