/**
 * What an OpenWrt release implies for the build: OpenWrt moved from opkg (.ipk) to apk
 * (.apk) with 25.12; snapshots have used apk since before that.
 */

export interface PackageManager {
  manager: 'opkg' | 'apk';
  /** The package files' format (and extension). */
  format: 'ipk' | 'apk';
}

const OPKG: PackageManager = { manager: 'opkg', format: 'ipk' };
const APK: PackageManager = { manager: 'apk', format: 'apk' };

/** The package manager of a release as the site file gives it (`24.10.4`, `25.12.0-rc1`, `24.10-SNAPSHOT`, `SNAPSHOT`). */
export function packageManager(release: string): PackageManager {
  const match = /^(\d+)\.(\d+)/.exec(release);
  if (!match) return APK; // SNAPSHOT: the main branch
  const year = Number(match[1]);
  const month = Number(match[2]);
  return year > 25 || (year === 25 && month >= 12) ? APK : OPKG;
}
