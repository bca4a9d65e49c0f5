import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  availablePlugins,
  baseSiteSchema,
  composeSiteSchema,
  formatErrors,
  formatPath,
  loadSite,
  packageManager,
  validateSite,
  type JsonSchema,
  type SiteError,
} from '../../src/site/index.js';
import { REPO_ROOT, scratch, writeSite } from './helpers.js';

const plugins = availablePlugins(REPO_ROOT);
const AVAILABLE = 'available: beat-counter, dynapoint, heartbeat, mptcp, offload, pirania-nftables';
const USIGN_KEY = 'RWSyYvqhmoh3gFQMeVq4h9CZBrOxEWkxFk0j/Wq9AUJvBRwuh3bzklDY';
const PEM_KEY = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n';

/** A valid site to break one part of. */
const valid = (): Record<string, unknown> => ({
  release: '24.10.4',
  targets: [{ target: 'x86/64', profiles: ['generic'] }],
  community: { name: 'Test' },
  plugins: { offload: { config: { offload: { mode: 'tc' } } } },
});

const brief = (errors: readonly SiteError[]): string[][] => errors.map((e) => [e.path, e.rule, e.message]);

let tmp: ReturnType<typeof scratch>;
beforeAll(() => {
  tmp = scratch('validate');
});
afterAll(() => tmp.remove());

