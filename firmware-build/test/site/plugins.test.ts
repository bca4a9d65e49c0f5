import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { availablePlugins } from '../../src/site/index.js';
import { REPO_ROOT, scratch } from './helpers.js';

describe('availablePlugins', () => {
  it("lists this repository's plugins and examples by wrtkit name", () => {
    const plugins = availablePlugins(REPO_ROOT);
    expect(plugins.map((p) => p.name)).toEqual(['beat-counter', 'dynapoint', 'heartbeat', 'mptcp', 'offload', 'pirania-nftables']);
    const pirania = plugins.find((p) => p.name === 'pirania-nftables');
    expect(pirania).toMatchObject({
      packageName: '@wrtkit/plugin-pirania-nftables',
      version: '0.1.0',
      dir: path.join(REPO_ROOT, 'plugins/pirania-nftables'),
      source: 'plugins/pirania-nftables',
      // wrtkit.config: the UCI package is Pirania's, not the plugin's name
      config: 'pirania',
      recipe: true,
      example: false,
      dependencies: {},
    });
    expect(pirania?.openwrt?.depends).toContain('+nftables');
    expect(pirania?.schema?.properties).toHaveProperty('base_config');
    expect(pirania?.description).toMatch(/captive portal/);

    const counter = plugins.find((p) => p.name === 'beat-counter');
    expect(counter).toMatchObject({
      config: 'beat-counter',
      recipe: false,
      example: true,
      dependencies: { heartbeat: '^0.1.0' },
    });
    expect(counter?.openwrt).toBeUndefined();
  });

  describe('in a repository of its own', () => {
    let remove: (() => void) | undefined;
    afterEach(() => remove?.());

    const plugin = (root: string, dir: string, pkg: unknown): void => {
      fs.mkdirSync(path.join(root, dir), { recursive: true });
      fs.writeFileSync(path.join(root, dir, 'package.json'), JSON.stringify(pkg));
    };

    it('skips dirs without a wrtkit field and plugins without a schema have none', () => {
      const tmp = scratch('plugins');
      remove = tmp.remove;
      plugin(tmp.dir, 'plugins/a', { name: 'a', version: '1.0.0', wrtkit: { name: 'alpha' } });
      plugin(tmp.dir, 'plugins/lib', { name: 'lib', version: '1.0.0' });
      const plugins = availablePlugins(tmp.dir);
      expect(plugins).toEqual([expect.objectContaining({ name: 'alpha', config: 'alpha', version: '1.0.0', recipe: false })]);
      expect(plugins[0]).not.toHaveProperty('schema');
    });

    it('refuses two plugins of one name', () => {
      const tmp = scratch('plugins');
      remove = tmp.remove;
      plugin(tmp.dir, 'plugins/a', { name: 'a', wrtkit: { name: 'same' } });
      plugin(tmp.dir, 'examples/plugins/b', { name: 'b', wrtkit: { name: 'same' } });
      expect(() => availablePlugins(tmp.dir)).toThrow(
        expect.objectContaining({
          code: 'WRTKIT_ERR_DUPLICATE_PLUGIN',
          message: 'plugin same is both plugins/a and examples/plugins/b',
        }),
      );
    });
  });
});
