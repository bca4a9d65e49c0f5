/**
 * Fake children for unit tests of code that spawns daemons (a Supervisor, a plugin that
 * runs a program): `children` in spawn order, each with its argv and options (call
 * `options.onStderrLine?.(line)` to feed output) and `exit(code, signal?)`; SIGTERM ends
 * one with code 0, as a well-behaved daemon does.
 */
import type { ChildProcess, ProcessResult, RunOptions } from '@wrtkit/core';

export interface FakeChild extends ChildProcess {
  options: RunOptions;
  signals: string[];
  exit(code: number | null, signal?: number | null): void;
}

export function fakeProcesses(): { children: FakeChild[]; spawn(argv: readonly string[], options?: RunOptions): ChildProcess } {
  const children: FakeChild[] = [];
  return {
    children,
    spawn(argv: readonly string[], options: RunOptions = {}): ChildProcess {
      let exit!: (r: ProcessResult) => void;
      const exited = new Promise<ProcessResult>((resolve) => (exit = resolve));
      const child: FakeChild = {
        pid: 100 + children.length,
        argv: [...argv],
        options,
        signals: [],
        exited,
        kill(signal = 'SIGTERM') {
          this.signals.push(signal);
          if (signal === 'SIGTERM') this.exit(0);
        },
        exit: (code, signal = null) =>
          exit({ argv, exitCode: code, signal, stdout: '', stderr: '', timedOut: false, durationMs: 0 }),
      };
      children.push(child);
      return child;
    },
  };
}
