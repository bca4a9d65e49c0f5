/**
 * Runs one long-lived program (a daemon) as a child of the host and keeps it running:
 * when it exits on its own it is started again after 1 s, 2 s, 4 s … up to 60 s (back to
 * 1 s once it ran for a minute). Plugins use it for the proven programs they orchestrate
 * (offload's offloadd, mptcp's ss-redir/ss-server): procd would do the same for a service,
 * but these children belong to the plugin and must end with it. Output lines go to the
 * plugin's log — `LEVEL <name>: message` by level, anything else as info — or to
 * `onLine` when given; `onStarted` runs for every start (configure the new daemon there).
 */
import type { Cancel, Clock } from '../clock/clock.js';
import type { Logger } from '../log/logger.js';
import type { ChildProcess } from '../platform/platform.js';
import type { PluginProcesses } from './processes.js';

export const RESTART_INITIAL_MS = 1000;
export const RESTART_MAX_MS = 60_000;
export const HEALTHY_AFTER_MS = 60_000;
/** stop(): SIGTERM, then SIGKILL after this long. */
export const STOP_GRACE_MS = 5000;

export interface SupervisorOptions {
  /** The program's name in log lines (`offloadd started`). */
  name: string;
  processes: Pick<PluginProcesses, 'spawn'>;
  clock: Clock;
  log: Logger;
  /** Runs after every start, with the new child. */
  onStarted?: (child: ChildProcess) => void;
  /** Every stdout/stderr line; when given, lines are not logged by the supervisor. */
  onLine?: (line: string, child: ChildProcess) => void;
}

export interface SupervisorInfo {
  running: boolean;
  pid?: number;
  starts: number;
  restart_in_ms?: number;
  last_exit?: { code: number | null; signal: number | null };
}

export class Supervisor {
  private argv: readonly string[] | undefined;
  private child: ChildProcess | undefined;
  private startedAt = 0;
  private backoff = RESTART_INITIAL_MS;
  private timer: Cancel | undefined;
  private starts = 0;
  private lastExit: { code: number | null; signal: number | null } | undefined;

  constructor(private readonly options: SupervisorOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get startCount(): number {
    return this.starts;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** What a plugin reports in its status. */
  info(): SupervisorInfo {
    return {
      running: this.running,
      ...(this.child ? { pid: this.child.pid } : {}),
      starts: this.starts,
      ...(this.timer ? { restart_in_ms: this.backoff } : {}),
      ...(this.lastExit ? { last_exit: this.lastExit } : {}),
    };
  }

  /** Starts the program with argv (restarted when it runs with another argv). */
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
    const force = this.options.clock.setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
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
    const { name, log } = this.options;
    let child: ChildProcess | undefined;
    const line = (text: string): void => {
      if (!child) return;
      if (this.options.onLine) this.options.onLine(text, child);
      else this.logLine(text);
    };
    try {
      child = this.options.processes.spawn(argv, { onStderrLine: line, onStdoutLine: line });
    } catch (error) {
      log.error(`cannot start ${name}`, { argv: argv.join(' '), error: String(error) });
      this.scheduleRestart();
      return;
    }
    const started = child;
    this.starts++;
    this.child = started;
    this.startedAt = this.options.clock.monotonic();
    log.info(`${name} started`, { pid: started.pid });
    started.exited.then(
      (result) => this.exited(started, result.exitCode, result.signal),
      (error: unknown) => {
        log.error(`${name} failed`, { error: String(error) });
        this.exited(started, null, null);
      },
    );
    this.options.onStarted?.(started);
  }

  private exited(child: ChildProcess, code: number | null, signal: number | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    this.lastExit = { code, signal };
    if (!this.argv) return;
    if (this.options.clock.monotonic() - this.startedAt >= HEALTHY_AFTER_MS) this.backoff = RESTART_INITIAL_MS;
    this.options.log.warn(`${this.options.name} exited`, { code, signal, restartInMs: this.backoff });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (!this.argv) return;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, RESTART_MAX_MS);
    this.cancelTimer();
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.launch();
    }, delay);
  }

  private cancelTimer(): void {
    this.timer?.();
    this.timer = undefined;
  }

  private logLine(line: string): void {
    const name = this.options.name;
    const log = this.options.log;
    const text = line.trim();
    const m = /^(error|warn|info|debug)\s+([^\s:]+):\s*(.*)$/.exec(text);
    if (!m || m[2] !== name) {
      if (text !== '') log.info(`${name}: ${text}`);
      return;
    }
    const message = `${name}: ${m[3] ?? ''}`;
    if (m[1] === 'error') log.error(message);
    else if (m[1] === 'warn') log.warn(message);
    else if (m[1] === 'info') log.info(message);
    else log.debug(message);
  }
}