describe('a broken site file', () => {
  const BROKEN = `release: 24.10.4
community:
  name: Freifunk Test
plugins:
  offload:
    config:
      offload:
        enabled: "yes"
        mode: fast
  wifi-magic: {}
  dynapoint:
    config:
      rule:
        - interval: sixty
`;

  it('lists every error by path (unknown plugin, wrong types, missing targets) and builds nothing', async () => {
    const file = writeSite(tmp.dir, 'broken.yaml', BROKEN);
    const { site, errors } = await loadSite(file, REPO_ROOT);
    expect(site).toBeUndefined();
    expect(errors).toEqual([
      {
        path: 'plugins.dynapoint.config.rule[0].hosts',
        rule: 'required',
        message: 'is required',
        line: 14,
        column: 11,
      },
      {
        path: 'plugins.dynapoint.config.rule[0].interval',
        rule: 'type',
        message: 'must be a number, not "sixty"',
        line: 14,
        column: 11,
      },
      {
        path: 'plugins.offload.config.offload.enabled',
        rule: 'type',
        message: 'must be true or false, not "yes"',
        line: 8,
        column: 9,
      },
      {
        path: 'plugins.offload.config.offload.mode',
        rule: 'enum',
        message: 'must be one of xdp, tc, auto',
        line: 9,
        column: 9,
      },
      { path: 'plugins.wifi-magic', rule: 'plugin', message: `unknown plugin (${AVAILABLE})`, line: 10, column: 3 },
      { path: 'targets', rule: 'required', message: 'is required', line: 1, column: 1 },
    ]);
    expect(formatErrors(errors, 'broken.yaml')).toBe(
      [
        'broken.yaml:14:11: plugins.dynapoint.config.rule[0].hosts: is required',
        'broken.yaml:14:11: plugins.dynapoint.config.rule[0].interval: must be a number, not "sixty"',
        'broken.yaml:8:9: plugins.offload.config.offload.enabled: must be true or false, not "yes"',
        'broken.yaml:9:9: plugins.offload.config.offload.mode: must be one of xdp, tc, auto',
        `broken.yaml:10:3: plugins.wifi-magic: unknown plugin (${AVAILABLE})`,
        'broken.yaml:1:1: targets: is required',
      ].join('\n'),
    );
  });

  it('names a missing field of a list entry by its index', () => {
    const site = {
      ...valid(),
      targets: [{ target: 'x86/64', profiles: ['generic'] }, { profiles: ['tplink_archer-c7-v5'] }, { target: 'ath79' }],
    };
    expect(brief(validateSite(site, plugins))).toEqual([
      ['targets[1].target', 'required', 'is required'],
      ['targets[2].profiles', 'required', 'is required'],
      ['targets[2].target', 'pattern', '"ath79" does not match ^[a-z0-9_-]+/[a-z0-9_-]+$'],
    ]);
  });

  it('reports an empty target list, a missing community and a misspelt top-level key', () => {
    const { community: _community, ...rest } = valid();
    expect(brief(validateSite({ ...rest, targets: [], packges: ['luci-ssl'] }, plugins))).toEqual([
      ['community', 'required', 'is required'],
      ['packges', 'additionalProperties', 'is not allowed here (did you mean packages?)'],
      ['targets', 'minItems', 'must NOT have fewer than 1 items'],
    ]);
  });

  it("checks the host's own config against core's schema", () => {
    const site = {
      ...valid(),
      host: { wrtkit: { log_level: 'loud', hook_timeout: '10s' }, apply: [{ '.name': 'wireless', command: [] }] },
    };
    expect(brief(validateSite(site, plugins))).toEqual([
      ['host.apply[0].command', 'minItems', 'must NOT have fewer than 1 items'],
      ['host.wrtkit.hook_timeout', 'type', 'must be an integer, not "10s"'],
      ['host.wrtkit.log_level', 'enum', 'must be one of error, warn, info, debug'],
    ]);
  });

  it('suggests the plugin meant, rejects unknown sections and options, and bad section names', () => {
    const site = {
      ...valid(),
      plugins: {
        offlaod: {},
        offload: { config: { offlod: {}, offload: { interfces: ['eth0'] } } },
        dynapoint: { config: { rule: [{ '.name': 'not ok', hosts: ['icmp://1.1.1.1'] }] } },
      },
    };
    expect(brief(validateSite(site, plugins))).toEqual([
      ['plugins.dynapoint.config.rule[0][".name"]', 'pattern', '"not ok" does not match ^[A-Za-z0-9_]+$'],
      ['plugins.offlaod', 'plugin', `unknown plugin (did you mean offload? ${AVAILABLE})`],
      ['plugins.offload.config.offload.interfces', 'additionalProperties', 'is not allowed here (did you mean interfaces?)'],
      ['plugins.offload.config.offlod', 'additionalProperties', 'is not allowed here (did you mean offload?)'],
    ]);
  });

  it('needs the plugins a chosen plugin depends on', () => {
    expect(brief(validateSite({ ...valid(), plugins: { 'beat-counter': {} } }, plugins))).toEqual([
      ['plugins.beat-counter', 'dependency', 'needs plugin heartbeat (^0.1.0), which the site does not choose'],
    ]);
    expect(validateSite({ ...valid(), plugins: { 'beat-counter': {}, heartbeat: null } }, plugins)).toEqual([]);
  });

  it('refuses config for a plugin that has none, a target listed twice and a section name used twice', () => {
    const noSchema = plugins.map((p) => (p.name === 'heartbeat' ? { ...p, schema: undefined } : p));
    const site = {
      ...valid(),
      targets: [
        { target: 'x86/64', profiles: ['generic'] },
        { target: 'x86/64', profiles: ['generic'] },
      ],
      plugins: {
        heartbeat: { config: { heartbeat: { interval: 100 } } },
        dynapoint: {
          config: {
            rule: [
              { '.name': 'internet', hosts: ['icmp://1.1.1.1'] },
              { '.name': 'internet', hosts: ['icmp://8.8.8.8'] },
            ],
          },
        },
      },
    };
    expect(brief(validateSite(site, noSchema))).toEqual([
      ['plugins.dynapoint.config.rule[1][".name"]', 'unique', 'internet is already rule[0]'],
      ['plugins.heartbeat.config', 'maxProperties', 'heartbeat has no config (it has no schema.json).'],
      ['targets[1].target', 'unique', 'x86/64 is already targets[0]'],
    ]);
  });

  it('wants feed keys of the kind the release checks: usign for opkg, PEM for apk', () => {
    const feed = { url: 'https://feed.example.org/wrtkit', keys: [USIGN_KEY, PEM_KEY] };
    expect(brief(validateSite({ ...valid(), feed }, plugins))).toEqual([
      ['feed.keys[1]', 'key', 'OpenWrt 24.10.4 uses opkg, which needs usign keys (RW…)'],
    ]);
    expect(brief(validateSite({ ...valid(), release: '25.12.1', feed }, plugins))).toEqual([
      ['feed.keys[0]', 'key', 'OpenWrt 25.12.1 uses apk, which needs PEM public keys (-----BEGIN PUBLIC KEY-----)'],
    ]);
    expect(brief(validateSite({ ...valid(), feed: { url: 'ftp://x', keys: ['abc'] } }, plugins))).toEqual([
      [
        'feed.keys[0]',
        'pattern',
        expect.stringMatching(/^"abc" is not in the expected form \(A public key: for opkg releases a usign key/),
      ],
      ['feed.url', 'pattern', `"ftp://x" does not match ^https?://[^\\s'"]+$`],
    ]);
  });

  it('reports a file that is not a map at all', () => {
    expect(brief(validateSite(['release'], plugins))).toEqual([['', 'type', 'must be a map, not a list']]);
    expect(brief(validateSite(null, plugins))).toEqual([['', 'type', 'must be a map, not empty']]);
  });
});

describe('the site schema', () => {
  /** Every property of every schema below `schema` has a description (docs are generated from them). */
  const undescribed = (schema: JsonSchema, at: string): string[] => {
    const out: string[] = [];
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      const refd = typeof sub.$ref === 'string';
      if (!refd && !sub.description) out.push(`${at}.${key}`);
      out.push(...undescribed(sub, `${at}.${key}`));
      if (sub.items) out.push(...undescribed(sub.items, `${at}.${key}[]`));
      if (sub.items && !sub.items.description && !sub.items.$ref && sub.items.type !== 'object') out.push(`${at}.${key}[]`);
    }
    for (const [key, sub] of Object.entries((schema.definitions ?? {}) as Record<string, JsonSchema>)) {
      if (!sub.description) out.push(`#/definitions/${key}`);
      out.push(...undescribed(sub, `#/definitions/${key}`));
    }
    return out;
  };

  it('describes every property of the base schema', () => {
    expect(undescribed(baseSiteSchema(), '')).toEqual([]);
  });

  it("composes core's schema under host and each chosen plugin's under plugins.<name>.config", () => {
    const schema = composeSiteSchema(plugins, ['offload', 'dynapoint', 'nope']);
    const entries = schema.properties?.plugins?.properties ?? {};
    expect(Object.keys(entries)).toEqual(['dynapoint', 'offload']);
    expect(schema.properties?.plugins?.additionalProperties).toBe(false);
    expect(entries.offload?.description).toBe(
      `offload 0.1.0 (plugins/offload): ${plugins.find((p) => p.name === 'offload')?.description}`,
    );
    const rule = entries.dynapoint?.properties?.config?.properties?.rule;
    expect(rule?.items?.properties?.['.name']).toMatchObject({ type: 'string', pattern: '^[A-Za-z0-9_]+$' });
    expect(entries.dynapoint?.properties?.config).not.toHaveProperty('$schema');
    expect(schema.properties?.host?.properties).toHaveProperty('wrtkit.properties.log_level');
  });
});

