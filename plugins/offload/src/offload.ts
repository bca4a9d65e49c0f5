/**
 * The offload plugin's core: /etc/config/offload → offloadd's argv and its `configure`
 * request. The daemon is started when the config enables it (at ready and on every valid
 * change), configured after each start (so a restarted daemon gets its interfaces back),
 * re-configured on a change of what `configure` carries, restarted on a change of its
 * argv, stopped when disabled. A deauthorized client's flows are flushed at once, and
 * its MAC stays excluded from the fast path until it is authorized again: the datapath
 * reports the client's next packets as new flows, and conntrack (still ESTABLISHED) would
 * let the daemon offload them again, past the firewall that now refuses the client.
 */
import {
  type Cancel,
  type ClientAuthorizationEvent,
  type Clock,
  type Logger,
  type PluginProcesses,
  Supervisor,
} from '@wrtkit/sdk';
import { type Connect, ControlClient, DaemonError } from './control.js';
import type { Config } from './generated/config.js';

export type Settings = Config['offload'];

export interface ConfigureArgs {
  interfaces: Array<{ ifname: string; mode: 'xdp' | 'tc' }>;
  ipv6: boolean;
  exclude_macs: string[];
  exclude_cidrs: string[];
  heartbeat_ms: number;
}

interface ConfiguredInterface {
  ifname: string;
  mode: string;
  attached?: string;
}

/** offloadd's command line for these settings. */
export function daemonArgv(s: Settings): string[] {
  return [s.daemon, '--control', s.control_socket, '--object', s.object, '--pin-dir', s.pin_dir];
}

/**
 * The `configure` request. `auto` asks for XDP; interfaces where only generic XDP was
 * possible (`tcFallback`) get TC instead, which is faster than generic XDP.
 */
export function configureArgs(
  s: Settings,
  tcFallback: ReadonlySet<string> = new Set(),
  deauthorized: Iterable<string> = [],
): ConfigureArgs {
  const mode = (ifname: string): 'xdp' | 'tc' =>
    s.mode === 'tc' ? 'tc' : s.mode === 'xdp' ? 'xdp' : tcFallback.has(ifname) ? 'tc' : 'xdp';
  return {
    interfaces: [...new Set(s.interfaces)].map((ifname) => ({ ifname, mode: mode(ifname) })),
    ipv6: s.ipv6,
    exclude_macs: [...new Set([...s.exclude_macs.map((m) => m.toLowerCase()), ...deauthorized])],
    exclude_cidrs: [...s.exclude_cidrs],
    heartbeat_ms: s.heartbeat_ms,
  };
}

/** A configure the daemon could not answer (not up yet, restarting) is tried again after this. */
export const CONFIGURE_RETRY_MS = 2000;

/** Deauthorized clients kept out of the fast path at most (the oldest is forgotten first). */
export const MAX_DEAUTHORIZED = 1024;

/**
 * Where the deauthorized clients are kept across restarts of the host (the plugin's state
 * file): a fresh start that forgot them would let a deauthorized client's connections —
 * still ESTABLISHED in conntrack — back onto the fast path, past the firewall.
 */
export interface DeauthorizedStore {
  load(): readonly string[];
  save(macs: readonly string[]): void;
}

export interface OffloadDeps {
  processes: Pick<PluginProcesses, 'spawn'>;
  connect: Connect;
  clock: Clock;
  log: Logger;
  remembered?: DeauthorizedStore;
}

