/**
 * The mptcp plugin's core: brings the aggregation up from /etc/config/mptcp, keeps the
 * paths right while links come and go, and takes everything down again.
 *
 * Client (the MPTCP initiator): MPTCP limits; per path a routing table with the path's
 * default route and a rule `from <path address>`, and a `subflow` endpoint — so the
 * kernel's path manager opens one subflow per path, each leaving by its own path; the
 * peer (and `list route`) on the first live path in the main table; ss-redir; the LAN's
 * TCP redirected to it. Server (the responder): limits, ss-server, `list route`. No
 * endpoints and no source routing there: the join's SYN-ACK must leave by the interface
 * the join came in on, which a source rule towards one path would break.
 *
 * Apply is all or nothing: every check that can fail before a change (config, kernel
 * MPTCP, programs, interfaces) runs first; a failure after changes began (peer not
 * reachable over any path, proxy not listening) takes down everything made so far. What
 * it makes is tagged (routes and rules with protocol ROUTE_PROTO, the nftables table, the
 * endpoint ids) so a restart after a crash finds and removes leftovers.
 *
 * The kernel's path manager does not react to carrier loss, and a link going down takes
 * its routes with it: on every link event (and every check_interval) `reconcile` puts the
 * routes back, moves the main routes to a live path, removes the endpoint of a dead path
 * and adds it again when the path is back — rejoin_delay_ms after the removal, so the far
 * side has processed the RM_ADDR before the new join arrives (else it closes the new
 * subflow with the old address id).
 */
import {
  type Clock,
  ErrorCodes,
  type Logger,
  type Platform,
  type PluginProcesses,
  WrtkitError,
  isWrtkitError,
} from '@wrtkit/sdk';
import type { Config } from './generated/config.js';
import type { InterfaceResolver } from './interfaces.js';
import { MAX_PATHS, type Plan, type PlannedPath, type Settings, nftRuleset, plan, proxyProgram } from './model.js';
import type { Limits, LinkState, Net } from './net.js';
import { Proxy } from './proxy.js';

export interface PathRuntime {
  plan: PlannedPath;
  device: string;
  up: boolean;
  address?: string;
  gateway?: string;
  /** The endpoint address this plugin added (undefined: none in place). */
  endpoint?: string;
  /** The rule's source address in place. */
  ruleSource?: string;
  /** Monotonic ms of the last endpoint removal (the rejoin waits rejoin_delay_ms from it). */
  removedAt?: number;
  /** A link-down was seen since the last reconcile: its subflows are stale even if the link is up again. */
  flapped: boolean;
  reachable?: boolean;
  since: number;
}

/** Whether this plugin has something applied, kept across restarts (a crashed run's leftovers are removed at the next start). */
export interface AppliedMarker {
  load(): boolean;
  save(applied: boolean): void;
}

export interface MptcpDeps {
  net: Net;
  marker?: AppliedMarker;
  resolver: InterfaceResolver;
  processes: Pick<PluginProcesses, 'spawn'>;
  fs: Platform['fs'];
  clock: Clock;
  log: Logger;
}

const PING_TIMEOUT_S = 2;

function errorInfo(error: unknown): { code: string; message: string } {
  if (isWrtkitError(error)) return { code: error.code, message: error.message };
  return { code: ErrorCodes.APPLY_FAILED, message: error instanceof Error ? error.message : String(error) };
}

export class Mptcp {
  private settings: Settings | undefined;
  private planned: Plan | undefined;
  private paths: PathRuntime[] = [];
  private applied = false;
  private limitsBefore: Limits | undefined;
  private lastError: { code: string; message: string; at: number } | undefined;
  private lastReconcile: { at: number; changes: string[] } | undefined;
  private mainPath: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly proxy: Proxy;

  constructor(private readonly deps: MptcpDeps) {
    this.proxy = new Proxy({ processes: deps.processes, clock: deps.clock, log: deps.log, fs: deps.fs });
  }

