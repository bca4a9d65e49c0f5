// Running programs for the lab: always argv arrays (no shell), output collected, lines
// that can be awaited.
import { type ChildProcess, spawn } from 'node:child_process';

/** What `run` returns: never throws for a non-zero exit (pass `check: true` for that). */
export interface RunResult {
  /** Exit code, or null when the program was killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the program was killed because `timeoutMs` passed. */
  timedOut: boolean;
}

export interface RunOptions {
  /** Killed with SIGKILL after this long (default 30 s); the result says `timedOut`. */
  timeoutMs?: number;
  /** Written to the program's stdin, which is then closed. */
  input?: string;
  /** Added to the environment (which is inherited). */
  env?: Record<string, string>;
  cwd?: string;
  /** Throw a LabCommandError when the exit code is not 0. */
  check?: boolean;
}

/** A command that failed: carries the argv and the result. */
export class LabCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
    context?: string,
  ) {
    const how = result.timedOut
      ? 'timed out'
      : result.exitCode === null
        ? `was killed by ${result.signal}`
        : `exited with ${result.exitCode}`;
    const output = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-8).join('\n');
    super(`${context ? `${context}: ` : ''}\`${argv.join(' ')}\` ${how}${output ? `: ${output}` : ''}`);
    this.name = 'LabCommandError';
  }
}

export function runArgv(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { timeoutMs = 30_000, input, env, cwd, check = false } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: env ? { ...process.env, ...env } : process.env,
      ...(cwd ? { cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    if (input !== undefined) child.stdin?.end(input);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run \`${argv.join(' ')}\`: ${error.message}`));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      const result = { exitCode, signal, stdout, stderr, timedOut };
      if (check && exitCode !== 0) reject(new LabCommandError(argv, result));
      else resolve(result);
    });
  });
}

/** How a process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WaitOptions {
  /** Only lines from this index on (see `lines.length`). */
  from?: number;
  /** How many matching lines to wait for (default 1). */
  count?: number;
  /** Default 15 s. */
  timeoutMs?: number;
}

/**
 * A process started in a lab node: its stdout and stderr lines (both, in arrival order)
 * can be read and awaited.
 */
export class LabProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<ExitStatus>;
  private readonly child: ChildProcess;
  private status: ExitStatus | undefined;
  private waiters: Array<() => void> = [];
  private spawnError: Error | undefined;

  constructor(
    readonly argv: readonly string[],
    spawnArgv: readonly string[],
    options: { env?: Record<string, string>; cwd?: string } = {},
  ) {
    this.child = spawn(spawnArgv[0] as string, spawnArgv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ? { ...process.env, ...options.env } : process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    const collector = () => {
      let partial = '';
      return (chunk: string) => {
        partial += chunk;
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        if (parts.length > 0) {
          this.lines.push(...parts);
          this.wake();
        }
      };
    };
    this.child.stdout?.setEncoding('utf8').on('data', collector());
    this.child.stderr?.setEncoding('utf8').on('data', collector());
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.spawnError = error;
        this.status = { code: null, signal: null };
        resolve(this.status);
        this.wake();
      });
      this.child.on('close', (code, signal) => {
        this.status = { code, signal };
        resolve(this.status);
        this.wake();
      });
    });
  }

  /** The process id (the program itself: `ip netns exec` execs it in place). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Undefined while running. */
  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /** All output so far, one string. */
  get output(): string {
    return this.lines.join('\n');
  }

  /** Lines from index `from` on that match. */
  matching(pattern: RegExp, from = 0): string[] {
    return this.lines.slice(from).filter((l) => pattern.test(l));
  }

  /**
   * Waits until `count` lines from `from` on match; rejects with the whole output when the
   * process exits first or the time is up.
   */
  async waitFor(pattern: RegExp, options: WaitOptions = {}): Promise<string[]> {
    const { from = 0, count = 1, timeoutMs = 15_000 } = options;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.matching(pattern, from);
      if (found.length >= count) return found;
      if (this.status || Date.now() > deadline) {
        const why = this.spawnError
          ? `could not start: ${this.spawnError.message}`
          : this.status
            ? `exited (${this.status.code ?? this.status.signal})`
            : `timed out after ${timeoutMs} ms`;
        throw new Error(
          `\`${this.argv.join(' ')}\` ${why} while waiting for ${count} × ${pattern} (${found.length} seen); output:\n${this.output}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(250, Math.max(1, deadline - Date.now())));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a signal (SIGTERM by default); no-op once exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.status) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); resolves with the exit status. */
  async stop(graceMs = 5_000): Promise<ExitStatus> {
    if (this.status) return this.status;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
