import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { checkManifest } from '../../src/plugin/manifest.js';

describe('checkManifest', () => {
  it('accepts a full manifest', () => {
    const m = checkManifest(
      {
        name: 'pirania-nftables',
        version: '1.2.3',
        apiVersion: '^1',
        entry: 'index.js',
        dependencies: { dynapoint: '>=0.1' },
        permissions: { uci: ['firewall'], exec: ['nft'], ubus: ['hostapd.*'] },
        openwrt: { depends: ['+nftables'] },
      },
      'x',
    );
    expect(m.name).toBe('pirania-nftables');
  });

  it('names every problem with its path', () => {
    try {
      checkManifest(
        { name: 'Bad_Name', version: 'one', apiVersion: '^1', extra: true, dependencies: { x: 'not a range!' } },
        '/p/manifest.json',
      );
      expect.unreachable();
    } catch (error) {
      const e = error as { code: string; message: string };
      expect(e.code).toBe(ErrorCodes.MANIFEST_INVALID);
      expect(e.message).toContain('/p/manifest.json');
      expect(e.message).toContain('/name: must match');
      expect(e.message).toContain('/extra: unknown property extra');
    }
  });

  it('checks semver fields', () => {
    expect(() => checkManifest({ name: 'a', version: 'one', apiVersion: 'x y z' }, 'm')).toThrow(
      /\/version: must be a semver version.*\/apiVersion: must be a semver range/,
    );
  });
});