  /** One change at a time: link events, timers and config changes queue up. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  get isApplied(): boolean {
    return this.applied;
  }

  /** The devices of the paths (the link events that matter). */
  devices(): Set<string> {
    return new Set(this.paths.map((p) => p.device));
  }

  /**
   * Applies the config: takes down what is in place, then brings it up again (or leaves it
   * down when disabled). Throws (after taking everything down) when it cannot be applied.
   */
  apply(config: Config): Promise<void> {
    return this.serial(async () => {
      // what the previous config made, or what a crashed run left (its marker is still set),
      // or anything in the way of what this config will make; a router that never enabled
      // the plugin is left alone (its MPTCP endpoints may be someone else's)
      const previous = this.settings;
      if (previous || config.mptcp.enabled || this.deps.marker?.load() === true) await this.takeDown(previous ?? config.mptcp);
      this.settings = config.mptcp;
      if (!config.mptcp.enabled) {
        this.lastError = undefined;
        return;
      }
      try {
        await this.bringUp(config);
        this.lastError = undefined;
      } catch (error) {
        this.lastError = { ...errorInfo(error), at: this.deps.clock.now() };
        await this.takeDown(config.mptcp);
        throw error;
      }
    });
  }

  async stop(): Promise<void> {
    await this.serial(async () => {
      const s = this.settings;
      this.settings = undefined;
      if (s) await this.takeDown(s);
    });
  }

  /** Link event or timer: put routes and endpoints right. No-op while not applied. */
  reconcile(reason: string): Promise<string[]> {
    return this.serial(async () => {
      if (!this.applied) return [];
      return this.reconcileNow(reason);
    });
  }

  /** A device went down (monitor/link hook): its subflows are stale even if it comes back before the next reconcile. */
  linkDown(ifname: string): void {
    for (const p of this.paths) if (p.device === ifname) p.flapped = true;
  }

  private async checks(config: Config, pl: Plan): Promise<PathRuntime[]> {
    const s = config.mptcp;
    const { net } = this.deps;
    const mptcp = net.mptcpEnabled();
    if (mptcp !== true) {
      throw new WrtkitError(
        ErrorCodes.UNSUPPORTED,
        mptcp === undefined
          ? 'this kernel has no MPTCP (CONFIG_MPTCP; /proc/sys/net/mptcp/enabled is missing)'
          : 'MPTCP is switched off: sysctl net.mptcp.enabled=1',
      );
    }
    const programs = [
      'ip',
      proxyProgram(s),
      ...(s.role === 'client' ? ['nft'] : []),
      ...(s.role === 'client' && s.check_peer ? ['ping'] : []),
    ];
    for (const program of programs) {
      if (!net.installed(program)) {
        const pkg: Record<string, string> = {
          'ss-redir': 'shadowsocks-libev-ss-redir',
          'ss-server': 'shadowsocks-libev-ss-server',
          ip: 'ip-full',
          nft: 'nftables',
          ping: 'iputils-ping',
        };
        throw new WrtkitError(ErrorCodes.UNSUPPORTED, `${program} is not installed (opkg install ${pkg[program] ?? program})`, {
          details: { program },
        });
      }
    }
    const links = new Map((await net.links()).map((l) => [l.ifname, l]));
    const paths: PathRuntime[] = [];
    for (const p of pl.paths) {
      const netifd = await this.deps.resolver.netifd(p.interface);
      const device = netifd?.device ?? p.interface;
      if (!netifd && !links.has(device)) {
        throw new WrtkitError(
          ErrorCodes.CONFIG_INVALID,
          `${p.uciPath}: no interface '${p.interface}' (neither netifd's nor a device)`,
          { uciPath: p.uciPath },
        );
      }
      paths.push({ plan: p, device, up: false, flapped: false, since: this.deps.clock.now() });
    }
    if (s.role === 'client') {
      s.lan.forEach((dev, i) => {
        if (!links.has(dev)) {
          const main = s['.name'] ?? 'main';
          throw new WrtkitError(ErrorCodes.CONFIG_INVALID, `mptcp.${main}.lan: no device '${dev}' (item ${i + 1})`, {
            uciPath: `mptcp.${main}.lan`,
          });
        }
      });
    }
    return paths;
  }