export class Offload {
  private settings: Settings | undefined;
  private client: ControlClient | undefined;
  private readonly supervisor: Supervisor;
  private readonly tcFallback = new Set<string>();
  /** Clients that lost their authorization (lower-case MACs, oldest first): excluded. */
  private readonly deauthorized = new Set<string>();
  private lastConfigure: { ok: boolean; at: number; error?: string; interfaces?: ConfiguredInterface[] } | undefined;
  private retry: Cancel | undefined;
  /** The configure in flight (tests await it). */
  configuring: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: OffloadDeps) {
    // a state file edited by hand (or from another version) must not stop the plugin
    const saved: unknown = deps.remembered?.load();
    for (const mac of Array.isArray(saved) ? (saved as unknown[]) : []) {
      if (typeof mac === 'string' && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac)) this.deauthorized.add(mac);
    }
    this.supervisor = new Supervisor({
      name: 'offloadd',
      processes: deps.processes,
      clock: deps.clock,
      log: deps.log,
      // a new daemon knows nothing: configure it
      onStarted: () => {
        this.configuring = this.configure();
      },
    });
  }

  get enabled(): boolean {
    return this.settings?.enabled === true;
  }

  /** Applies the config: start, re-configure, restart or stop the daemon. */
  async apply(settings: Settings): Promise<void> {
    const before = this.settings;
    this.settings = settings;
    if (!settings.enabled) {
      if (before?.enabled) this.deps.log.info('offload disabled: stopping offloadd');
      await this.stopDaemon();
      return;
    }
    const argv = daemonArgv(settings);
    const restart = !before?.enabled || daemonArgv(before).join('\0') !== argv.join('\0');
    if (restart) {
      await this.stopDaemon();
      this.client = new ControlClient(this.deps.connect, settings.control_socket, this.deps.clock, this.deps.log);
      this.tcFallback.clear();
      // configured once it listens (not awaited: the hook does not wait for the daemon)
      await this.supervisor.start(argv);
      return;
    }
    if (JSON.stringify(configureArgs(before)) !== JSON.stringify(configureArgs(settings))) {
      this.tcFallback.clear();
      this.configuring = this.configure();
    }
  }

  async stop(): Promise<void> {
    this.settings = undefined;
    await this.stopDaemon();
  }

  /** The plugin's and the daemon's state (the daemon's `status`, when it answers). */
  async status(): Promise<Record<string, unknown>> {
    const s = this.settings;
    const base: Record<string, unknown> = {
      enabled: this.enabled,
      daemon: this.supervisor.info(),
      ...(this.lastConfigure ? { configure: this.lastConfigure } : {}),
      deauthorized: [...this.deauthorized],
    };
    if (!s?.enabled || !this.client) return base;
    try {
      return { ...base, offloadd: await this.client.request('status') };
    } catch (error) {
      return { ...base, offloadd_error: String(error instanceof Error ? error.message : error) };
    }
  }

  async flows(): Promise<{ flows: unknown[] }> {
    if (!this.client || !this.enabled) return { flows: [] };
    return this.client.request<{ flows: unknown[] }>('flows');
  }

  async flush(): Promise<{ removed: number }> {
    if (!this.client || !this.enabled) return { removed: 0 };
    return this.client.request<{ removed: number }>('flush');
  }

  async flushClient(target: { mac?: string; address?: string }): Promise<{ removed: number }> {
    if (!this.client || !this.enabled) return { removed: 0 };
    const args = target.mac !== undefined ? { mac: target.mac.toLowerCase() } : { address: target.address };
    return this.client.request<{ removed: number }>('flush_client', args);
  }

  /**
   * clientAuthorization: a client that lost its authorization leaves the fast path at once
   * (flush_client by MAC) and is excluded until it is authorized again.
   */
  async clientAuthorization(event: ClientAuthorizationEvent): Promise<void> {
    const mac = event.mac.toLowerCase();
    if (event.authorized) {
      if (!this.deauthorized.delete(mac)) return;
      this.remember();
      if (!this.enabled) return;
      this.configuring = this.configure();
      await this.configuring;
      return;
    }
    this.deauthorized.delete(mac);
    this.deauthorized.add(mac);
    if (this.deauthorized.size > MAX_DEAUTHORIZED) {
      const oldest = this.deauthorized.values().next().value;
      if (oldest !== undefined) this.deauthorized.delete(oldest);
    }
    this.remember();
    if (!this.enabled) return;
    // Excluded first, then flushed: a packet of the client's arriving between the two
    // requests must not put its flow back on the fast path (flushed first, it could). The
    // exclusion itself removes the client's flows (offloadd counts them); the flush is
    // for the flows of its addresses whose next hop is not its MAC.
    const configured = this.configure();
    this.configuring = configured;
    const excluded = await configured;
    try {
      const { removed } = await this.flushClient({ mac });
      this.deps.log.info('offload: deauthorized client flushed', { mac, removed: excluded + removed });
    } catch (error) {
      this.deps.log.warn('offload: cannot flush a deauthorized client', { mac, error: String(error) });
    }
  }

  private remember(): void {
    this.deps.remembered?.save([...this.deauthorized]);
  }

  private async stopDaemon(): Promise<void> {
    this.retry?.();
    this.retry = undefined;
    this.client?.close(true);
    this.client = undefined;
    await this.supervisor.stop();
  }

  /** Sends `configure`; answers how many flows the daemon removed for its policy (0 if it failed). */
  private async configure(): Promise<number> {
    const s = this.settings;
    const client = this.client;
    if (!s?.enabled || !client) return 0;
    this.retry?.();
    this.retry = undefined;
    const args = configureArgs(s, this.tcFallback, this.deauthorized);
    try {
      const result = await client.request<{ interfaces?: ConfiguredInterface[]; removed?: number }>(
        'configure',
        args as unknown as Record<string, unknown>,
      );
      this.lastConfigure = { ok: true, at: this.deps.clock.now(), interfaces: result.interfaces ?? [] };
      this.deps.log.info('offloadd configured', {
        interfaces: (result.interfaces ?? []).map((i) => `${i.ifname}:${i.attached ?? i.mode}`).join(' '),
      });
      if (s.mode === 'auto') {
        const generic = (result.interfaces ?? []).filter((i) => i.attached === 'xdp-generic' && !this.tcFallback.has(i.ifname));
        if (generic.length > 0 && client === this.client) {
          for (const i of generic) this.tcFallback.add(i.ifname);
          this.deps.log.info('offload: no native XDP, using tc', { interfaces: generic.map((i) => i.ifname).join(' ') });
          return (result.removed ?? 0) + (await this.configure());
        }
      }
      return result.removed ?? 0;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.lastConfigure = { ok: false, at: this.deps.clock.now(), error: message };
      if (client !== this.client) return 0;
      if (error instanceof DaemonError) {
        // the daemon refused it (a missing interface, an attach failure): the config must change
        this.deps.log.error('offload: configure failed', { error: message });
      } else if (this.supervisor.running) {
        this.deps.log.warn('offload: offloadd did not answer configure; trying again', {
          error: message,
          retryInMs: CONFIGURE_RETRY_MS,
        });
        this.retry = this.deps.clock.setTimeout(() => {
          this.retry = undefined;
          if (client === this.client) this.configuring = this.configure();
        }, CONFIGURE_RETRY_MS);
      }
      return 0;
    }
  }
}
