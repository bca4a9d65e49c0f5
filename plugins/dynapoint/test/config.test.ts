// /etc/config/dynapoint: upstream's file (openwrt/packages net/dynapoint) and the one the
// package installs load with the schema; what the issue calls bad config is refused by
// UCI path; the schema's host pattern is the probe layer's own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JsonSchema, parseUci } from '@wrtkit/core';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/src/config/validate.js';
import type { Config } from '../src/generated/config.js';
import validator from '../src/generated/validate-config.js';
import { HOST_PATTERN } from '../src/probes/index.js';

const dir = join(import.meta.dirname, '..');
const schema = JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8')) as JsonSchema & {
  properties: { rule: { items: { properties: { hosts: { items: { pattern: string } } } } } };
};
const load = (text: string) =>
  validateConfig<Config>(
    'dynapoint',
    parseUci(text, { name: 'dynapoint', strict: false }).package,
    schema,
    validator,
    'dynapoint',
  );

// upstream's default file, as openwrt/packages ships it
const UPSTREAM = `config rule 'internet'
\tlist hosts 'http://www.example.com'
\tlist hosts 'http://www.google.com'
\toption interval '60'
\toption timeout '5'
\toption offline_threshold '3'
\toption add_hostname_to_ssid '0'
\toption use_curl '0'
\toption curl_interface 'eth0'
\t
`;

describe('/etc/config/dynapoint', () => {
  it("upstream's file loads unchanged, with upstream's behaviour as defaults", () => {
    const r = load(UPSTREAM);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.config.rule).toEqual([
      {
        '.name': 'internet',
        enabled: true,
        hosts: ['http://www.example.com', 'http://www.google.com'],
        interval: 60,
        timeout: 5,
        offline_threshold: 3,
        online_threshold: 1,
        add_hostname_to_ssid: false,
        use_curl: false,
        curl_interface: 'eth0',
        jitter: 0,
      },
    ]);
  });

  it('the installed file loads', () => {
    const r = load(readFileSync(join(dir, 'openwrt/files/etc/config/dynapoint'), 'utf8'));
    expect(r.ok, JSON.stringify(r)).toBe(true);
  });

  it('several rules and every probe kind', () => {
    const r = load(
      "config rule 'internet'\n\tlist hosts 'https://example.org/generate_204'\n\tlist hosts 'dns://192.0.2.53/example.org?type=AAAA'\n\tlist hosts 'icmp://[2001:db8::1]'\n\toption expect_status '204'\n\toption online_threshold '2'\n\toption jitter '10'\n" +
        "\nconfig rule 'vpn'\n\tlist hosts 'icmp://10.8.0.1'\n\toption interface 'tun0'\n\toption interval '0.5'\n",
    );
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (r.ok) expect(r.config.rule.map((x) => x['.name'])).toEqual(['internet', 'vpn']);
  });

  it('bad config is refused with its UCI path: interval 0, a host that is not a URL, a bad status, no hosts', () => {
    const issues = (text: string) => {
      const r = load(text);
      return r.ok ? [] : r.issues.map((i) => i.uciPath);
    };
    expect(issues("config rule 'internet'\n\tlist hosts 'http://a.example'\n\toption interval '0'\n")).toEqual([
      'dynapoint.internet.interval',
    ]);
    expect(issues("config rule 'internet'\n\tlist hosts 'www.example.com'\n")).toEqual(['dynapoint.internet.hosts']);
    expect(issues("config rule 'internet'\n\tlist hosts 'ftp://a.example/'\n")).toEqual(['dynapoint.internet.hosts']);
    expect(issues("config rule 'internet'\n\tlist hosts 'http://a.example'\n\toption expect_status 'ok'\n")).toEqual([
      'dynapoint.internet.expect_status',
    ]);
    expect(issues("config rule 'internet'\n\toption interval '5'\n")).toEqual(['dynapoint.internet.hosts']);
  });

  it("the schema's host pattern is the probe layer's HOST_PATTERN", () => {
    expect(schema.properties.rule.items.properties.hosts.items.pattern).toBe(HOST_PATTERN);
  });
});
