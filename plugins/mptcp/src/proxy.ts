/**
 * The proxy half on this router: shadowsocks-libev's ss-redir (client: takes the LAN's
 * redirected TCP, opens MPTCP to the far router) or ss-server (server: ends the MPTCP
 * connections, opens plain TCP to the real destination), both with `--mptcp` (upstream
 * IPPROTO_MPTCP). Its config file carries the secret (mode 0600, not on the command
 * line where `ps` shows it). Supervised: restarted with backoff if it dies.
 */
import { type Clock, ErrorCodes, type Logger, type Platform, type PluginProcesses, Supervisor, WrtkitError } from '@wrtkit/sdk';
import { type Settings, proxyArgv, proxyConfig, proxyProgram } from './model.js';

/** How long a started proxy has to say it listens. */
export const LISTEN_TIMEOUT_MS = 5000;

export class Proxy {
  private readonly supervisor: Supervisor;
  private waiting: { resolve: () => void; reject: (e: Error) => void; mptcp: boolean; lines: string[] } | undefined;
  private program = 'ss-redir';
  private configFile: string | undefined;

  constructor(
    private readonly deps: { processes: Pick<PluginProcesses, 'spawn'>; clock: Clock; log: Logger; fs: Platform['fs'] },
  ) {
    this.supervisor = new Supervisor({
      name: 'proxy',
      processes: deps.processes,
      clock: deps.clock,
      log: deps.log,
      onLine: (line) => this.line(line),
    });
  }

  info(): Record<string, unknown> {
    return { program: this.program, ...this.supervisor.info() };
  }

  /** Writes the config and starts the proxy; resolves once it listens with MPTCP on. */
  async start(s: Settings): Promise<void> {
    this.program = proxyProgram(s);
    this.deps.fs.mkdirp(s.run_dir, 0o700);
    const file = `${s.run_dir}/${this.program}.json`;
    this.deps.fs.writeAtomic(file, `${JSON.stringify(proxyConfig(s), null, 2)}\n`, { mode: 0o600 });
    this.configFile = file;
    const listening = new Promise<void>((resolve, reject) => {
      this.waiting = { resolve, reject, mptcp: false, lines: [] };
    });
    const timer = this.deps.clock.setTimeout(
      () => this.fail(`${this.program} did not start listening within ${LISTEN_TIMEOUT_MS / 1000} s`),
      LISTEN_TIMEOUT_MS,
    );
    try {
      await this.supervisor.start(proxyArgv(s, file));
      const child = this.supervisor.running;
      if (!child) this.fail(`${this.program} could not be started`);
      await listening;
    } finally {
      timer();
      this.waiting = undefined;
    }
  }

  async stop(): Promise<void> {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(new WrtkitError(ErrorCodes.APPLY_FAILED, `${this.program} stopped`));
    await this.supervisor.stop();
    if (this.configFile !== undefined) this.deps.fs.remove(this.configFile);
    this.configFile = undefined;
  }

  private fail(message: string): void {
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    const tail = waiting.lines.slice(-5).join(' | ');
    waiting.reject(
      new WrtkitError(ErrorCodes.APPLY_FAILED, tail ? `${message}: ${tail}` : message, { details: { program: this.program } }),
    );
  }

  private line(raw: string): void {
    // " 2026-11-22 04:16:33 INFO: listening at 0.0.0.0:1080"
    const text = raw.trim().replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+/, '');
    if (text === '') return;
    const message = `${this.program}: ${text.replace(/^(INFO|ERROR|WARNING|WARN):\s*/, '')}`;
    if (/^ERROR/.test(text)) this.deps.log.error(message);
    else if (/^WARN/.test(text)) this.deps.log.warn(message);
    else this.deps.log.info(message);
    const waiting = this.waiting;
    if (!waiting) return;
    waiting.lines.push(text);
    if (/enable multipath TCP/i.test(text)) waiting.mptcp = true;
    if (/listening at/i.test(text)) {
      if (!waiting.mptcp) {
        this.fail(
          `${this.program} listens without MPTCP (it does not support --mptcp; shadowsocks-libev 3.3.5 or later is needed)`,
        );
        return;
      }
      this.waiting = undefined;
      waiting.resolve();
    } else if (/^ERROR/.test(text)) {
      this.fail(`${this.program} failed`);
    }
  }
}
