/**
 * UCI `wireless` → hostapd: one config file per BSS, the way plain Linux runs hostapd
 * (Debian's `hostapd@<ifname>` reads /etc/hostapd/<ifname>.conf). Only what maps simply
 * is written: the interface, the SSID, hidden, the encryption and key, the radio's
 * channel, band and country. Every value is checked before it reaches a file hostapd
 * parses line by line, and refused with the UCI path a user would type.
 */
import { ErrorCodes, WrtkitError } from '../../errors.js';
import type { UciPackage, UciSection } from '../../uci/index.js';
import { utf8ByteLength } from '../../util/utf8.js';

/** One AP BSS as hostapd will run it. */
export interface HostapdBss {
  /** UCI path of its wifi-iface section: `wireless.guest`, or `wireless.@wifi-iface[1]` when anonymous. */
  section: string;
  ifname: string;
  /** Neither the section nor its radio is `disabled '1'`. */
  enabled: boolean;
  /** hostapd settings, in file order. */
  settings: ReadonlyArray<readonly [string, string]>;
}

export interface HostapdFileOptions {
  /** hostapd's ctrl_interface directory (wrtkit.main.hostapd_ctrl_dir). */
  ctrlDir: string;
  /** The driver line (wrtkit.main.hostapd_driver). */
  driver: string;
}

/** Settings that name the BSS itself: a running hostapd cannot change them. */
export const FIXED_SETTINGS: ReadonlySet<string> = new Set(['interface', 'driver', 'ctrl_interface']);

/** Settings of the radio: a RELOAD does not retune, the BSS must be restarted (DISABLE, ENABLE). */
export const RADIO_SETTINGS: ReadonlySet<string> = new Set(['country_code', 'ieee80211d', 'hw_mode', 'channel']);

/** What OpenWrt's config_get_bool takes as true. */
const TRUE_WORDS = new Set(['1', 'yes', 'on', 'true', 'enabled']);

/** A newline in a value would start a hostapd setting of the value's choosing. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Linux interface names: at most 15 bytes; ours also become file and socket names. */
const IFNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

/** OpenWrt's `band` (current) and `hwmode` (before 21.02) → hostapd's hw_mode. */
const HW_MODES: Readonly<Record<string, string>> = {
  '2g': 'g',
  '5g': 'a',
  '60g': 'ad',
  '11b': 'b',
  '11g': 'g',
  '11a': 'a',
  '11ad': 'ad',
};

/** Which `encryption` values map, and to what (wpa=2 with these key managements). */
const ENCRYPTIONS: Readonly<Record<string, { keyMgmt: string; pmf: string; passphrase: boolean; sae: boolean }>> = {
  psk2: { keyMgmt: 'WPA-PSK', pmf: '0', passphrase: true, sae: false },
  'psk2+ccmp': { keyMgmt: 'WPA-PSK', pmf: '0', passphrase: true, sae: false },
  'psk2+aes': { keyMgmt: 'WPA-PSK', pmf: '0', passphrase: true, sae: false },
  sae: { keyMgmt: 'SAE', pmf: '2', passphrase: false, sae: true },
  'sae-mixed': { keyMgmt: 'WPA-PSK SAE', pmf: '1', passphrase: true, sae: true },
};

function refuse(uciPath: string, message: string): WrtkitError {
  return new WrtkitError(ErrorCodes.CONFIG_INVALID, `${uciPath}: ${message}`, { uciPath });
}

/** The path a user would type in `uci get`: named, or `@type[n]` for an anonymous section. */
export function sectionPath(pkg: UciPackage, section: UciSection): string {
  if (!section.anonymous) return `${pkg.name}.${section.name}`;
  return `${pkg.name}.@${section.type}[${pkg.ofType(section.type).indexOf(section)}]`;
}

/**
 * Reads one option as a single string, refusing what would break a hostapd config line:
 * a list, or control characters (a newline would start a setting of the user's choosing).
 */
