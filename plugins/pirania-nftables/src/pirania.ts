/**
 * The running portal: it keeps the kernel (the nftables gate), the portal page, the
 * portal resolver and the other plugins (the clientAuthorization hook) in step with the
 * voucher store. The store is the truth; everything else follows it:
 *
 * - every store change (a code accepted, an invalidation, a merge, pruning) and every
 *   expiry runs `sync`, which compares the authorizations with what the gate last got,
 *   adds (one transaction) or refills (one transaction) the MAC sets, and then tells the
 *   hook who came and who went;
 * - `start` (ready, config change) rebuilds the whole gate from the store in one
 *   transaction, so a reboot, a flushed ruleset or a changed config always ends with the
 *   kernel matching the store;
 * - gate operations run one at a time, in order, on one queue.
 */
import {
  type Cancel,
  type ClientAuthorizationEvent,
  type ConnectivityEvent,
  type HttpServer,
  type PluginContext,
  type UciPackage,
  serveHttp,
} from '@wrtkit/sdk';
import { type PortalContent, readContent } from './content.js';
import { PortalResolver, type ResolverSettings, routerAddresses } from './dns/index.js';
import type { Config } from './generated/config.js';
import { type PiraniaMethodsDeps, createPiraniaMethods } from './methods.js';
import { NftGate } from './nft/gate.js';
import { gateConfigFrom } from './nft/ruleset.js';
import {
  CodeAttemptLimiter,
  attemptLimits,
  captiveApiUrl,
  composeCaptivePortalDhcp,
  createMacOf,
  createPortal,
  portalSettings,
} from './portal/index.js';
import type { Authorization } from './vouchers/voucher.js';
import { Vouchers } from './vouchers/vouchers.js';
import { readHostname } from './vouchers/hostname.js';
import { parseMac } from './vouchers/mac.js';

type Base = Config['base_config'];
type Ctx = PluginContext<Config>;

/** How often the gate is checked against the kernel (someone ran `fw4 restart`, `nft flush ruleset`). */
export const VERIFY_INTERVAL_MS = 60_000;
/** How often expired vouchers are pruned (Pirania prunes at start; a router runs for months). */
export const PRUNE_INTERVAL_MS = 6 * 60 * 60_000;
/** The expiry timer never sleeps longer than this (wall-clock jumps at NTP sync). */
const MAX_TIMER_MS = 60 * 60_000;
/** Wake a little after an expiry, so that the voucher really is over when we look. */
const EXPIRY_SLACK_MS = 50;

/** MAC → Unix seconds when access ends (undefined: permanent). */
type Granted = Map<string, number | undefined>;

function grantedOf(authorizations: readonly Authorization[]): Granted {
  const out: Granted = new Map();
  for (const a of authorizations) {
    const prev = out.get(a.mac);
    // a MAC with two vouchers: the later end wins, no end beats every end
    if (!out.has(a.mac) || (prev !== undefined && (a.expiresAt === undefined || a.expiresAt > prev))) out.set(a.mac, a.expiresAt);
  }
  return out;
}

