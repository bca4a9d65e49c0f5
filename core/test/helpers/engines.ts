import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../../..');

/** The real qjs (Debian trixie's 2025-04-26, fetched by scripts/fetch-qjs.sh). */
export function qjsPath(): string {
  const path = process.env.WRTKIT_QJS ?? join(repoRoot, '.cache/qjs/bin/qjs');
  if (!existsSync(path)) throw new Error(`qjs not found at ${path}: run \`bash scripts/fetch-qjs.sh\` (or set WRTKIT_QJS)`);
  return path;
}

export type Engine = 'node' | 'qjs';

/**
 * How to run a bundle on each engine. qjs runs with --no-unhandled-rejection, as on the
 * router: QuickJS 2025-04-26 treats a promise rejected before its handler is attached
 * (even `await f()` where f throws at once) as unhandled and exits.
 */
export function engineArgv(engine: Engine, bundle: string, args: string[]): string[] {
  return engine === 'node' ? [process.execPath, bundle, ...args] : [qjsPath(), '--no-unhandled-rejection', bundle, ...args];
}

/** The example plugins' dirs: the plugins the core and SDK integration suites run. */
export const EXAMPLE_PLUGINS = ['heartbeat', 'beat-counter'].map((name) => join(repoRoot, 'examples/plugins', name));

/** Builds host + plugin bundles once per output dir (the same build for both engines). */
export function buildBundles(out: string): { host: string; plugins: string } {
  // The example plugins only (the core suites count them), and nothing left from a build
  // that had others.
  rmSync(join(out, 'plugins'), { recursive: true, force: true });
  execFileSync(process.execPath, [join(repoRoot, 'scripts/build.mjs'), '--out', out, '--quiet', ...EXAMPLE_PLUGINS], {
    stdio: 'inherit',
  });
  return { host: join(out, 'wrtkit.js'), plugins: join(out, 'plugins') };
}

/** A running host process whose stderr lines can be waited for. */
export class HostProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly proc: ChildProcess;
  private waiters: Array<() => void> = [];

  constructor(argv: string[]) {
    this.proc = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const onData = (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const wake of this.waiters.splice(0)) wake();
    };
    this.proc.stderr?.on('data', onData);
    this.proc.stdout?.on('data', onData);
    this.exited = new Promise((resolvePromise) => this.proc.on('exit', (code, signal) => resolvePromise({ code, signal })));
    void this.exited.then(() => this.waiters.splice(0).forEach((w) => w()));
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** Lines since index `from` that match. */
  matching(pattern: RegExp, from = 0): string[] {
    return this.lines.slice(from).filter((l) => pattern.test(l));
  }

  /** Waits until `count` lines after `from` match pattern; fails with the log on timeout. */
  async waitFor(pattern: RegExp, options: { from?: number; count?: number; timeoutMs?: number } = {}): Promise<string[]> {
    const { from = 0, count = 1, timeoutMs = 15_000 } = options;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.matching(pattern, from);
      if (found.length >= count) return found;
      if (this.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`waited for ${count} × ${pattern} (${found.length} seen); host log:\n${this.lines.join('\n')}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}
