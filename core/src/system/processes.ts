import { ErrorCodes, WrtkitError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ChildProcess, Processes, ProcessResult, RunOptions } from '../platform/platform.js';
import { basename } from '../util/path.js';

/**
 * The process runner a plugin receives: only programs its manifest lists under
 * `permissions.exec` (by name or absolute path), always from an argv array, always with
 * a time limit. A plugin cannot build a shell command from config values because there
 * is no way to pass one.
 */
export interface PluginProcesses {
  run(argv: readonly string[], options?: RunOptions): Promise<ProcessResult>;
  spawn(argv: readonly string[], options?: RunOptions): ChildProcess;
}

export const DEFAULT_PROCESS_TIMEOUT_MS = 30_000;

export class ScopedProcesses implements PluginProcesses {
  constructor(
    private readonly processes: Processes,
    private readonly plugin: string,
    private readonly allowed: readonly string[],
    private readonly log: Logger,
  ) {}

  run(argv: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
    this.check(argv);
    this.log.debug('run', { argv: argv.join(' ') });
    return this.processes.run(argv, { timeoutMs: DEFAULT_PROCESS_TIMEOUT_MS, ...options });
  }

  spawn(argv: readonly string[], options: RunOptions = {}): ChildProcess {
    this.check(argv);
    this.log.debug('spawn', { argv: argv.join(' ') });
    return this.processes.spawn(argv, options);
  }

  private check(argv: readonly string[]): void {
    const program = argv[0];
    if (program === undefined || program === '') {
      throw new WrtkitError(ErrorCodes.PROCESS_SPAWN, `plugin ${this.plugin} tried to run an empty argv`, {
        plugin: this.plugin,
      });
    }
    const ok = this.allowed.some((entry) => (entry.startsWith('/') ? entry === program : entry === basename(program)));
    if (!ok) {
      throw new WrtkitError(
        ErrorCodes.PERMISSION,
        `plugin ${this.plugin} may not run ${program}: add it to permissions.exec in the plugin's manifest`,
        { plugin: this.plugin, details: { program, allowed: [...this.allowed] } },
      );
    }
  }
}
