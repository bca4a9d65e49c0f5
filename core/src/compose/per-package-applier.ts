import type { ComposedPackage } from '../hooks/events.js';
import type { UciChange, UciPackage } from '../uci/index.js';
import type { ConfigApplier } from './applier.js';

/**
 * Applies each package with the applier chosen for it, the rest with a default: the host
 * gives `wireless` its backend (OpenWrt, hostapd) and everything else the file applier.
 */
export class PerPackageApplier implements ConfigApplier {
  constructor(
    private readonly byPackage: Partial<Record<ComposedPackage, ConfigApplier>>,
    private readonly fallback: ConfigApplier,
  ) {}

  apply(pkg: ComposedPackage, desired: UciPackage, changes: readonly UciChange[]): Promise<void> {
    return (this.byPackage[pkg] ?? this.fallback).apply(pkg, desired, changes);
  }
}
