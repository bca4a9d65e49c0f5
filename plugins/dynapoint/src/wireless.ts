/**
 * What the rules mean for /etc/config/wireless, as upstream DynaPoint marks it: a
 * `wifi-iface` with `option dynapoint_rule 'internet'` is up while the rule is online, one
 * with `'!internet'` is up while it is offline (the "maintenance" SSID). This is the
 * plugin's part of the host's wireless composition: it only ever touches the ifaces of
 * known rules with a verdict, so the host's diff (and `wifi reload`) covers exactly the
 * BSSes of the rule that changed, and nothing when nothing did.
 *
 * With `add_hostname_to_ssid`, an offline iface's SSID becomes `<ssid>_<hostname>`; the
 * SSID it had is kept in `option dynapoint_ssid` meanwhile, so going online restores it
 * whatever the hostname (upstream kept it in memory and lost it on restart).
 */
import type { UciPackage, UciSection } from '@wrtkit/sdk';
import type { RuleState } from './verdict.js';

export const RULE_OPTION = 'dynapoint_rule';
export const SAVED_SSID_OPTION = 'dynapoint_ssid';
/** IEEE 802.11: an SSID is at most 32 octets (UTF-8 bytes, not characters). */
export const MAX_SSID_BYTES = 32;

export interface RuleView {
  name: string;
  enabled: boolean;
  addHostnameToSsid: boolean;
}

/** Something in /etc/config/wireless this plugin will not act on, and where. */
export interface WirelessProblem {
  uciPath: string;
  message: string;
}

export interface Follower {
  section: UciSection;
  uciPath: string;
  rule: string;
  /** '!rule': up while the rule is offline. */
  whenOffline: boolean;
}

const RULE_NAME = /^[A-Za-z0-9_]+$/;

/** UTF-8 length without TextEncoder (QuickJS has none). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}

function sectionPath(section: UciSection, index: number): string {
  return section.anonymous ? `wireless.@wifi-iface[${index}]` : `wireless.${section.name}`;
}

function text(section: UciSection, option: string): string | undefined {
  const value = section.get(option);
  return typeof value === 'string' ? value : undefined;
}

/** The SSID an iface has when its rule does not rename it. */
export function baseSsid(section: UciSection): string | undefined {
  return text(section, SAVED_SSID_OPTION) ?? text(section, 'ssid');
}

export function offlineSsid(base: string, hostname: string): string {
  return `${base}_${hostname}`;
}

/**
 * The ifaces that follow a rule, and the problems that keep others out: a malformed
 * value, a rule that does not exist (or is switched off), an SSID that would be too long.
 */
export function followers(
  pkg: UciPackage,
  rules: ReadonlyMap<string, RuleView>,
  hostname: string,
): { followers: Follower[]; problems: WirelessProblem[] } {
  const out: Follower[] = [];
  const problems: WirelessProblem[] = [];
  pkg.ofType('wifi-iface').forEach((section, index) => {
    const raw = section.get(RULE_OPTION);
    if (raw === undefined) return;
    const path = sectionPath(section, index);
    if (typeof raw !== 'string') {
      problems.push({ uciPath: `${path}.${RULE_OPTION}`, message: 'must be an option, not a list' });
      return;
    }
    const whenOffline = raw.startsWith('!');
    const rule = whenOffline ? raw.slice(1) : raw;
    if (!RULE_NAME.test(rule)) {
      problems.push({ uciPath: `${path}.${RULE_OPTION}`, message: `'${raw}' is not a rule name ('<rule>' or '!<rule>')` });
      return;
    }
    const view = rules.get(rule);
    if (!view) {
      const known = [...rules.keys()].join(', ') || 'none';
      problems.push({
        uciPath: `${path}.${RULE_OPTION}`,
        message: `unknown rule '${rule}' (rules in /etc/config/dynapoint: ${known})`,
      });
      return;
    }
    if (!view.enabled) return;
    if (whenOffline && view.addHostnameToSsid) {
      const base = baseSsid(section);
      if (base !== undefined) {
        const ssid = offlineSsid(base, hostname);
        const bytes = utf8Bytes(ssid);
        if (bytes > MAX_SSID_BYTES) {
          problems.push({
            uciPath: `${path}.ssid`,
            message: `'${ssid}' (with the hostname, add_hostname_to_ssid of rule ${rule}) is ${bytes} bytes; an SSID has at most ${MAX_SSID_BYTES}`,
          });
          return;
        }
      }
    }
    out.push({ section, uciPath: path, rule, whenOffline });
  });
  return { followers: out, problems };
}

/**
 * The state a rule was left in, read back from the ifaces (upstream: "offline" when its
 * first iface is disabled), so a restart neither flips the SSIDs nor announces a change
 * that did not happen. Rules without ifaces start online.
 */
export function stateFromWireless(list: readonly Follower[], rule: string): RuleState {
  const mine = list.filter((f) => f.rule === rule && !f.whenOffline);
  const disabled = mine.some((f) => f.section.get('disabled') === '1');
  return disabled ? 'offline' : 'online';
}

/**
 * Sets the ifaces of rules with a verdict: `disabled` and, for renamed ones, `ssid`. An
 * iface that is up keeps `disabled` absent if it was absent (no change, no reload).
 */
export function applyStates(
  list: readonly Follower[],
  states: ReadonlyMap<string, RuleState>,
  rules: ReadonlyMap<string, RuleView>,
  hostname: string,
): void {
  for (const f of list) {
    const state = states.get(f.rule);
    if (state === undefined) continue;
    const up = f.whenOffline ? state === 'offline' : state === 'online';
    const disabled = f.section.get('disabled');
    if (up && disabled !== undefined && disabled !== '0') f.section.set('disabled', '0');
    if (!up && disabled !== '1') f.section.set('disabled', '1');
    if (!f.whenOffline) continue;
    const saved = text(f.section, SAVED_SSID_OPTION);
    const rename = up && rules.get(f.rule)?.addHostnameToSsid === true;
    if (rename) {
      const base = saved ?? text(f.section, 'ssid');
      if (base === undefined) continue;
      const ssid = offlineSsid(base, hostname);
      if (text(f.section, 'ssid') !== ssid) f.section.set('ssid', ssid);
      if (saved === undefined) f.section.set(SAVED_SSID_OPTION, base);
    } else if (saved !== undefined) {
      f.section.set('ssid', saved);
      f.section.delete(SAVED_SSID_OPTION);
    }
  }
}
