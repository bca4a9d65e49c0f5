/**
 * Runs and supervises offloadd as a child of the host (through PluginProcesses: the
 * manifest lists `offloadd`). When it exits on its own it is started again after 1 s, 2 s,
 * 4 s … up to 60 s (back to 1 s once it ran for a minute), like pirania's resolver does for
 * dnsmasq. Its stderr lines (`LEVEL offloadd: message`) go to our log; `onStarted` runs
 * for every start (the plugin configures the new daemon then).
 */
import type { Cancel, Clock, Logger, PluginProcesses } from '@wrtkit/sdk';

type Child = ReturnType<PluginProcesses['spawn']>;

export const RESTART_INITIAL_MS = 1000;
export const RESTART_MAX_MS = 60_000;
export const HEALTHY_AFTER_MS = 60_000;
/** stop(): SIGTERM, then SIGKILL after this long. */
export const STOP_GRACE_MS = 5000;

export class DaemonSupervisor {
  private argv: readonly string[] | undefined;
  private child: Child | undefined;
  private startedAt = 0;
  private backoff = RESTART_INITIAL_MS;
  private timer: Cancel | undefined;
  private starts = 0;
  private lastExit: { code: number | null; signal: number | null } | undefined;

  constructor(
    private readonly processes: Pick<PluginProcesses, 'spawn'>,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly onStarted: () => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get startCount(): number {
    return this.starts;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** What the supervisor reports in `status`. */
  info(): Record<string, unknown> {
    return {
      running: this.running,
      ...(this.child ? { pid: this.child.pid } : {}),
      starts: this.starts,
      ...(this.timer ? { restart_in_ms: this.backoff } : {}),
      ...(this.lastExit ? { last_exit: this.lastExit } : {}),
    };
  }

  /** Starts the daemon with argv (restarted when it runs with another argv). */
  async start(argv: readonly string[]): Promise<void> {
    const same = this.argv !== undefined && this.argv.join('\0') === argv.join('\0');
    if (same && (this.child || this.timer)) return;
    if (this.child) await this.stop();
    this.argv = [...argv];
    this.backoff = RESTART_INITIAL_MS;
    this.launch();
  }

  /** SIGTERM (SIGKILL after STOP_GRACE_MS), and no restart; resolves once it exited. */
  async stop(): Promise<void> {
    this.argv = undefined;
    this.cancelTimer();
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const force = this.clock.setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      await child.exited;
    } catch {
      // gone either way
    } finally {
      force();
    }
    if (this.child === child) this.child = undefined;
  }

  private launch(): void {
    const argv = this.argv;
    if (!argv) return;
    let child: Child;
    try {
      child = this.processes.spawn(argv, {
        onStderrLine: (line) => this.logLine(line),
        onStdoutLine: (line) => this.logLine(line),
      });
    } catch (error) {
      this.log.error('offload: cannot start offloadd', { argv: argv.join(' '), error: String(error) });
      this.scheduleRestart();
      return;
    }
    this.starts++;
    this.child = child;
    this.startedAt = this.clock.monotonic();
    this.log.info('offloadd started', { pid: child.pid });
    child.exited.then(
      (result) => this.exited(child, result.exitCode, result.signal),
      (error: unknown) => {
        this.log.error('offload: offloadd failed', { error: String(error) });
        this.exited(child, null, null);
      },
    );
    this.onStarted();
  }

  private exited(child: Child, code: number | null, signal: number | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    this.lastExit = { code, signal };
    if (!this.argv) return;
    if (this.clock.monotonic() - this.startedAt >= HEALTHY_AFTER_MS) this.backoff = RESTART_INITIAL_MS;
    this.log.warn('offloadd exited', { code, signal, restartInMs: this.backoff });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (!this.argv) return;
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

  private logLine(line: string): void {
    const m = /^(error|warn|info|debug)\s+offloadd:\s*(.*)$/.exec(line.trim());
    if (!m) {
      if (line.trim() !== '') this.log.info(`offloadd: ${line.trim()}`);
      return;
    }
    const [, level, text] = m;
    const message = `offloadd: ${text ?? ''}`;
    if (level === 'error') this.log.error(message);
    else if (level === 'warn') this.log.warn(message);
    else if (level === 'info') this.log.info(message);
    else this.log.debug(message);
  }
}
