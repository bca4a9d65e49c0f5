import { ErrorCodes, WrtkitError } from '../errors.js';
import type { ComposedPackage } from '../hooks/events.js';
import type { Logger } from '../log/logger.js';
import type { FileSystem, Processes } from '../platform/platform.js';
import { type UciChange, type UciPackage, exportUci } from '../uci/index.js';
import { join } from '../util/path.js';
import type { ConfigApplier } from './applier.js';

/** What OpenWrt runs after each package changes (as LuCI's apply does). */
export const DEFAULT_APPLY_COMMANDS: Readonly<Record<ComposedPackage, readonly string[]>> = {
  // `wifi reload` on current OpenWrt reconfigures only the BSSes whose config changed.
  wireless: ['wifi', 'reload'],
  network: ['/etc/init.d/network', 'reload'],
  firewall: ['/etc/init.d/firewall', 'reload'],
  // dnsmasq (and odhcpd, which reads the same package) — DHCP options such as RFC 8910's
  dhcp: ['/etc/init.d/dnsmasq', 'reload'],
};

export const APPLY_TIMEOUT_MS = 60_000;

/**
 * Writes the composed package to <config dir>/<package> the way `uci commit` does (the
 * whole file, atomically) and runs the package's reload command. Uncommitted changes a
 * user staged with `uci set` stay staged: they live in uci's own save dir, not here.
 */
export class UciFileApplier implements ConfigApplier {
  private readonly warned = new Set<string>();

  constructor(
    private readonly fs: FileSystem,
    private readonly processes: Processes,
    private readonly configDir: string,
    private readonly commandFor: (pkg: ComposedPackage) => readonly string[] | undefined,
    private readonly log: Logger,
  ) {}

  async apply(pkg: ComposedPackage, desired: UciPackage, changes: readonly UciChange[]): Promise<void> {
    this.fs.writeAtomic(join(this.configDir, pkg), exportUci(desired, { mode: 'commit' }));
    const argv = this.commandFor(pkg);
    if (!argv || argv.length === 0) return;
    const program = argv[0] as string;
    if (this.processes.which(program) === undefined) {
      // A development host has no `wifi`: the file is written, the reload is skipped, once said.
      if (!this.warned.has(program)) {
        this.warned.add(program);
        this.log.warn('reload command not found; config written but not reloaded', { package: pkg, command: program });
      }
      return;
    }
    await runApplyCommand(this.processes, argv, pkg, changes.length, this.log);
  }
}

/** Runs a package's apply command (an argv, no shell); a failure or a time-out is WRTKIT_ERR_APPLY_FAILED. */
export async function runApplyCommand(
  processes: Processes,
  argv: readonly string[],
  pkg: ComposedPackage,
  changes: number,
  log: Logger,
): Promise<void> {
  const result = await processes.run(argv, { timeoutMs: APPLY_TIMEOUT_MS });
  if (result.exitCode !== 0) {
    throw new WrtkitError(
      ErrorCodes.APPLY_FAILED,
      `${argv.join(' ')} ${result.timedOut ? 'timed out' : `exited with ${result.exitCode ?? `signal ${result.signal}`}`}: ${result.stderr.trim()}`,
      { details: { package: pkg, changes } },
    );
  }
  log.info('applied', { package: pkg, command: argv.join(' '), changes });
}
