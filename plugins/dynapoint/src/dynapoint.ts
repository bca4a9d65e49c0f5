/**
 * The running plugin: one probe loop per rule, a verdict per rule (verdict.ts), the
 * wireless state that follows the verdicts (wireless.ts, applied through the host's
 * composition: one apply per switch, only the ifaces of that rule), and the connectivity
 * hook for the other plugins (the host also sends it on ubus as `wrtkit.connectivity`).
 */
import type { Cancel, PluginContext, UciPackage } from '@wrtkit/sdk';
import type { Config } from './generated/config.js';
import {
  type ProbeOptions,
  type ProbeResult,
  type ProbeTarget,
  type Prober,
  createProber,
  parseStatusRanges,
  parseTarget,
  probeRound,
} from './probes/index.js';

import { type RuleState, type Verdict, initialVerdict, nextVerdict } from './verdict.js';
import { type Follower, type RuleView, type WirelessProblem, applyStates, followers, stateFromWireless } from './wireless.js';

type RuleConfig = Config['rule'][number];
type Ctx = PluginContext<Config>;

/** The last round of a rule, as `dynapoint status` shows it. */
export interface RoundReport {
  /** Wall-clock ms when the round ended. */
  at: number;
  online: boolean;
  results: ProbeResult[];
}

interface Rule {
  config: RuleConfig;
  targets: ProbeTarget[];
  /** Worked out once per config, not per round. */
  options: ProbeOptions;
  verdict?: Verdict;
  last?: RoundReport;
  timer?: Cancel;
  /** Bumped when the rule is restarted: a round that was under way is then ignored. */
  generation: number;
}

export interface RuleStatus {
  rule: string;
  enabled: boolean;
  state: RuleState | 'unknown';
  since?: number;
  rounds: number;
  failed_rounds: number;
  good_rounds: number;
  switches: number;
  offline_threshold: number;
  online_threshold: number;
  interval: number;
  last_round?: { at: number; online: boolean; results: Array<{ target: string; ok: boolean; ms: number; detail: string }> };
}

function probeOptions(rule: RuleConfig): ProbeOptions {
  // Upstream: curl --head without -f accepts any answer; wget --spider wants 2xx/3xx.
  const fallback = rule.use_curl ? '100-599' : '200-399';
  const iface = rule.interface ?? (rule.use_curl ? rule.curl_interface : undefined);
  return {
    timeoutMs: rule.timeout * 1000,
    expectStatus: parseStatusRanges(rule.expect_status ?? fallback) ?? [[200, 399]],
    useCurl: rule.use_curl,
    ...(iface !== undefined ? { interface: iface } : {}),
    ...(rule.source !== undefined ? { source: rule.source } : {}),
  };
}

export class Dynapoint {
  private readonly rules = new Map<string, Rule>();
  private readonly prober: Prober;
  private problems: WirelessProblem[] = [];
  private readonly reported = new Set<string>();
  private started = false;
  private stopped = false;

  constructor(private readonly ctx: Ctx) {
    this.prober = createProber({
      processes: ctx.processes,
      sockets: ctx.platform.sockets,
      fs: ctx.platform.fs,
      clock: ctx.clock,
      randomBytes: (n) => ctx.platform.randomBytes(n),
    });
    this.load(ctx.config);
  }

  /** The rules of a config; targets were checked by the schema's pattern, parseTarget says why when not. */
  private load(config: Config): void {
    const seen = new Set<string>();
    for (const rc of config.rule) {
      const name = rc['.name'];
      seen.add(name);
      const targets: ProbeTarget[] = [];
      rc.hosts.forEach((host, i) => {
        const parsed = parseTarget(host);
        if (parsed.ok) targets.push(parsed.target);
        else
          this.ctx.log.error(`dynapoint.${name}.hosts[${i}]: ${parsed.reason}; not probed`, {
            code: 'WRTKIT_ERR_CONFIG_INVALID',
          });
      });
      const existing = this.rules.get(name);
      if (existing) {
        existing.config = rc;
        existing.targets = targets;
        existing.options = probeOptions(rc);
      } else {
        this.rules.set(name, { config: rc, targets, options: probeOptions(rc), generation: 0 });
      }
    }
    for (const [name, rule] of this.rules) {
      if (seen.has(name)) continue;
      rule.timer?.();
      this.rules.delete(name);
    }
  }

  private views(): Map<string, RuleView> {
    const out = new Map<string, RuleView>();
    for (const [name, r] of this.rules)
      out.set(name, { name, enabled: r.config.enabled, addHostnameToSsid: r.config.add_hostname_to_ssid });
    return out;
  }

  /** This node's name: system.@system[0].hostname, else the kernel's. */
  hostname(): string {
    const fromUci = this.ctx.uci.get('system')?.ofType('system')[0]?.get('hostname');
    if (typeof fromUci === 'string' && fromUci !== '') return fromUci;
    return this.ctx.platform.fs.tryReadText('/proc/sys/kernel/hostname')?.trim() || 'OpenWrt';
  }

  // -------------------------------------------------------------------------------------
  // lifecycle

  ready(): void {
    this.started = true;
    const wireless = this.ctx.uci.get('wireless');
    const list = wireless ? followers(wireless, this.views(), this.hostname()).followers : [];
    for (const [name, rule] of this.rules) if (rule.config.enabled && !rule.verdict) this.begin(name, rule, list);
    for (const name of this.rules.keys()) this.schedule(name, true);
  }

  /** A rule's first verdict: the state its ifaces were left in, announced. */
  private begin(name: string, rule: Rule, list: readonly Follower[]): void {
    rule.verdict = initialVerdict(stateFromWireless(list, name), this.ctx.clock.now());
    this.ctx.log.info(`rule ${name} starts ${rule.verdict.state}`, { hosts: rule.config.hosts.join(' ') });
    void this.publish(name, rule.verdict);
  }

