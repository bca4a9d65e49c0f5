// /etc/config/pirania: the file the package installs, and a file as LibreMesh's Pirania
// installs it (older options included), both load with this plugin's schema; a wrong
// value is refused with its UCI path. The device files (launcher, recipe) are checked too.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type JsonSchema, parseUci } from '@wrtkit/core';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/src/config/validate.js';
import type { Config } from '../src/generated/config.js';
import validator from '../src/generated/validate-config.js';

const dir = join(import.meta.dirname, '..');
const schema = JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8')) as JsonSchema;
const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
  version: string;
  wrtkit: { openwrt: { depends: string[] } };
};

function load(text: string) {
  const { package: pkg } = parseUci(text, { name: 'pirania', strict: false });
  return validateConfig<Config>('pirania', pkg, schema, validator, 'pirania-nftables');
}

// Pirania's own file (lime-packages packages/pirania), with options of older releases.
const UPSTREAM = `config base_config 'base_config'
    option enabled '0'
    option prune_expired_for_days '30'
    option portal_domain 'thisnode.info'
    option url_auth '/portal/auth.html'
    option url_authenticated '/portal/authenticated.html'
    option url_info '/portal/info.html'
    option url_fail '/portal/fail.html'
    option db_path '/etc/pirania/vouchers/'
    option elections_path '/etc/pirania/elections.json'
    option hooks_path '/etc/pirania/hooks/'
    option uploadlimit '10000000'
    option downloadlimit '50000'
    option append_ipt_rules '0'
    option with_vouchers '1'
    list allowlist_ipv4 '10.0.0.0/8'
    list allowlist_ipv4 '172.16.0.0/12'
    list allowlist_ipv4 '192.168.0.0/16'
    list allowlist_ipv6 'fc00::/7'
    list allowlist_ipv6 'fe80::/64'
    list catch_interfaces 'br-lan'
    list catch_interfaces 'anygw'

config access_mode 'read_for_access'
    option url_portal '/portal/read_for_access.html'
    option duration_m '15'
`;

describe('/etc/config/pirania', () => {
  it('the installed default loads: portal off, Pirania defaults', () => {
    const result = load(readFileSync(join(dir, 'openwrt/files/etc/config/pirania'), 'utf8'));
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.config.base_config).toMatchObject({
      enabled: false,
      with_vouchers: true,
      portal_domain: 'thisnode.info',
      portal_port: 59080,
      dns_port: 59053,
      db_path: '/etc/pirania/vouchers/',
      prune_expired_for_days: 30,
      catch_bridged_interfaces: ['phy0-ap0'],
    });
  });

  it("Pirania's own file loads unchanged, with its names", () => {
    const result = load(UPSTREAM);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.config.base_config.catch_interfaces).toEqual(['br-lan', 'anygw']);
    expect(result.config.base_config.allowlist_ipv6).toEqual(['fc00::/7', 'fe80::/64']);
    expect(result.config.access_mode.duration_m).toBe(15);
  });

  it('no file: every default', () => {
    const result = validateConfig<Config>('pirania', undefined, schema, validator);
    expect(result.ok).toBe(true);
    if (result.ok)
      expect(result.config.base_config).toMatchObject({
        enabled: false,
        code_attempts_per_client: 5,
        captive_portal_dhcp: ['lan'],
      });
  });

  it('a wrong value is refused with its UCI path and rule', () => {
    const result = load("config base_config 'base_config'\n\toption portal_port 'http'\n\toption enabled 'maybe'\n");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.uciPath, i.rule])).toEqual(
      expect.arrayContaining([
        ['pirania.base_config.portal_port', 'type'],
        ['pirania.base_config.enabled', 'type'],
      ]),
    );
  });
});

describe('device files', () => {
  it('the voucher launcher runs the wrtkit command and is executable', () => {
    const launcher = join(dir, 'openwrt/files/usr/bin/voucher');
    expect(() => execFileSync('sh', ['-n', launcher])).not.toThrow();
    expect(statSync(launcher).mode & 0o111).toBe(0o111);
    expect(readFileSync(launcher, 'utf8')).toMatch(/exec \/usr\/bin\/wrtkit voucher "\$@"/);
  });

  it('the recipe matches the manifest: version, dependencies, what it installs', () => {
    const makefile = readFileSync(join(dir, 'openwrt/Makefile'), 'utf8');
    expect(makefile).toContain(`PKG_VERSION:=${manifest.version}`);
    const depends = /DEPENDS:=(.*)/.exec(makefile)?.[1]?.trim().split(/\s+/);
    expect(depends).toEqual(['+wrtkit', ...manifest.wrtkit.openwrt.depends]);
    for (const file of [
      'index.js',
      'voucher.js',
      'manifest.json',
      'files/etc/config/pirania',
      'files/usr/bin/voucher',
      'acl.d/wrtkit-$(PLUGIN).json',
    ]) {
      expect(makefile).toContain(file);
    }
  });
});
