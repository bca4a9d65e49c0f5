import { ErrorCodes, WrtkitError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ChildProcess, Processes, ProcessResult, RunOptions } from '../platform/platform.js';
import { basename, dirname } from '../util/path.js';

const SYSTEM_DIRS = ['/bin', '/sbin', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'];

/**
 * The process runner a plugin receives: only programs its manifest lists under
 * `permissions.exec` (by name — on PATH or in a system bin directory — or absolute path), always from an argv array, always with
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

  async run(argv: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
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
    // A name allows that program found on PATH, or by its path in a system directory;
    // `/tmp/x/nft` is not `nft`. An absolute entry allows exactly that path.
    const ok = this.allowed.some((entry) =>
      entry.startsWith('/')
        ? entry === program
        : entry === program || (SYSTEM_DIRS.includes(dirname(program)) && basename(program) === entry),
    );
    if (!ok) {
      throw new WrtkitError(
        ErrorCodes.PERMISSION,
        `plugin ${this.plugin} may not run ${program}: add it to permissions.exec in the plugin's manifest`,
        { plugin: this.plugin, details: { program, allowed: [...this.allowed] } },
      );
    }
  }
}
