/**
 * Captive-portal discovery the standard way, so phones and laptops open the portal
 * themselves instead of guessing from a hijacked probe:
 *
 * - RFC 8908, the captive-portal API: `GET /api/captive` answers
 *   `application/captive+json` with whether this device is still captive, where the
 *   portal is and how long its access lasts;
 * - RFC 8910, the API's address in DHCP: DHCPv4 option 114 and DHCPv6 option 103, added
 *   to the dnsmasq sections of /etc/config/dhcp through the host's `compose.dhcp` hook.
 */
import type { UciPackage } from '@wrtkit/sdk';
import type { Authorization } from '../vouchers/voucher.js';

/** Paths answering the API (ours, and the one some portals use). */
export const CAPPORT_PATHS: readonly string[] = ['/api/captive', '/captive-portal/api'];

export const CAPPORT_CONTENT_TYPE = 'application/captive+json';

/** The RFC 8908 API state (the fields this portal uses). */
export interface CaptiveState {
  captive: boolean;
  'user-portal-url': string;
  'seconds-remaining'?: number;
  'can-extend-session': boolean;
}

/**
 * The API answer for a device: captive unless it holds an authorization that has not
 * ended; `seconds-remaining` when that authorization has an end.
 */
export function captiveState(authorization: Authorization | undefined, portalUrl: string, nowMs: number): CaptiveState {
  const nowS = nowMs / 1000;
  const active = authorization !== undefined && (authorization.expiresAt === undefined || authorization.expiresAt > nowS);
  const state: CaptiveState = { captive: !active, 'user-portal-url': portalUrl, 'can-extend-session': false };
  if (active && authorization.expiresAt !== undefined) {
    state['seconds-remaining'] = Math.max(0, Math.floor(authorization.expiresAt - nowS));
  }
  return state;
}

/** `scheme://host[:port]` of an http(s) URL, or undefined. */
export function originOf(url: string): string | undefined {
  const m = /^(https?:\/\/[^/?#\s]+)/i.exec(url.trim());
  return m ? (m[1] as string) : undefined;
}

/** The API's URL on the portal's origin: `http://thisnode.info:59080/api/captive`. */
export function captiveApiUrl(portalUrl: string): string {
  const origin = originOf(portalUrl);
  if (origin === undefined) throw new TypeError(`not an http(s) URL: ${portalUrl}`);
  return `${origin}${CAPPORT_PATHS[0]}`;
}

/**
 * The `dhcp_option` values (dnsmasq syntax, as /etc/config/dhcp takes them) announcing
 * the API: DHCPv4 option 114 and DHCPv6 option 103 (RFC 8910).
 */
export function captivePortalDhcpOptions(apiUrl: string): [string, string] {
  if (/[\s,]/.test(apiUrl) || apiUrl.length === 0) throw new TypeError(`not usable as a DHCP option value: ${apiUrl}`);
  return [`114,${apiUrl}`, `option6:103,${apiUrl}`];
}

/** Is this dhcp_option value a captive-portal option (v4 114 or v6 103), whoever wrote it? */
export function isCaptivePortalDhcpOption(value: string): boolean {
  // optional leading tags (`tag:x,`), then the option number or dnsmasq's name for it
  const rest = value.trim().replace(/^(?:tag:[^,]*,)*/, '');
  return /^(?:option:)?(?:114|captive-portal),/i.test(rest) || /^option6:(?:103|captive-portal),/i.test(rest);
}

/** Sections `composeCaptivePortalDhcp` could not use, and why. */
export interface DhcpComposeIssue {
  section: string;
  reason: 'missing' | 'not a dhcp section';
}

export interface DhcpComposeOptions {
  /** API URLs announced before (the portal URL changed): their values are removed everywhere. */
  previousUrls?: readonly string[];
  /** Told about named sections that are missing or not `config dhcp`; they are left untouched. */
  onIssue?(issue: DhcpComposeIssue): void;
}

/**
 * Announces the captive-portal API in the named `config dhcp` sections of
 * /etc/config/dhcp: their `dhcp_option` list gets exactly our two values, replacing any
 * other option 114 / option6:103 there; the list's other values keep their order.
 * `config dhcp` sections not named lose our values (the current URL and
 * `previousUrls`), so a section taken off the list, or `sections: []` when the portal
 * is off, withdraws the announcement. A named section that is missing is left alone and
 * reported through `onIssue`. Idempotent: composing twice changes nothing more.
 * Returns the package it was given (changed in place), as a compose tap does.
 */
export function composeCaptivePortalDhcp(
  pkg: UciPackage,
  sections: readonly string[],
  apiUrl: string,
  options: DhcpComposeOptions = {},
): UciPackage {
  const ours = captivePortalDhcpOptions(apiUrl);
  const known = new Set<string>(ours);
  for (const url of options.previousUrls ?? []) {
    try {
      for (const v of captivePortalDhcpOptions(url)) known.add(v);
    } catch {
      // a value we could never have written
    }
  }
  const wanted = new Set(sections);
  for (const name of wanted) {
    const section = pkg.section(name);
    if (!section) options.onIssue?.({ section: name, reason: 'missing' });
    else if (section.type !== 'dhcp') options.onIssue?.({ section: name, reason: 'not a dhcp section' });
  }
  for (const section of pkg.ofType('dhcp')) {
    const raw = section.get('dhcp_option');
    const list = raw === undefined ? [] : typeof raw === 'string' ? [raw] : raw;
    let next: string[];
    if (wanted.has(section.name)) {
      const others = list.filter((v) => !isCaptivePortalDhcpOption(v));
      const present = list.filter((v) => isCaptivePortalDhcpOption(v));
      // already exactly ours (in either order): leave the list as it is
      if (present.length === ours.length && ours.every((v) => present.includes(v))) continue;
      next = [...others, ...ours];
    } else {
      next = list.filter((v) => !known.has(v));
      if (next.length === list.length) continue;
    }
    if (next.length === 0) section.delete('dhcp_option');
    else section.set('dhcp_option', next);
  }
  return pkg;
}