function option(section: UciSection, name: string, path: string): string | undefined {
  const value = section.get(name);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw refuse(`${path}.${name}`, 'must be a single value, not a list');
  if (CONTROL.test(value)) throw refuse(`${path}.${name}`, 'must not contain newlines or control characters');
  return value;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && TRUE_WORDS.has(value.toLowerCase());
}

function radioSettings(pkg: UciPackage, radio: UciSection, out: Array<[string, string]>): void {
  const path = sectionPath(pkg, radio);
  const country = option(radio, 'country', path);
  if (country !== undefined) {
    if (!/^[A-Za-z]{2}$/.test(country)) throw refuse(`${path}.country`, `'${country}' is not a two-letter country code`);
    out.push(['country_code', country.toUpperCase()], ['ieee80211d', '1']);
  }
  const band = option(radio, 'band', path);
  const hwmode = option(radio, 'hwmode', path);
  const mode = band ?? hwmode;
  if (mode !== undefined) {
    const hwMode = HW_MODES[mode];
    const where = `${path}.${band !== undefined ? 'band' : 'hwmode'}`;
    if (mode === '6g') throw refuse(where, '6g needs settings (op_class, SAE) the hostapd backend does not write; use 2g or 5g');
    if (hwMode === undefined) throw refuse(where, `'${mode}' is not a band the hostapd backend knows (2g, 5g, 60g)`);
    out.push(['hw_mode', hwMode]);
  }
  const channel = option(radio, 'channel', path);
  // 'auto' leaves the channel to hostapd (no channel line).
  if (channel !== undefined && channel !== 'auto') {
    if (!/^\d{1,3}$/.test(channel) || Number(channel) < 1 || Number(channel) > 233) {
      throw refuse(`${path}.channel`, `'${channel}' is not a channel number (1-233) or 'auto'`);
    }
    out.push(['channel', String(Number(channel))]);
  }
}

function securitySettings(section: UciSection, path: string, out: Array<[string, string]>): void {
  const encryption = option(section, 'encryption', path) ?? 'none';
  if (encryption === 'none') {
    // Explicit, so that a BSS going from WPA to open is told so (SET wpa 0), not left as it was.
    out.push(['wpa', '0'], ['ieee80211w', '0']);
    return;
  }
  const mapping = ENCRYPTIONS[encryption];
  if (!mapping) {
    throw refuse(
      `${path}.encryption`,
      `'${encryption}' is not supported by the hostapd backend (none, ${Object.keys(ENCRYPTIONS).join(', ')})`,
    );
  }
  const key = option(section, 'key', path);
  // WPA passphrases are 8-63 printable ASCII characters (IEEE 802.11 annex M.4).
  if (key === undefined || !/^[\u0020-\u007e]{8,63}$/.test(key)) {
    throw refuse(`${path}.key`, `encryption '${encryption}' needs a key of 8 to 63 printable ASCII characters`);
  }
  out.push(['wpa', '2'], ['wpa_key_mgmt', mapping.keyMgmt], ['rsn_pairwise', 'CCMP'], ['ieee80211w', mapping.pmf]);
  if (mapping.passphrase) out.push(['wpa_passphrase', key]);
  if (mapping.sae) out.push(['sae_password', key]);
}

/**
 * OpenWrt's roaming options, written when the section has them (so a BSS that never had
 * them gets no lines): `ieee80211k` → 802.11k neighbor and beacon reports,
 * `bss_transition` → 802.11v BSS Transition Management (what a steering plugin's
 * bss_transition_request needs the station to have seen).
 */
function roamingSettings(section: UciSection, path: string, out: Array<[string, string]>): void {
  const k = option(section, 'ieee80211k', path);
  if (k !== undefined) out.push(['rrm_neighbor_report', isTrue(k) ? '1' : '0'], ['rrm_beacon_report', isTrue(k) ? '1' : '0']);
  const v = option(section, 'bss_transition', path);
  if (v !== undefined) out.push(['bss_transition', isTrue(v) ? '1' : '0']);
}

