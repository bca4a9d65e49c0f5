import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSite, parseSite } from '../../src/site/index.js';
import { EXAMPLE, REPO_ROOT, scratch, writeSite } from './helpers.js';

let tmp: ReturnType<typeof scratch>;
beforeAll(() => {
  tmp = scratch('load');
});
afterAll(() => tmp.remove());

describe('loadSite', () => {
  it('loads the example with no errors', async () => {
    const { site, errors, plugins } = await loadSite(EXAMPLE, REPO_ROOT);
    expect(errors).toEqual([]);
    expect(plugins.length).toBeGreaterThan(0);
    expect(site).toMatchObject({
      release: '24.10.4',
      targets: [
        { target: 'ath79/generic', profiles: ['tplink_archer-c7-v5', 'glinet_gl-ar300m16'] },
        { target: 'x86/64', profiles: ['generic'], packages: ['kmod-e1000e'] },
      ],
      community: { name: 'Freifunk Musterstadt', hostname_prefix: 'ffms-', zonename: 'Europe/Berlin' },
      packages: ['luci-ssl', '-ppp', '-ppp-mod-pppoe'],
      feed: { url: 'https://firmware.ffms.example.org/wrtkit/24.10' },
      host: { wrtkit: { log_level: 'warn' } },
    });
    expect(Object.keys(site?.plugins ?? {})).toEqual(['pirania-nftables', 'dynapoint', 'offload', 'heartbeat']);
    // values stay as written: no schema defaults are filled in
    expect(site?.plugins.offload?.config).toEqual({
      offload: { enabled: true, mode: 'tc', interfaces: ['eth0', 'eth1'], ipv6: true },
    });
    expect(site?.plugins.dynapoint?.config?.rule).toMatchObject([{ '.name': 'internet', interval: 60 }]);
  });

  it('loads the same site from JSON', async () => {
    const data = parse(fs.readFileSync(EXAMPLE, 'utf8')) as unknown;
    const jsonFile = writeSite(tmp.dir, 'site.json', JSON.stringify(data, null, '\t'));
    const fromJson = await loadSite(jsonFile, REPO_ROOT);
    const fromYaml = await loadSite(EXAMPLE, REPO_ROOT);
    expect(fromJson.errors).toEqual([]);
    expect(fromJson.site).toEqual(fromYaml.site);
  });

  it('takes .yml too, and an empty plugin entry means the plugin with its own defaults', async () => {
    const file = writeSite(
      tmp.dir,
      'small.yml',
      'release: 25.12.0\ntargets: [{ target: x86/64, profiles: [generic] }]\ncommunity: { name: Small }\nplugins:\n  heartbeat:\n',
    );
    const { site, errors } = await loadSite(file, REPO_ROOT);
    expect(errors).toEqual([]);
    expect(site?.plugins).toEqual({ heartbeat: {} });
  });

  it('reports YAML syntax errors with line and column, and builds nothing', async () => {
    const file = writeSite(
      tmp.dir,
      'bad.yaml',
      'release: 24.10.4\ntargets:\n  - target: x86/64\n    profiles: [generic\ncommunity:\n  name: A\n  name: B\n',
    );
    const { site, errors } = await loadSite(file, REPO_ROOT);
    expect(site).toBeUndefined();
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors)
      expect(e).toMatchObject({ path: '', rule: 'syntax', line: expect.any(Number), column: expect.any(Number) });
    expect(errors[0]?.message).toMatch(/^invalid YAML: /);
    const dup = parseSite('a: 1\nb:\n  c: 2\n  c: 3\n', 'yaml').errors;
    expect(dup).toEqual([{ path: '', rule: 'syntax', message: 'invalid YAML: Map keys must be unique', line: 4, column: 3 }]);
  });

  it('reports JSON syntax errors with line and column', () => {
    const { errors } = parseSite('{\n  "release": "24.10.4",\n  "targets": [}\n', 'json');
    expect(errors).toEqual([{ path: '', rule: 'syntax', message: "invalid JSON: Unexpected token '}'", line: 3, column: 15 }]);
    expect(parseSite('{"release": "24.10.4",}', 'json').errors).toEqual([
      { path: '', rule: 'syntax', message: 'invalid JSON: Expected double-quoted property name', line: 1, column: 23 },
    ]);
  });

  it('reports an unreadable file or an unknown extension as a file error', async () => {
    expect((await loadSite(`${tmp.dir}/missing.yaml`, REPO_ROOT)).errors).toEqual([
      { path: '', rule: 'file', message: `cannot read ${tmp.dir}/missing.yaml: ENOENT` },
    ]);
    const toml = writeSite(tmp.dir, 'site.toml', 'release = "24.10.4"\n');
    expect((await loadSite(toml, REPO_ROOT)).errors).toEqual([
      { path: '', rule: 'file', message: `${toml}: a site file is .yaml, .yml or .json` },
    ]);
  });

  it('locates errors in a JSON file too', async () => {
    const file = writeSite(
      tmp.dir,
      'loc.json',
      '{\n  "release": "24.10",\n  "targets": [],\n  "community": { "name": "X" }\n}\n',
    );
    const { errors } = await loadSite(file, REPO_ROOT);
    expect(errors).toEqual([
      expect.objectContaining({ path: 'release', rule: 'pattern', line: 2, column: 3 }),
      expect.objectContaining({ path: 'targets', rule: 'minItems', line: 3, column: 3 }),
    ]);
  });
});
