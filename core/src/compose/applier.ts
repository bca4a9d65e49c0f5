import type { ComposedPackage } from '../hooks/events.js';
import type { UciChange, UciPackage } from '../uci/index.js';

/**
 * Applies a composed UCI package to the system. The host's default writes the package
 * file (as `uci commit` would) and runs the package's reload command; the wireless
 * backends (OpenWrt `wifi reload`, plain hostapd) plug in here.
 */
export interface ConfigApplier {
  apply(pkg: ComposedPackage, desired: UciPackage, changes: readonly UciChange[]): Promise<void>;
}