  private async bringUp(config: Config): Promise<void> {
    const s = config.mptcp;
    const pl = plan(config);
    const paths = await this.checks(config, pl);
    // nothing changed yet; from here on a failure takes down what was made
    this.planned = pl;
    this.paths = paths;
    this.applied = true;
    this.deps.marker?.save(true);
    const { net, log } = this.deps;
    this.limitsBefore = await net.limits();
    await net.setLimits({ subflows: s.subflows, addAddrAccepted: s.add_addr_accepted });
    await this.reconcileNow('apply');
    if (s.role === 'client' && s.check_peer) await this.checkPeer(s);
    await this.proxy.start(s);
    if (s.role === 'client') await net.nft(nftRuleset(s));
    log.info('mptcp applied', {
      role: s.role,
      paths: this.paths.map((p) => `${p.plan.name}=${p.device}:${p.up ? 'up' : 'down'}`).join(' '),
    });
  }

  /** Pings the peer from every live path's address; none answering is an error (a wrong peer, a blocked port …). */
  private async checkPeer(s: Settings): Promise<void> {
    const peer = s.peer ?? '';
    const live = this.paths.filter((p) => p.up && p.address !== undefined);
    if (live.length === 0) {
      this.deps.log.warn('mptcp: no path is up yet; the peer is checked when one comes up');
      return;
    }
    await Promise.all(
      live.map(async (p) => {
        p.reachable = await this.deps.net.ping(p.address ?? '', peer, PING_TIMEOUT_S);
        if (!p.reachable) this.deps.log.warn(`mptcp: peer ${peer} does not answer over path ${p.plan.name} (${p.device})`);
      }),
    );
    if (!live.some((p) => p.reachable)) {
      throw new WrtkitError(
        ErrorCodes.APPLY_FAILED,
        `peer ${peer} is not reachable over any path (${live.map((p) => `${p.plan.name}: from ${p.address ?? '?'} via ${p.gateway ?? p.device}`).join(', ')}); check mptcp.${s['.name'] ?? 'main'}.peer, the paths' gateways and the far router`,
        { details: { reason: 'peer-unreachable', peer } },
      );
    }
  }

  private async reconcileNow(reason: string): Promise<string[]> {
    const s = this.settings;
    const pl = this.planned;
    if (!s || !pl) return [];
    const { net, clock } = this.deps;
    const changes: string[] = [];
    const links = new Map((await net.links()).map((l) => [l.ifname, l]));
    const endpoints = s.role === 'client' ? await net.endpoints() : [];
    const rules = s.role === 'client' ? await net.rules() : [];
    for (const p of this.paths) {
      await this.observe(p, links);
      if (s.role !== 'client') continue;
      const ep = endpoints.find((e) => e.id === p.plan.id);
      if (!p.up || p.address === undefined) {
        if (ep) {
          await net.deleteEndpoint(p.plan.id);
          p.removedAt = clock.monotonic();
          changes.push(`${p.plan.name}: endpoint removed (path down)`);
        }
        p.endpoint = undefined;
        p.flapped = false;
        continue;
      }
      // the path's table and rule (a link going down took the route with it)
      await net.replaceRoute(
        '0.0.0.0/0',
        { dev: p.device, ...(p.gateway !== undefined ? { gateway: p.gateway } : {}) },
        p.plan.table,
      );
      const mine = rules.filter((r) => r.priority === p.plan.priority && r.table === String(p.plan.table));
      if (!mine.some((r) => r.src === p.address)) {
        for (const r of mine) await net.deleteRule(r);
        await net.addRule(p.address, p.plan.table, p.plan.priority);
        changes.push(`${p.plan.name}: rule from ${p.address}`);
      }
      p.ruleSource = p.address;
      const stale =
        ep !== undefined && (ep.address !== p.address || ep.dev !== p.device || p.flapped || p.endpoint === undefined);
      if (stale) {
        await net.deleteEndpoint(p.plan.id);
        p.removedAt = clock.monotonic();
      }
      if (!ep || stale) {
        const wait = p.removedAt === undefined ? 0 : p.removedAt + s.rejoin_delay_ms - clock.monotonic();
        if (wait > 0) await clock.sleep(wait);
        await net.addEndpoint(p.address, p.device, p.plan.id, p.plan.mode === 'backup');
        changes.push(`${p.plan.name}: endpoint ${p.address} dev ${p.device} id ${p.plan.id}${stale ? ' (re-added)' : ''}`);
      }
      p.endpoint = p.address;
      p.flapped = false;
    }
    changes.push(...(await this.mainRoutes(pl)));
    if (s.role === 'client' && s.check_peer) {
      for (const p of this.paths) if (!p.up) p.reachable = undefined;
    }
    if (changes.length > 0) this.deps.log.info(`mptcp: ${reason}`, { changes: changes.join('; ') });
    this.lastReconcile = { at: clock.now(), changes };
    return changes;
  }

