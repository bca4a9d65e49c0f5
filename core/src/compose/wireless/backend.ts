import type { Clock } from '../../clock/clock.js';
import type { Logger } from '../../log/logger.js';
import type { FileSystem, Platform, Processes } from '../../platform/platform.js';
import type { UciPackage } from '../../uci/index.js';
import type { ConfigApplier } from '../applier.js';
import { HostapdApplier } from './hostapd.js';
import { HostapdControlClient } from './hostapd-control.js';
import { OpenWrtWirelessApplier } from './openwrt.js';

/** `option wireless_backend` in /etc/config/wrtkit. */
export type WirelessBackendSetting = 'auto' | 'openwrt' | 'hostapd' | 'uci';
export type WirelessBackend = Exclude<WirelessBackendSetting, 'auto'>;

/** The host settings of the wireless backends (wrtkit.main.wireless_backend, hostapd_*). */
export interface WirelessSettings {
  backend: WirelessBackendSetting;
  hostapdConfDir: string;
  hostapdCtrlDir: string;
  hostapdDriver: string;
}

/** Which backend applies `wireless`, and why (logged at start, shown by `wrtkit status`). */
export interface WirelessChoice {
  backend: WirelessBackend;
  reason: string;
}

/** Present on every OpenWrt image, even one built without `wifi`. */
export const OPENWRT_RELEASE = '/etc/openwrt_release';

/**
 * The backend for this system. `auto`: OpenWrt when it has `wifi` or its release file;
 * else hostapd when its control directory holds a socket (a hostapd is serving a BSS);
 * else `uci`, the file applier (write the file, reload where the command exists).
 */
export function detectWirelessBackend(
  setting: WirelessBackendSetting,
  system: { fs: FileSystem; processes: Processes; hostapdCtrlDir: string },
): WirelessChoice {
  if (setting !== 'auto') return { backend: setting, reason: `wrtkit.main.wireless_backend is '${setting}'` };
  const wifi = system.processes.which('wifi');
  if (wifi !== undefined) return { backend: 'openwrt', reason: `found ${wifi}` };
  if (system.fs.exists(OPENWRT_RELEASE)) return { backend: 'openwrt', reason: `found ${OPENWRT_RELEASE}` };
  // hostapd's control sockets are the only non-file, non-directory entries in that directory.
  const socket = system.fs.list(system.hostapdCtrlDir).find((entry) => entry.kind === 'other');
  if (socket) return { backend: 'hostapd', reason: `found hostapd control socket ${system.hostapdCtrlDir}/${socket.name}` };
  return { backend: 'uci', reason: `no wifi, no ${OPENWRT_RELEASE}, no hostapd control socket in ${system.hostapdCtrlDir}` };
}

export interface WirelessApplierDeps {
  platform: Pick<Platform, 'fs' | 'processes' | 'sockets'>;
  clock: Clock;
  configDir: string;
  settings: WirelessSettings;
  /** The argv `wifi reload` or `config apply 'wireless'` gives. */
  command: () => readonly string[];
  loadCommitted: () => UciPackage | undefined;
  log: Logger;
  /** The file applier, which is the `uci` backend. */
  files: ConfigApplier;
}

/** The applier of the chosen backend. */
export function createWirelessApplier(choice: WirelessChoice, deps: WirelessApplierDeps): ConfigApplier {
  const { platform, clock, configDir, settings, log } = deps;
  switch (choice.backend) {
    case 'openwrt':
      return new OpenWrtWirelessApplier(platform.fs, platform.processes, configDir, deps.command, log);
    case 'hostapd':
      return new HostapdApplier({
        fs: platform.fs,
        configDir,
        confDir: settings.hostapdConfDir,
        ctrlDir: settings.hostapdCtrlDir,
        driver: settings.hostapdDriver,
        control: new HostapdControlClient({
          sockets: platform.sockets,
          processes: platform.processes,
          clock,
          ctrlDir: settings.hostapdCtrlDir,
          log,
        }),
        loadCommitted: deps.loadCommitted,
        log,
      });
    case 'uci':
      return deps.files;
  }
}