  async configChanged(config: Config): Promise<void> {
    this.load(config);
    const wireless = this.ctx.uci.get('wireless');
    const list = wireless ? followers(wireless, this.views(), this.hostname()).followers : [];
    for (const [name, rule] of this.rules) {
      rule.generation++;
      rule.timer?.();
      rule.timer = undefined;
      if (!rule.config.enabled) {
        delete rule.verdict;
        continue;
      }
      if (!this.started) continue;
      if (!rule.verdict) this.begin(name, rule, list);
      this.schedule(name, true);
    }
    this.ctx.requestCompose('wireless', 'dynapoint config changed');
  }

  stop(): void {
    this.stopped = true;
    for (const rule of this.rules.values()) rule.timer?.();
  }

  // -------------------------------------------------------------------------------------
  // probing

  private jitterMs(rule: RuleConfig): number {
    if (rule.jitter <= 0) return 0;
    const [a = 0, b = 0] = this.ctx.platform.randomBytes(2);
    return Math.floor(((a * 256 + b) / 65536) * rule.jitter * 1000);
  }

  private schedule(name: string, first = false): void {
    const rule = this.rules.get(name);
    if (!rule || this.stopped || !rule.config.enabled) return;
    rule.timer?.();
    // The first round at once (plus jitter): the state is known a round after start.
    const delay = (first ? 0 : rule.config.interval * 1000) + this.jitterMs(rule.config);
    const generation = rule.generation;
    rule.timer = this.ctx.clock.setTimeout(() => {
      rule.timer = undefined;
      void this.round(name, generation);
    }, delay);
  }

  /** Runs one probe round of a rule now and applies its verdict. */
  async round(name: string, generation?: number): Promise<RoundReport | undefined> {
    const rule = this.rules.get(name);
    if (!rule || !rule.verdict) return undefined;
    const gen = generation ?? rule.generation;
    const outcome = await probeRound(this.prober, rule.targets, rule.options);
    if (this.stopped || rule.generation !== gen || this.rules.get(name) !== rule || !rule.verdict) return undefined;
    const now = this.ctx.clock.now();
    rule.last = { at: now, online: outcome.online, results: outcome.results };
    const { verdict, switched } = nextVerdict(
      rule.verdict,
      outcome.online,
      { offlineThreshold: rule.config.offline_threshold, onlineThreshold: rule.config.online_threshold },
      now,
    );
    rule.verdict = verdict;
    const detail = outcome.results.map((r) => `${r.target} ${r.ok ? 'ok' : 'failed'} (${r.detail})`).join(', ');
    if (switched) {
      this.ctx.log.info(`rule ${name} switched to ${verdict.state}`, { round: verdict.rounds, probes: detail });
      this.ctx.requestCompose('wireless', `rule ${name} ${verdict.state}`);
      void this.publish(name, verdict);
    } else {
      const counter =
        verdict.state === 'online'
          ? `failed ${verdict.failedRounds}/${rule.config.offline_threshold}`
          : `good ${verdict.goodRounds}/${rule.config.online_threshold}`;
      this.ctx.log.debug(
        `rule ${name} round ${verdict.rounds}: ${outcome.online ? 'online' : 'offline'}, stays ${verdict.state} (${counter})`,
        {
          probes: detail,
        },
      );
    }
    if (generation !== undefined) this.schedule(name);
    return rule.last;
  }

  private publish(rule: string, verdict: Verdict): Promise<void> {
    return this.ctx.hooks.connectivity.call({ rule, online: verdict.state === 'online', since: verdict.since });
  }

  // -------------------------------------------------------------------------------------
  // wireless

  /** The compose.wireless tap: the ifaces of every rule with a verdict follow it. */
  composeWireless(pkg: UciPackage): UciPackage {
    const views = this.views();
    const hostname = this.hostname();
    const { followers: list, problems } = followers(pkg, views, hostname);
    this.problems = problems;
    for (const p of problems) {
      const line = `${p.uciPath}: ${p.message}`;
      if (this.reported.has(line)) continue;
      this.reported.add(line);
      // Named like a config error: the user fixes /etc/config/wireless; that iface stays as it is meanwhile.
      this.ctx.log.error(`${line}; left as it is`, { code: 'WRTKIT_ERR_CONFIG_INVALID' });
    }
    const states = new Map<string, RuleState>();
    for (const [name, rule] of this.rules) if (rule.verdict) states.set(name, rule.verdict.state);
    applyStates(list, states, views, hostname);
    return pkg;
  }

  // -------------------------------------------------------------------------------------
  // status

  status(): { rules: RuleStatus[]; problems: WirelessProblem[] } {
    const rules: RuleStatus[] = [];
    for (const [name, r] of this.rules) {
      const v = r.verdict;
      rules.push({
        rule: name,
        enabled: r.config.enabled,
        state: v?.state ?? 'unknown',
        ...(v ? { since: v.since } : {}),
        rounds: v?.rounds ?? 0,
        failed_rounds: v?.failedRounds ?? 0,
        good_rounds: v?.goodRounds ?? 0,
        switches: v?.switches ?? 0,
        offline_threshold: r.config.offline_threshold,
        online_threshold: r.config.online_threshold,
        interval: r.config.interval,
        ...(r.last
          ? {
              last_round: {
                at: r.last.at,
                online: r.last.online,
                results: r.last.results.map((x) => ({ target: x.target, ok: x.ok, ms: x.ms, detail: x.detail })),
              },
            }
          : {}),
      });
    }
    return { rules, problems: this.problems };
  }

  has(rule: string): boolean {
    return this.rules.has(rule);
  }
}
