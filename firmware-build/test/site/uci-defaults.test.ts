import { describe, expect, it } from 'vitest';
import { availablePlugins, loadSite, uciDefaults, type Site } from '../../src/site/index.js';
import { EXAMPLE, REPO_ROOT } from './helpers.js';

const plugins = availablePlugins(REPO_ROOT);

async function example(): Promise<Site> {
  const { site, errors } = await loadSite(EXAMPLE, REPO_ROOT);
  expect(errors).toEqual([]);
  return site as Site;
}

const minimal = (extra: Partial<Site> = {}): Site => ({
  release: '24.10.4',
  targets: [{ target: 'x86/64', profiles: ['generic'] }],
  community: { name: 'Test' },
  plugins: {},
  ...extra,
});

/** The lines of the block that sets one UCI package. */
function block(script: string, config: string): string[] {
  const lines = script.split('\n');
  const start = lines.indexOf(`if [ ! -e "$wrtkit_marker_dir/${config}" ]; then`);
  expect(start).toBeGreaterThan(0);
  return lines.slice(start, lines.indexOf('fi', start) + 1);
}

describe('uciDefaults', () => {
  it("writes the example's community settings, host defaults and plugin config, exactly", async () => {
    const out = uciDefaults(await example(), plugins);
    expect(out.path).toBe('/etc/uci-defaults/90-wrtkit-site');
    expect(out.configs).toEqual(['system', 'wrtkit', 'dynapoint', 'heartbeat', 'offload', 'pirania']);
    expect(out.keep).toEqual(['/etc/wrtkit/site-defaults/']);
    expect(out.script.split('\n')).toEqual([
      '#!/bin/sh',
      '# Community defaults of Freifunk Musterstadt (OpenWrt 24.10.4), written by',
      '# wrtkit firmware-build from the site file. Change the site file, not this script.',
      '#',
      '# OpenWrt runs this once at first boot and deletes it (it exits 0). Each UCI package',
      '# below is set once per device: a marker in $wrtkit_marker_dir says it was, and from',
      "# then on the package's config is the user's; a sysupgrade that keeps the config keeps",
      "# the markers, so the user's changes survive.",
      '',
      'wrtkit_conf_dir=/etc/config',
      'wrtkit_marker_dir=/etc/wrtkit/site-defaults',
      'mkdir -p "$wrtkit_marker_dir"',
      '',
      '# The first section of type $2 in package $1 (the one wrtkit reads), named $3 when the',
      '# package has none.',
      'wrtkit_section() {',
      '\t[ -e "$wrtkit_conf_dir/$1" ] || touch "$wrtkit_conf_dir/$1"',
      '\tuci -q get "$1.@$2[0]" >/dev/null || uci -q set "$1.$3=$2"',
      '}',
      '',
      "# Deletes every section of type $2 in package $1: the site's list replaces them.",
      'wrtkit_clear() {',
      '\t[ -e "$wrtkit_conf_dir/$1" ] || touch "$wrtkit_conf_dir/$1"',
      '\twhile uci -q delete "$1.@$2[0]"; do :; done',
      '}',
      '',
      "# system: the community's name, hostnames and time",
      'if [ ! -e "$wrtkit_marker_dir/system" ]; then',
      "\t# <prefix><MAC>, as Gluon names nodes: the label MAC where the board has one, else eth0's",
      '\t[ -f /lib/functions/system.sh ] && . /lib/functions/system.sh',
      '\tmac=',
      '\tcommand -v get_mac_label >/dev/null 2>&1 && mac=$(get_mac_label)',
      '\t[ -n "$mac" ] || mac=$(cat /sys/class/net/eth0/address 2>/dev/null)',
      "\tmac=$(echo \"$mac\" | tr -d ':' | tr 'ABCDEF' 'abcdef')",
      '\tuci -q set "system.@system[0].hostname=ffms-${mac:-node}"',
      "\tuci -q batch >/dev/null <<'EOF'",
      "set system.@system[0].description='Freifunk Musterstadt'",
      "set system.@system[0].timezone='CET-1CEST,M3.5.0,M10.5.0/3'",
      "set system.@system[0].zonename='Europe/Berlin'",
      'set system.ntp=timeserver',
      'delete system.ntp.server',
      "add_list system.ntp.server='0.de.pool.ntp.org'",
      "add_list system.ntp.server='1.de.pool.ntp.org'",
      'commit system',
      'EOF',
      '\ttouch "$wrtkit_marker_dir/system"',
      'fi',
      '',
      '# wrtkit: the wrtkit host',
      'if [ ! -e "$wrtkit_marker_dir/wrtkit" ]; then',
      '\twrtkit_section wrtkit wrtkit main',
      "\tuci -q batch >/dev/null <<'EOF'",
      "set wrtkit.@wrtkit[0].log_level='warn'",
      'commit wrtkit',
      'EOF',
      '\ttouch "$wrtkit_marker_dir/wrtkit"',
      'fi',
      '',
      '# dynapoint: plugin dynapoint',
      'if [ ! -e "$wrtkit_marker_dir/dynapoint" ]; then',
      '\twrtkit_clear dynapoint rule',
      "\tuci -q batch >/dev/null <<'EOF'",
      'set dynapoint.internet=rule',
      "add_list dynapoint.internet.hosts='http://detectportal.firefox.com/success.txt'",
      "add_list dynapoint.internet.hosts='dns://9.9.9.9/openwrt.org'",
      "add_list dynapoint.internet.hosts='icmp://1.1.1.1'",
      "set dynapoint.internet.interval='60'",
      "set dynapoint.internet.timeout='5'",
      "set dynapoint.internet.offline_threshold='3'",
      "set dynapoint.internet.online_threshold='1'",
      "set dynapoint.internet.add_hostname_to_ssid='1'",
      'commit dynapoint',
      'EOF',
      '\ttouch "$wrtkit_marker_dir/dynapoint"',
      'fi',
      '',
      '# heartbeat: plugin heartbeat',
      'if [ ! -e "$wrtkit_marker_dir/heartbeat" ]; then',
      '\twrtkit_section heartbeat heartbeat main',
      "\tuci -q batch >/dev/null <<'EOF'",
      "set heartbeat.@heartbeat[0].interval='60000'",
      "set heartbeat.@heartbeat[0].label='ffms'",
      'commit heartbeat',
      'EOF',
      '\ttouch "$wrtkit_marker_dir/heartbeat"',
      'fi',
      '',
      '# offload: plugin offload',
      'if [ ! -e "$wrtkit_marker_dir/offload" ]; then',
      '\twrtkit_section offload offload main',
      "\tuci -q batch >/dev/null <<'EOF'",
      "set offload.@offload[0].enabled='1'",
      "set offload.@offload[0].mode='tc'",
      'delete offload.@offload[0].interfaces',
      "add_list offload.@offload[0].interfaces='eth0'",
      "add_list offload.@offload[0].interfaces='eth1'",
      "set offload.@offload[0].ipv6='1'",
      'commit offload',
      'EOF',
      '\ttouch "$wrtkit_marker_dir/offload"',
      'fi',
      '',
      '# pirania: plugin pirania-nftables',
      'if [ ! -e "$wrtkit_marker_dir/pirania" ]; then',
      '\twrtkit_section pirania base_config base_config',
      "\tuci -q batch >/dev/null <<'EOF'",
      "set pirania.@base_config[0].enabled='1'",
      "set pirania.@base_config[0].portal_domain='thisnode.info'",
      "set pirania.@base_config[0].prune_expired_for_days='60'",
      'delete pirania.@base_config[0].allowlist_ipv4',
      "add_list pirania.@base_config[0].allowlist_ipv4='10.0.0.0/8'",
      "add_list pirania.@base_config[0].allowlist_ipv4='172.16.0.0/12'",
      "add_list pirania.@base_config[0].allowlist_ipv4='192.168.0.0/16'",
      'delete pirania.@base_config[0].catch_bridged_interfaces',
      "add_list pirania.@base_config[0].catch_bridged_interfaces='phy0-ap0'",
      "set pirania.@base_config[0].connectivity_rule='internet'",
      'commit pirania',
      'EOF',
      '\ttouch "$wrtkit_marker_dir/pirania"',
      'fi',
      '',
      'exit 0',
      '',
    ]);
  });

  it('is the same text every time', async () => {
    const site = await example();
    expect(uciDefaults(site, plugins).script).toBe(uciDefaults(structuredClone(site), plugins).script);
  });

  it('sets only what the community gives, and skips plugins without config', () => {
    const out = uciDefaults(minimal({ plugins: { heartbeat: {}, offload: { config: {} } } }), plugins);
    expect(out.configs).toEqual(['system']);
    expect(block(out.script, 'system')).toEqual([
      'if [ ! -e "$wrtkit_marker_dir/system" ]; then',
      "\tuci -q batch >/dev/null <<'EOF'",
      "set system.@system[0].description='Test'",
      'commit system',
      'EOF',
      '\ttouch "$wrtkit_marker_dir/system"',
      'fi',
    ]);
  });

  it('adds anonymous sections of a list, names the named ones, and quotes values for uci', () => {
    const site = minimal({
      host: {
        apply: [
          { '.name': 'wireless', command: ['wifi', 'reload'] },
          { command: ['true'], enabled: false },
        ],
      },
      plugins: {
        dynapoint: { config: { rule: [{ hosts: ['icmp://1.1.1.1'], interval: 0.5 }] } },
        'beat-counter': { config: { counter: { ssid: "Tom's café; $(reboot) `x` \\n" } } },
        heartbeat: {},
      },
    });
    const { script } = uciDefaults(site, plugins);
    expect(block(script, 'wrtkit')).toEqual([
      'if [ ! -e "$wrtkit_marker_dir/wrtkit" ]; then',
      '\twrtkit_clear wrtkit apply',
      "\tuci -q batch >/dev/null <<'EOF'",
      'set wrtkit.wireless=apply',
      "add_list wrtkit.wireless.command='wifi'",
      "add_list wrtkit.wireless.command='reload'",
      'add wrtkit apply',
      "add_list wrtkit.@apply[-1].command='true'",
      "set wrtkit.@apply[-1].enabled='0'",
      'commit wrtkit',
      'EOF',
      '\ttouch "$wrtkit_marker_dir/wrtkit"',
      'fi',
    ]);
    expect(block(script, 'dynapoint')).toContain("set dynapoint.@rule[-1].interval='0.5'");
    expect(block(script, 'beat-counter')).toEqual([
      'if [ ! -e "$wrtkit_marker_dir/beat-counter" ]; then',
      '\twrtkit_section beat-counter counter main',
      "\tuci -q batch >/dev/null <<'EOF'",
      "set beat-counter.@counter[0].ssid='Tom'\\''s café; $(reboot) `x` \\n'",
      'commit beat-counter',
      'EOF',
      '\ttouch "$wrtkit_marker_dir/beat-counter"',
      'fi',
    ]);
  });

  it('picks another here-document delimiter when a multi-line value has an EOF line', () => {
    const site = minimal({ plugins: { 'pirania-nftables': { config: { base_config: { append_nft_rules: 'a\nEOF\nb' } } } } });
    expect(block(uciDefaults(site, plugins).script, 'pirania')).toEqual([
      'if [ ! -e "$wrtkit_marker_dir/pirania" ]; then',
      '\twrtkit_section pirania base_config base_config',
      "\tuci -q batch >/dev/null <<'EOF1'",
      "set pirania.@base_config[0].append_nft_rules='a",
      'EOF',
      "b'",
      'commit pirania',
      'EOF1',
      '\ttouch "$wrtkit_marker_dir/pirania"',
      'fi',
    ]);
  });

  it('refuses what it cannot write safely', () => {
    const bad = (config: Record<string, unknown>): Site => minimal({ plugins: { heartbeat: { config: config as never } } });
    expect(() => uciDefaults(bad({ heartbeat: { 'x; reboot': '1' } }), plugins)).toThrow(
      expect.objectContaining({ code: 'WRTKIT_ERR_CONFIG_INVALID', uciPath: 'heartbeat.@heartbeat[0].x; reboot' }),
    );
    expect(() => uciDefaults(bad({ heartbeat: { label: { nested: 1 } } }), plugins)).toThrow(/is not an option value/);
    expect(() => uciDefaults(bad({ heartbeat: { label: 'a\0b' } }), plugins)).toThrow(/NUL/);
    expect(() => uciDefaults(minimal({ plugins: { nope: { config: { x: {} } } } }), plugins)).toThrow(
      expect.objectContaining({ code: 'WRTKIT_ERR_PLUGIN_NOT_FOUND' }),
    );
  });
});
