/**
 * Runs and supervises the portal resolver: the conf (dnsmasq.ts) is written atomically
 * under the run directory and `dnsmasq --keep-in-foreground --conf-file=<conf>` runs as
 * a child of the host (through PluginProcesses: `dnsmasq` is in the manifest). When it
 * exits on its own it is started again after 1 s, 2 s, 4 s … up to 60 s (reset once it
 * has run for a minute); its log lines (stderr, `log-facility=-`) go to our log.
 */
import type { Cancel, Clock, Logger, PluginContext, PluginProcesses } from '@wrtkit/sdk';
import { type DnsmasqOptions, dnsmasqConfig } from './dnsmasq.js';

/** The platform's file system (ctx.platform.fs). */
export type ResolverFiles = Pick<PluginContext['platform']['fs'], 'writeAtomic' | 'mkdirp' | 'remove'>;

type Child = ReturnType<PluginProcesses['spawn']>;

/** What the resolver answers and where: DnsmasqOptions without the files, which it owns. */
export type ResolverSettings = Omit<DnsmasqOptions, 'pidFile'>;

export const RESTART_INITIAL_MS = 1000;
export const RESTART_MAX_MS = 60_000;
/** A dnsmasq that ran this long was healthy: the next restart waits RESTART_INITIAL_MS again. */
export const HEALTHY_AFTER_MS = 60_000;
/** stop(): SIGTERM, then SIGKILL after this long. */
export const STOP_GRACE_MS = 3000;

export class PortalResolver {
  /** The conf file (`<runDir>/portal-dnsmasq.conf`). */
  readonly confPath: string;
  /** dnsmasq's pid file (`<runDir>/portal-dnsmasq.pid`). */
  readonly pidPath: string;
  private running = false;
  private conf: string | undefined;
  private child: Child | undefined;
  private startedAt = 0;
  private backoff = RESTART_INITIAL_MS;
  private timer: Cancel | undefined;
  /** The child was killed to pick up a new conf: start again at once. */
  private restartNow = false;
  private starts = 0;

  constructor(
    private readonly processes: PluginProcesses,
    private readonly fs: ResolverFiles,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly runDir: string,
  ) {
    const dir = runDir.replace(/\/+$/, '');
    this.confPath = `${dir}/portal-dnsmasq.conf`;
    this.pidPath = `${dir}/portal-dnsmasq.pid`;
  }

  /** The running dnsmasq's pid, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How many times dnsmasq was started (tests and status). */
  get startCount(): number {
    return this.starts;
  }

  /** Whether start() was called and stop() was not. */
  get active(): boolean {
    return this.running;
  }

  /**
   * Writes the conf and starts dnsmasq. Without any address there is nothing to answer:
   * nothing runs until update() brings one. Throws WRTKIT_ERR_INVALID_ARGUMENT for
   * settings that cannot be written safely.
   */
  start(settings: ResolverSettings): void {
    this.running = true;
    this.apply(settings);
  }

  /**
   * New settings: dnsmasq is restarted only when its conf changed. Returns whether it was
   * (re)started or stopped. Before start() (or after stop()) it does nothing.
   */
  update(settings: ResolverSettings): boolean {
    if (!this.running) return false;
    return this.apply(settings);
  }

  /** Stops dnsmasq (SIGTERM, SIGKILL after 3 s), waits for it, removes the conf. */
  async stop(): Promise<void> {
    this.running = false;
    this.cancelTimer();
    this.conf = undefined;
    await this.killChild();
    this.fs.remove(this.confPath);
    this.fs.remove(this.pidPath);
  }

  private apply(settings: ResolverSettings): boolean {
    if (settings.ipv4 === undefined && settings.ipv6 === undefined) {
      if (this.conf === undefined && !this.child) return false;
      this.log.warn('portal resolver: no router address on the catch interfaces; not answering');
      this.conf = undefined;
      this.cancelTimer();
      void this.killChild();
      return true;
    }
    const text = dnsmasqConfig({ ...settings, pidFile: this.pidPath });
    if (text === this.conf && (this.child || this.timer)) return false;
    this.conf = text;
    this.fs.mkdirp(this.runDir);
    this.fs.writeAtomic(this.confPath, text);
    this.cancelTimer();
    this.backoff = RESTART_INITIAL_MS;
    if (this.child) {
      this.restartNow = true;
      this.child.kill('SIGTERM');
    } else {
      this.launch();
    }
    return true;
  }

  private launch(): void {
    if (!this.running || this.conf === undefined) return;
    let child: Child;
    try {
      child = this.processes.spawn(['dnsmasq', '--keep-in-foreground', `--conf-file=${this.confPath}`], {
        onStderrLine: (line) => this.logLine(line),
        onStdoutLine: (line) => this.logLine(line),
      });
    } catch (error) {
      this.log.error('portal resolver: cannot start dnsmasq', { error: String(error) });
      this.scheduleRestart();
      return;
    }
    this.starts++;
    this.child = child;
    this.startedAt = this.clock.monotonic();
    this.restartNow = false;
    this.log.info('portal resolver started', { pid: child.pid });
    child.exited.then(
      (result) => this.exited(child, result.exitCode, result.signal),
      (error: unknown) => {
        this.log.error('portal resolver: dnsmasq failed', { error: String(error) });
        this.exited(child, null, null);
      },
    );
  }

  private exited(child: Child, code: number | null, signal: number | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    if (!this.running || this.conf === undefined) return;
    if (this.restartNow) {
      this.launch();
      return;
    }
    if (this.clock.monotonic() - this.startedAt >= HEALTHY_AFTER_MS) this.backoff = RESTART_INITIAL_MS;
    this.log.warn('portal resolver: dnsmasq exited', { code, signal, restartInMs: this.backoff });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (!this.running) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, RESTART_MAX_MS);
    this.cancelTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.launch();
    }, delay);
  }

  private cancelTimer(): void {
    this.timer?.();
    this.timer = undefined;
  }

  private async killChild(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.restartNow = false;
    child.kill('SIGTERM');
    const force = this.clock.setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      await child.exited;
    } catch {
      // it is gone either way
    } finally {
      force();
    }
  }

  private logLine(line: string): void {
    const text = line.replace(/^dnsmasq(?:\[\d+\])?:\s*/, '').trim();
    if (text === '') return;
    if (/\b(?:fail|failed|error|cannot|illegal|bad|unknown)\b/i.test(text)) this.log.warn(`dnsmasq: ${text}`);
    else this.log.info(`dnsmasq: ${text}`);
  }
}