  /** Up/down, address and gateway of one path now. */
  private async observe(p: PathRuntime, links: Map<string, LinkState>): Promise<void> {
    const netifd = await this.deps.resolver.netifd(p.plan.interface);
    if (netifd) p.device = netifd.device;
    const link = links.get(p.device);
    const address = netifd?.address ?? link?.addresses[0];
    const up = link?.up === true && (netifd ? netifd.up : true) && address !== undefined;
    if (up !== p.up) {
      p.up = up;
      p.since = this.deps.clock.now();
      if (!up) p.flapped = true;
    }
    p.address = address;
    if (!up) return;
    const gateway = p.plan.gateway ?? netifd?.gateway ?? (await this.deps.net.defaultGateway(p.device)) ?? p.gateway;
    p.gateway = gateway;
  }

  /** The peer and `list route` on the first live path ('on' before 'backup'). */
  private async mainRoutes(pl: Plan): Promise<string[]> {
    const live = this.paths.filter((p) => p.up);
    const best = live.find((p) => p.plan.mode === 'on') ?? live[0];
    if (!best || pl.routes.length === 0) {
      this.mainPath = undefined;
      return [];
    }
    const current = new Map((await this.deps.net.routes('main')).map((r) => [r.dst, r]));
    const changes: string[] = [];
    for (const dst of pl.routes) {
      const r = current.get(dst);
      if (r && r.dev === best.device && r.gateway === best.gateway) continue;
      await this.deps.net.replaceRoute(dst, {
        dev: best.device,
        ...(best.gateway !== undefined ? { gateway: best.gateway } : {}),
      });
      changes.push(`route ${dst} via ${best.plan.name}`);
    }
    this.mainPath = best.plan.name;
    return changes;
  }