describe('helpers', () => {
  it('formats paths as the site file reads', () => {
    expect(formatPath(['targets', 0, 'profiles'])).toBe('targets[0].profiles');
    expect(formatPath(['plugins', 'pirania-nftables', 'config', 'rule', 2, '.name'])).toBe(
      'plugins.pirania-nftables.config.rule[2][".name"]',
    );
    expect(formatPath([])).toBe('');
  });

  it('knows the package manager of a release', () => {
    expect(packageManager('24.10.4')).toEqual({ manager: 'opkg', format: 'ipk' });
    expect(packageManager('24.10-SNAPSHOT')).toEqual({ manager: 'opkg', format: 'ipk' });
    expect(packageManager('25.12.0-rc1')).toEqual({ manager: 'apk', format: 'apk' });
    expect(packageManager('26.06.0')).toEqual({ manager: 'apk', format: 'apk' });
    expect(packageManager('SNAPSHOT')).toEqual({ manager: 'apk', format: 'apk' });
  });

  it('formats errors without a file or position too', () => {
    expect(
      formatErrors([
        { path: 'plugins.foo', rule: 'plugin', message: 'unknown plugin' },
        { path: '', rule: 'file', message: 'cannot read x' },
      ]),
    ).toBe('plugins.foo: unknown plugin\ncannot read x');
  });
});