function bssOf(pkg: UciPackage, section: UciSection, path: string, options: HostapdFileOptions): HostapdBss {
  const ifname = option(section, 'ifname', path);
  if (ifname === undefined) {
    throw refuse(
      `${path}.ifname`,
      "is required by the hostapd backend: each BSS's hostapd config file and control socket are named after it (e.g. option ifname 'wlan0')",
    );
  }
  if (!IFNAME.test(ifname))
    throw refuse(`${path}.ifname`, `'${ifname}' is not an interface name (at most 15 of A-Z a-z 0-9 _ . -)`);
  const deviceName = option(section, 'device', path);
  const radio = deviceName === undefined ? undefined : pkg.section(deviceName);
  if (deviceName !== undefined && radio?.type !== 'wifi-device') {
    throw refuse(`${path}.device`, `there is no wifi-device section '${deviceName}'`);
  }

  const settings: Array<[string, string]> = [
    ['interface', ifname],
    ['driver', options.driver],
    ['ctrl_interface', options.ctrlDir],
  ];
  if (radio) radioSettings(pkg, radio, settings);
  const ssid = option(section, 'ssid', path);
  if (ssid === undefined) throw refuse(`${path}.ssid`, 'an access point needs an SSID');
  const bytes = utf8ByteLength(ssid);
  if (bytes > 32) throw refuse(`${path}.ssid`, `is ${bytes} bytes in UTF-8; an SSID has at most 32`);
  settings.push(['ssid', ssid], ['ignore_broadcast_ssid', isTrue(option(section, 'hidden', path)) ? '1' : '0']);
  securitySettings(section, path, settings);
  roamingSettings(section, path, settings);

  const disabled =
    isTrue(option(section, 'disabled', path)) ||
    (radio !== undefined && isTrue(option(radio, 'disabled', sectionPath(pkg, radio))));
  return { section: path, ifname, enabled: !disabled, settings };
}

/**
 * Every AP BSS of a `wireless` package (wifi-iface sections whose `mode` is `ap`, the
 * default), with the problems that keep a section from being one. Other modes (sta,
 * mesh, monitor) are not hostapd's and are left out.
 */
export function hostapdBsses(pkg: UciPackage, options: HostapdFileOptions): { bsses: HostapdBss[]; problems: WrtkitError[] } {
  const bsses: HostapdBss[] = [];
  const problems: WrtkitError[] = [];
  // The directory is written into every BSS file.
  if (CONTROL.test(options.ctrlDir)) {
    problems.push(refuse('wrtkit.main.hostapd_ctrl_dir', 'must not contain newlines or control characters'));
    return { bsses, problems };
  }
  const owners = new Map<string, string>();
  for (const section of pkg.ofType('wifi-iface')) {
    const path = sectionPath(pkg, section);
    try {
      if ((option(section, 'mode', path) ?? 'ap') !== 'ap') continue;
      const bss = bssOf(pkg, section, path, options);
      const owner = owners.get(bss.ifname);
      if (owner !== undefined) throw refuse(`${path}.ifname`, `'${bss.ifname}' is already the ifname of ${owner}`);
      owners.set(bss.ifname, path);
      bsses.push(bss);
    } catch (error) {
      if (!(error instanceof WrtkitError)) throw error;
      problems.push(error);
    }
  }
  return { bsses, problems };
}

/** The BSS's hostapd config file. */
export function formatHostapdConf(bss: HostapdBss): string {
  const lines = [`# Written by wrtkit from ${bss.section} (/etc/config/wireless); change that, not this file.`];
  for (const [key, value] of bss.settings) lines.push(`${key}=${value}`);
  return `${lines.join('\n')}\n`;
}

/** A hostapd config file's settings (the last of a repeated one wins, as in hostapd). */
export function parseHostapdConf(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) settings.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return settings;
}
