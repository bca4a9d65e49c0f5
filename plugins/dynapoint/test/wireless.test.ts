import { parseUci } from '@wrtkit/core';
import { describe, expect, it } from 'vitest';
import type { RuleState } from '../src/verdict.js';
import { type RuleView, applyStates, followers, stateFromWireless, utf8Bytes } from '../src/wireless.js';

// The seed's example (DynaPoint's final GSoC post), plus an iface of no rule.
const WIRELESS = `config wifi-device 'radio0'
	option type 'mac80211'

config wifi-iface
	option device 'radio0'
	option network 'lan2'
	option mode 'ap'
	option encryption 'none'
	option ssid 'freifunk'
	option dynapoint_rule 'internet'

config wifi-iface
	option device 'radio0'
	option network 'lan2'
	option mode 'ap'
	option encryption 'none'
	option ssid 'freifunk-maintenance'
	option dynapoint_rule '!internet'

config wifi-iface 'private'
	option device 'radio0'
	option ssid 'home'
`;

const rules = (addHostname = false, enabled = true): Map<string, RuleView> =>
  new Map([['internet', { name: 'internet', enabled, addHostnameToSsid: addHostname }]]);
const load = (text = WIRELESS) => parseUci(text, { name: 'wireless', strict: false }).package;
const ifaces = (pkg: ReturnType<typeof load>) =>
  pkg.ofType('wifi-iface').map((s) => ({ ssid: s.get('ssid'), disabled: s.get('disabled'), saved: s.get('dynapoint_ssid') }));

function compose(pkg: ReturnType<typeof load>, state: RuleState, addHostname = false, hostname = 'node1') {
  const r = rules(addHostname);
  applyStates(followers(pkg, r, hostname).followers, new Map([['internet', state]]), r, hostname);
  return pkg;
}

describe('wireless: ifaces follow their rule', () => {
  it('online: the rule iface up (left without disabled), the !rule iface down; the other iface untouched', () => {
    expect(ifaces(compose(load(), 'online'))).toEqual([
      { ssid: 'freifunk', disabled: undefined, saved: undefined },
      { ssid: 'freifunk-maintenance', disabled: '1', saved: undefined },
      { ssid: 'home', disabled: undefined, saved: undefined },
    ]);
  });

  it('offline: the other way round; with add_hostname_to_ssid the maintenance SSID gets _<hostname>, restored when online', () => {
    const pkg = compose(load(), 'offline', true);
    expect(ifaces(pkg)).toEqual([
      { ssid: 'freifunk', disabled: '1', saved: undefined },
      { ssid: 'freifunk-maintenance_node1', disabled: undefined, saved: 'freifunk-maintenance' },
      { ssid: 'home', disabled: undefined, saved: undefined },
    ]);
    // composing again changes nothing (idempotent: the host applies nothing)
    const again = compose(pkg.clone(), 'offline', true);
    expect(ifaces(again)).toEqual(ifaces(pkg));
    expect(ifaces(compose(pkg, 'online', true))).toEqual([
      { ssid: 'freifunk', disabled: '0', saved: undefined },
      { ssid: 'freifunk-maintenance', disabled: '1', saved: undefined },
      { ssid: 'home', disabled: undefined, saved: undefined },
    ]);
  });

  it('a rule without a verdict, or disabled, leaves its ifaces alone', () => {
    const pkg = load();
    const r = rules();
    applyStates(followers(pkg, r, 'n').followers, new Map(), r, 'n');
    expect(ifaces(pkg)).toEqual(ifaces(load()));
    const off = rules(false, false);
    expect(followers(pkg, off, 'n').followers).toEqual([]);
  });

  it('reads the state back: offline when a rule iface is disabled', () => {
    const r = rules();
    expect(stateFromWireless(followers(load(), r, 'n').followers, 'internet')).toBe('online');
    const offline = compose(load(), 'offline');
    expect(stateFromWireless(followers(offline, r, 'n').followers, 'internet')).toBe('offline');
  });

  it('problems name the UCI path: unknown rule, malformed value, SSID over 32 bytes with the hostname', () => {
    const pkg = load(
      WIRELESS +
        "\nconfig wifi-iface 'guest'\n\toption ssid 'g'\n\toption dynapoint_rule 'intenret'\n" +
        "\nconfig wifi-iface\n\toption ssid 'x'\n\toption dynapoint_rule '!in ternet'\n" +
        "\nconfig wifi-iface 'long'\n\toption ssid 'Gemeinschaftsnetz-Wartung-ÄÖÜ'\n\toption dynapoint_rule '!internet'\n",
    );
    const { problems, followers: list } = followers(pkg, rules(true), 'node1');
    expect(problems).toEqual([
      { uciPath: 'wireless.guest.dynapoint_rule', message: "unknown rule 'intenret' (rules in /etc/config/dynapoint: internet)" },
      { uciPath: 'wireless.@wifi-iface[4].dynapoint_rule', message: "'!in ternet' is not a rule name ('<rule>' or '!<rule>')" },
      {
        uciPath: 'wireless.long.ssid',
        message:
          "'Gemeinschaftsnetz-Wartung-ÄÖÜ_node1' (with the hostname, add_hostname_to_ssid of rule internet) is 38 bytes; an SSID has at most 32",
      },
    ]);
    // the long one is left out: it keeps whatever state it has
    expect(list.map((f) => f.uciPath)).toEqual(['wireless.@wifi-iface[0]', 'wireless.@wifi-iface[1]']);
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(utf8Bytes('abc')).toBe(3);
    expect(utf8Bytes('Ä')).toBe(2);
    expect(utf8Bytes('€')).toBe(3);
    expect(utf8Bytes('📶')).toBe(4);
  });
});
