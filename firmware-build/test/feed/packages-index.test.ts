import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isWrtkitError } from '@wrtkit/core';
import { packagesGz, packagesIndex, packagesStanza } from '../../src/feed/packages-index.js';
import type { BuiltPackage } from '../../src/model.js';
import { readIpkControl, writeIpk } from '../../src/packages/ipk.js';
import { EPOCH, sampleSpec } from './sample.js';

// OpenWrt's feed indexing (scripts/ipkg-make-index.sh, then package/Makefile's grep, padding
// and gzip) redone in shell with the real tar, sed and sha256sum, over a directory of .ipk.
const OPENWRT_INDEX = `
set -e
cd "$1"
for pkg in $(find . -name '*.ipk' | LC_ALL=C sort); do
  size=$(stat -L -c%s "$pkg")
  sum=$(sha256sum "$pkg" | cut -d' ' -f1)
  tar -xzOf "$pkg" ./control.tar.gz | tar -xzOf - ./control |
    sed -e "s/^Description:/Filename: \${pkg#./}\\nSize: $size\\nSHA256sum: $sum\\nDescription:/"
  echo
done > Packages.manifest
grep -vE '^(Maintainer|LicenseFiles|Source|SourceName|Require|SourceDateEpoch)' Packages.manifest > Packages || true
case $(( (64 + $(stat -L -c%s Packages)) % 128 )) in 110|111) printf '\\n\\n' >> Packages ;; esac
`;

describe('Packages', () => {
  let dir: string;
  let built: BuiltPackage[];
  let index: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wrtkit-feed-'));
    built = [
      await writeIpk(sampleSpec(), { mtime: EPOCH }),
      await writeIpk(
        sampleSpec({
          name: 'wrtkit',
          depends: ['ucode', 'ucode-mod-fs'],
          files: [],
          conffiles: [],
          scripts: {},
          description: 'The host.',
        }),
        { mtime: EPOCH },
      ),
      await writeIpk(sampleSpec({ name: 'wrtkit-offload', architecture: 'aarch64_cortex-a53', conffiles: [] }), { mtime: EPOCH }),
    ];
    for (const pkg of built) writeFileSync(join(dir, pkg.filename), pkg.bytes);
    index = packagesIndex(built);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is what OpenWrt’s ipkg-make-index.sh + package/Makefile make of the same .ipk files', () => {
    execFileSync('bash', ['-c', OPENWRT_INDEX, 'index', dir]);
    expect(index).toBe(readFileSync(join(dir, 'Packages'), 'utf8'));
  });

  it('orders stanzas by file name as `find | sort` does, not by package name', () => {
    const names = [...index.matchAll(/^Package: (.*)$/gm)].map((m) => m[1]);
    // wrtkit-demo_… < wrtkit-offload_… < wrtkit_… ('-' sorts before '_').
    expect(names).toEqual(['wrtkit-demo', 'wrtkit-offload', 'wrtkit']);
    expect(index.endsWith('\n\n')).toBe(true);
  });

  it('has Filename, Size and SHA256sum of each file and the control fields of the package', async () => {
    const stanzas = index.trimEnd().split('\n\n');
    expect(stanzas).toHaveLength(3);
    for (const stanza of stanzas) {
      const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1];
      const filename = field('Filename') as string;
      const bytes = readFileSync(join(dir, filename));
      expect(Number(field('Size'))).toBe(bytes.length);
      expect(field('SHA256sum')).toBe(execFileSync('sha256sum', [join(dir, filename)], { encoding: 'utf8' }).split(' ')[0]);
      // The rest is the package's own control, less the build-only fields.
      const control = await readIpkControl(bytes);
      const kept = control
        .split('\n')
        .filter((l) => !/^(Maintainer|Source|SourceDateEpoch):/.test(l))
        .join('\n');
      const withoutFeedFields = stanza.replace(/^(Filename|Size|SHA256sum): .*\n/gm, '') + '\n';
      expect(withoutFeedFields).toBe(kept);
      expect(field('Installed-Size')).toBe(/^Installed-Size: (.*)$/m.exec(control)?.[1]);
    }
    expect(index).not.toMatch(/^(Maintainer|Source|SourceDateEpoch):/m);
  });

  it('writes the first stanza exactly', () => {
    const demo = built[0] as BuiltPackage;
    expect(packagesStanza(demo)).toBe(
      [
        'Package: wrtkit-demo',
        'Version: 0.1.0-r1',
        'Depends: wrtkit, ucode',
        'License: GPL-2.0-only',
        'Section: utils',
        'Architecture: all',
        'Installed-Size: 20480',
        'Filename: wrtkit-demo_0.1.0-r1_all.ipk',
        `Size: ${demo.bytes.length}`,
        `SHA256sum: ${demo.sha256}`,
        'Description:  A demo plugin.',
        ' It shows what a package holds.',
        '',
        '',
      ].join('\n'),
    );
  });

  it('Packages.gz gunzips to Packages, with gzip -9n’s header', () => {
    const gz = packagesGz(index);
    expect(gunzipSync(gz).toString('utf8')).toBe(index);
    writeFileSync(join(dir, 'Packages.gz'), gz);
    expect(execFileSync('gzip', ['-dc', join(dir, 'Packages.gz')], { encoding: 'utf8' })).toBe(index);
    // No name, mtime 0, XFL 2 (maximum compression), OS 3.
    expect(Buffer.from(gz.subarray(0, 10)).toString('hex')).toBe('1f8b0800000000000203');
    expect(Buffer.from(packagesGz(index)).equals(Buffer.from(gz))).toBe(true);
  });

  it('is "\\n" for an empty feed and refuses two packages with one file name', () => {
    expect(packagesIndex([])).toBe('\n');
    let err: unknown;
    try {
      packagesIndex([built[0] as BuiltPackage, built[0] as BuiltPackage]);
    } catch (e) {
      err = e;
    }
    expect(isWrtkitError(err, ErrorCodes.INVALID_ARGUMENT)).toBe(true);
  });

  it('pads by two newlines where old usign got SHA-512 wrong, as package/Makefile does', () => {
    let padded = 0;
    for (let n = 1; n <= 128; n++) {
      const pkg = { ...(built[1] as BuiltPackage), spec: { ...(built[1] as BuiltPackage).spec, description: 'x'.repeat(n) } };
      const plain = packagesStanza(pkg);
      const rest = (64 + plain.length) % 128;
      const bad = rest === 110 || rest === 111;
      if (bad) padded++;
      expect(packagesIndex([pkg])).toBe(bad ? plain + '\n\n' : plain);
    }
    expect(padded).toBe(2);
  });
});