  /** Removes everything this plugin makes, found by its tags (also what a crashed run left). */
  private async takeDown(s: Settings): Promise<void> {
    const { net, log } = this.deps;
    const wasApplied = this.applied;
    this.applied = false;
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (error) {
        problems.push(`${what}: ${errorInfo(error).message}`);
      }
    };
    await attempt('nftables', () => net.deleteNftTable());
    await attempt('proxy', () => this.proxy.stop());
    const devices = this.devices();
    // the server side never adds endpoints: the ones there are someone else's
    if (s.role === 'client')
      await attempt('endpoints', async () => {
        for (const e of await net.endpoints()) {
          if (e.id <= MAX_PATHS || (e.dev !== undefined && devices.has(e.dev))) await net.deleteEndpoint(e.id);
        }
      });
    await attempt('rules', async () => {
      for (const r of await net.rules()) if (r.protocol === '91') await net.deleteRule(r);
    });
    await attempt('routes', async () => {
      for (const r of await net.routes('main')) await net.deleteRoute(r.dst);
      for (let i = 1; i <= MAX_PATHS; i++) {
        for (const r of await net.routes(s.table_base + i)) await net.deleteRoute(r.dst, s.table_base + i);
      }
    });
    if (this.limitsBefore) {
      const limits = this.limitsBefore;
      await attempt('limits', () => net.setLimits(limits));
      this.limitsBefore = undefined;
    }
    for (const p of this.paths) {
      p.endpoint = undefined;
      p.ruleSource = undefined;
    }
    this.planned = undefined;
    this.mainPath = undefined;
    if (problems.length === 0) this.deps.marker?.save(false);
    if (problems.length > 0) log.warn('mptcp: could not remove everything', { problems: problems.join('; ') });
    else if (wasApplied) log.info('mptcp taken down');
  }

  /** `mptcp status`: the paths (state, addresses, endpoint, bytes), connections and their subflows, the proxy. */
  async status(): Promise<Record<string, unknown>> {
    const s = this.settings;
    const { net } = this.deps;
    let subflows: Awaited<ReturnType<Net['subflows']>> = [];
    let subflowError: string | undefined;
    if (this.applied) {
      try {
        subflows = await net.subflows();
      } catch (error) {
        subflowError = errorInfo(error).message;
      }
    }
    const ofPath = (p: PathRuntime) =>
      subflows.filter((f) => f.dev === p.device || (p.address !== undefined && f.local === p.address));
    const pathOf = (f: (typeof subflows)[number]): string | undefined =>
      this.paths.find((p) => f.dev === p.device || (p.address !== undefined && f.local === p.address))?.plan.name;
    const connections = new Map<string, typeof subflows>();
    for (const f of subflows) {
      const key = f.token ?? `${f.local}:${f.localPort}`;
      connections.set(key, [...(connections.get(key) ?? []), f]);
    }
    return {
      enabled: s?.enabled === true,
      ...(s ? { role: s.role } : {}),
      applied: this.applied,
      ...(this.lastError ? { error: this.lastError } : {}),
      ...(s?.role === 'client' && s.peer !== undefined ? { peer: s.peer } : {}),
      ...(this.mainPath !== undefined ? { main_path: this.mainPath } : {}),
      paths: this.paths.map((p) => {
        const flows = ofPath(p);
        const counters = net.counters(p.device);
        return {
          name: p.plan.name,
          interface: p.plan.interface,
          device: p.device,
          mode: p.plan.mode,
          up: p.up,
          since: p.since,
          ...(p.address !== undefined ? { address: p.address } : {}),
          ...(p.gateway !== undefined ? { gateway: p.gateway } : {}),
          ...(s?.role === 'client' ? { table: p.plan.table, endpoint_id: p.plan.id, endpoint: p.endpoint !== undefined } : {}),
          ...(p.reachable !== undefined ? { reachable: p.reachable } : {}),
          subflows: flows.length,
          subflow_tx_bytes: flows.reduce((n, f) => n + f.bytesAcked, 0),
          subflow_rx_bytes: flows.reduce((n, f) => n + f.bytesReceived, 0),
          ...(counters ? { tx_bytes: counters.txBytes, rx_bytes: counters.rxBytes } : {}),
        };
      }),
      connections: [...connections].map(([token, flows]) => ({
        token,
        subflows: flows.map((f) => ({
          // the first subflow is not bound to a device (it follows the main route): its address says the path
          ...(pathOf(f) !== undefined ? { path: pathOf(f) } : {}),
          local: `${f.local}:${f.localPort}`,
          remote: `${f.remote}:${f.remotePort}`,
          ...(f.dev !== undefined ? { device: f.dev } : {}),
          initial: f.initial,
          tx_bytes: f.bytesAcked,
          rx_bytes: f.bytesReceived,
          retrans_bytes: f.bytesRetrans,
          ...(f.rttMs !== undefined ? { rtt_ms: f.rttMs } : {}),
        })),
      })),
      ...(subflowError !== undefined ? { subflows_error: subflowError } : {}),
      proxy: this.proxy.info(),
      ...(this.lastReconcile ? { last_reconcile: this.lastReconcile } : {}),
    };
  }
}
