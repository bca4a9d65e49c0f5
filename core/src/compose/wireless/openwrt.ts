import { ErrorCodes, WrtkitError } from '../../errors.js';
import type { ComposedPackage } from '../../hooks/events.js';
import type { Logger } from '../../log/logger.js';
import type { FileSystem, Processes } from '../../platform/platform.js';
import { type UciChange, type UciPackage, exportUci } from '../../uci/index.js';
import { join } from '../../util/path.js';
import type { ConfigApplier } from '../applier.js';
import { runApplyCommand } from '../uci-file-applier.js';

/**
 * The wireless backend on OpenWrt: /etc/config/wireless written whole and atomically, as
 * `uci commit` does, then `wifi reload` (or the command of `config apply 'wireless'`),
 * which on current OpenWrt reconfigures only the BSSes whose config changed. Unlike the
 * plain file applier, a missing `wifi` is an error here: this backend was chosen because
 * the system is OpenWrt, so a config nobody reloads would be a silent failure.
 */
export class OpenWrtWirelessApplier implements ConfigApplier {
  constructor(
    private readonly fs: FileSystem,
    private readonly processes: Processes,
    private readonly configDir: string,
    private readonly command: () => readonly string[],
    private readonly log: Logger,
  ) {}

  async apply(pkg: ComposedPackage, desired: UciPackage, changes: readonly UciChange[]): Promise<void> {
    const file = join(this.configDir, pkg);
    this.fs.writeAtomic(file, exportUci(desired, { mode: 'commit' }));
    const argv = this.command();
    const program = argv[0];
    if (program === undefined || this.processes.which(program) === undefined) {
      throw new WrtkitError(
        ErrorCodes.APPLY_FAILED,
        `${program ?? 'no command'} not found: ${file} is written but not reloaded (wireless_backend 'openwrt')`,
        { details: { package: pkg, changes: changes.length } },
      );
    }
    await runApplyCommand(this.processes, argv, pkg, changes.length, this.log);
  }
}