/** What changed between two grants: who came (or got longer), who went (or got shorter). */
function diff(before: Granted, after: Granted): { added: string[]; removed: string[]; shortened: boolean } {
  const added: string[] = [];
  const removed: string[] = [];
  let shortened = false;
  for (const [mac, until] of after) {
    if (!before.has(mac)) added.push(mac);
    else {
      const prev = before.get(mac);
      if (prev !== until) {
        if (until !== undefined && (prev === undefined || until < prev)) shortened = true;
        else added.push(mac);
      }
    }
  }
  for (const mac of before.keys()) if (!after.has(mac)) removed.push(mac);
  return { added, removed, shortened: shortened || removed.length > 0 };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class Pirania {
  private vouchers: Vouchers;
  private unsubscribe: () => void;
  private readonly gate: NftGate;
  private readonly resolver: PortalResolver;
  private readonly limiter: CodeAttemptLimiter;
  private server: HttpServer | undefined;
  private serverKey = '';
  /** What the gate and the hook were last told. */
  private granted: Granted = new Map();
  /** Whether the gate is up (portal enabled and reconciled). */
  private gating = false;
  private queue: Promise<void> = Promise.resolve();
  private expiryTimer: Cancel | undefined;
  private timers: Cancel[] = [];
  private stopped = false;
  /** Connectivity rule → online, from the connectivity hook. */
  private readonly uplinks = new Map<string, boolean>();
  /** Captive-portal API URLs announced over DHCP before, withdrawn when the URL changes. */
  private announcedApiUrls: string[] = [];
  private readonly dhcpWarnings = new Set<string>();

  constructor(private readonly ctx: Ctx) {
    this.vouchers = this.openStore(ctx.config.base_config);
    this.unsubscribe = this.vouchers.onChange(() => this.sync('store'));
    this.gate = new NftGate(ctx.processes, ctx.log.child('nft'), ctx.clock);
    this.resolver = new PortalResolver(ctx.processes, ctx.platform.fs, ctx.clock, ctx.log.child('dns'), this.base.run_dir);
    this.limiter = new CodeAttemptLimiter(attemptLimits(this.base), ctx.clock);
  }

  private get base(): Base {
    return this.ctx.config.base_config;
  }

  private openStore(base: Base): Vouchers {
    const { ctx } = this;
    // Not pruned here: setup only wires (`wrtkit acl` runs it); start() prunes.
    return Vouchers.open({
      fs: ctx.platform.fs,
      dbPath: base.db_path,
      randomBytes: (n) => ctx.platform.randomBytes(n),
      clock: ctx.clock,
      hostname: () => readHostname(ctx.platform.fs, ctx.uci),
      pruneExpiredForDays: base.prune_expired_for_days,
      log: ctx.log.child('vouchers'),
      prune: false,
    });
  }

  /** The `pirania` methods' view of the plugin. */
  methodsDeps(): PiraniaMethodsDeps {
    const self = this;
    return {
      get vouchers() {
        return self.vouchers;
      },
      portalConfig: () => ({ enabled: this.base.enabled, with_vouchers: this.base.with_vouchers }),
      // Pirania writes pirania.base_config.enabled and restarts; we write it and the host's
      // reload brings the gate up or down (configChanged).
      setPortalConfig: ({ activated }) => this.ctx.setConfig({ 'base_config.enabled': activated ? '1' : '0' }),
      portalUrl: () => portalSettings(this.base).portalUrl,
      setPortalUrl: (url) => this.ctx.setConfig({ 'base_config.portal_url': url }),
      contentFs: this.ctx.platform.fs,
      contentPath: () => this.base.content_path,
      settled: () => this.settled(),
    };
  }

  methods(): ReturnType<typeof createPiraniaMethods> {
    return createPiraniaMethods(this.methodsDeps());
  }

  /** Resolves when every gate operation asked for so far has run. */
  settled(): Promise<void> {
    return this.queue;
  }

  /** Runs fn after the gate operations before it; a failure is logged and does not stop the queue. */
  private enqueue(what: string, fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn);
    this.queue = run.catch((error: unknown) => this.ctx.log.error(`${what} failed`, { error: String(error) }));
    return run;
  }

  /** Whether the uplink is usable: the configured connectivity rule, else any rule; unknown counts as online. */
  online(): boolean {
    const rule = this.base.connectivity_rule;
    if (rule !== undefined) return this.uplinks.get(rule) ?? true;
    if (this.uplinks.size === 0) return true;
    return [...this.uplinks.values()].some(Boolean);
  }

  onConnectivity(event: ConnectivityEvent): void {
    const before = this.online();
    this.uplinks.set(event.rule, event.online);
    if (before !== this.online())
      this.ctx.log.info(this.online() ? 'uplink back: taking codes again' : 'uplink down: the portal says so');
  }

  // -------------------------------------------------------------------------------------
  // lifecycle

  /** Brings everything in line with the config and the store (ready, config change). */
  start(): Promise<void> {
    return this.enqueue('start', async () => {
      if (this.stopped) return;
      const base = this.base;
      if (!base.with_vouchers) {
        this.ctx.log.warn('with_vouchers=0 (read-for-access) is not supported: the portal asks for vouchers');
      }
      if (!base.enabled) {
        await this.stopServices();
        await this.gate.remove();
        this.gating = false;
        this.cancelExpiryTimer();
        this.ctx.log.info('portal disabled: nobody is gated (pirania.base_config.enabled=0)');
        return;
      }
      const pruned = this.vouchers.prune();
      if (pruned.length > 0) this.ctx.log.info('pruned expired vouchers', { count: pruned.length });
      const authorizations = this.vouchers.authorizations();
      await this.gate.reconcile(gateConfigFrom(base), authorizations);
      this.gating = true;
      const before = this.granted;
      this.granted = grantedOf(authorizations);
      this.announce(before, this.granted);
      await this.startServices();
      this.scheduleExpiry();
      this.ctx.log.info('portal up', {
        authorized: this.granted.size,
        portal: portalSettings(base).portalUrl,
        catch: [...base.catch_interfaces, ...base.catch_bridged_interfaces].join(' '),
      });
    });
  }

  /** ready: the first start, and the timers that keep things right while the router runs. */
  async ready(): Promise<void> {
    await this.start();
    this.timers.push(this.ctx.clock.setInterval(() => void this.maintain(), VERIFY_INTERVAL_MS));
    this.timers.push(this.ctx.clock.setInterval(() => void this.prune(), PRUNE_INTERVAL_MS));
  }

  async configChanged(config: Config, previous: Config): Promise<void> {
    const base = config.base_config;
    const prev = previous.base_config;
    if (base.db_path !== prev.db_path || base.prune_expired_for_days !== prev.prune_expired_for_days) {
      this.unsubscribe();
      this.vouchers = this.openStore(base);
      this.unsubscribe = this.vouchers.onChange(() => this.sync('store'));
    }
    this.limiter.configure(attemptLimits(base));
    const dhcpChanged =
      base.enabled !== prev.enabled ||
      !sameList(base.captive_portal_dhcp, prev.captive_portal_dhcp) ||
      portalSettings(base).portalUrl !== portalSettings(prev).portalUrl;
    if (dhcpChanged) this.ctx.requestCompose('dhcp', 'captive portal announcement changed');
    await this.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const cancel of this.timers) cancel();
    this.timers = [];
    this.cancelExpiryTimer();
    this.unsubscribe();
    await this.queue;
    // The gate stays in the kernel: a host restart must not let anyone through, and the
    // kernel keeps expiring authorizations on time while we are away.
    await this.stopServices();
  }

  private async startServices(): Promise<void> {
    const base = this.base;
    const settings = await this.resolverSettings();
    if (this.resolver.active) this.resolver.update(settings);
    else this.resolver.start(settings);

    const key = String(base.portal_port);
    if (this.server && this.serverKey === key) return;
    await this.server?.close();
    this.server = undefined;
    this.server = await serveHttp(this.ctx.platform, {
      host: '::',
      port: base.portal_port,
      handler: this.portal(),
      onError: (error) => this.ctx.log.debug('portal request', { error: String(error) }),
    });
    this.serverKey = key;
  }

  /** What the portal resolver answers: the router's current addresses on the catch interfaces. */
  private async resolverSettings(): Promise<ResolverSettings> {
    const base = this.base;
    return {
      port: base.dns_port,
      portalDomain: base.portal_domain,
      ...(await routerAddresses(this.ctx.processes, [...base.catch_interfaces, ...base.catch_bridged_interfaces])),
    };
  }

  private async stopServices(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.serverKey = '';
    await server?.close();
    await this.resolver.stop();
  }

  private portal(): ReturnType<typeof createPortal> {
    const { ctx } = this;
    return createPortal({
      vouchers: {
        activate: (code, mac) => this.vouchers.activate(code, mac),
        authorizationOf: (mac) => {
          const wanted = parseMac(mac);
          return this.vouchers.authorizations().find((a) => a.mac === wanted);
        },
      },
      content: (): PortalContent => readContent(ctx.platform.fs, this.base.content_path),
      settings: () => portalSettings(this.base),
      online: () => this.online(),
      macOf: createMacOf({ fs: ctx.platform.fs, processes: ctx.processes }),
      limiter: this.limiter,
      clock: ctx.clock,
      log: ctx.log.child('portal'),
      // The store's change already queued the gate update; the success page waits for it.
      onActivated: () => this.settled(),
    });
  }

  // -------------------------------------------------------------------------------------
  // keeping the gate in step

  /** Makes the gate and the hook follow the store (after a change or an expiry). */
  private sync(reason: string): Promise<void> {
    return this.enqueue(`sync (${reason})`, async () => {
      if (this.stopped) return;
      const authorizations = this.vouchers.authorizations();
      const next = grantedOf(authorizations);
      const change = diff(this.granted, next);
      if (this.gating) {
        if (change.shortened) await this.gate.refill(authorizations);
        else if (change.added.length > 0) await this.gate.authorize(authorizations);
      }
      const before = this.granted;
      this.granted = next;
      this.announce(before, next);
      this.scheduleExpiry();
    });
  }

  /** Tells the other plugins who came and who went; not awaited, so a slow tap never holds the gate. */
  private announce(before: Granted, after: Granted): void {
    const events: ClientAuthorizationEvent[] = [];
    for (const [mac, until] of after) {
      if (before.has(mac) && before.get(mac) === until) continue;
      events.push({ mac, authorized: true, ...(until !== undefined ? { until: until * 1000 } : {}) });
    }
    for (const mac of before.keys()) if (!after.has(mac)) events.push({ mac, authorized: false });
    for (const event of events) {
      this.ctx.log.info(event.authorized ? 'client authorized' : 'client deauthorized', { mac: event.mac });
      void this.ctx.hooks.clientAuthorization.call(event);
    }
  }

  private cancelExpiryTimer(): void {
    this.expiryTimer?.();
    this.expiryTimer = undefined;
  }

  private scheduleExpiry(): void {
    this.cancelExpiryTimer();
    if (this.stopped) return;
    const next = this.vouchers.nextChange();
    if (next === undefined) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next * 1000 - this.ctx.clock.now()) + EXPIRY_SLACK_MS);
    this.expiryTimer = this.ctx.clock.setTimeout(() => {
      this.expiryTimer = undefined;
      void this.sync('expiry');
    }, delay);
  }

  /** The periodic check: the tables are where they should be, the resolver answers the current addresses. */
  private maintain(): Promise<void> {
    return this.enqueue('maintenance', async () => {
      if (this.stopped || !this.base.enabled) return;
      if (!(await this.gate.verify())) {
        this.ctx.log.warn('the pirania tables were changed behind our back: rebuilding them');
        const authorizations = this.vouchers.authorizations();
        await this.gate.reconcile(gateConfigFrom(this.base), authorizations);
        this.granted = grantedOf(authorizations);
      }
      this.resolver.update(await this.resolverSettings());
    });
  }

  private prune(): void {
    if (this.stopped) return;
    const pruned = this.vouchers.prune();
    if (pruned.length > 0) this.ctx.log.info('pruned expired vouchers', { count: pruned.length });
  }

  // -------------------------------------------------------------------------------------
  // DHCP announcement (RFC 8910)

  composeDhcp(pkg: UciPackage): UciPackage {
    const base = this.base;
    const apiUrl = captiveApiUrl(portalSettings(base).portalUrl);
    const sections = base.enabled ? base.captive_portal_dhcp : [];
    composeCaptivePortalDhcp(pkg, sections, apiUrl, {
      previousUrls: this.announcedApiUrls.filter((u) => u !== apiUrl),
      onIssue: (issue) => {
        const message = `pirania.base_config.captive_portal_dhcp: dhcp.${issue.section} ${issue.reason}; not announced there`;
        // once, not at every composition
        if (this.dhcpWarnings.has(message)) return;
        this.dhcpWarnings.add(message);
        this.ctx.log.warn(message);
      },
    });
    if (!this.announcedApiUrls.includes(apiUrl)) this.announcedApiUrls.push(apiUrl);
    return pkg;
  }

  /** For status: what the gate holds, as far as we know. */
  status(): { enabled: boolean; gating: boolean; online: boolean; authorized: number; vouchers: number } {
    return {
      enabled: this.base.enabled,
      gating: this.gating,
      online: this.online(),
      authorized: this.granted.size,
      vouchers: this.vouchers.list().length,
    };
  }
}
