// What can be checked without an OpenWrt 25.12+ SDK: finding the tool (or saying there is
// none), the command lines, the scripts and the staged tree. The real `apk mkpkg`/`mkndx`
// run only where an SDK is given.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isWrtkitError } from '@wrtkit/core';
import {
  APK_SKIPPED,
  apkFilename,
  apkScripts,
  buildApkFeed,
  commandPrefix,
  findApkTool,
  mkndxArgs,
  mkpkgArgs,
  stageApkFiles,
} from '../../src/feed/apk.js';
import { EPOCH, sampleSpec } from './sample.js';

describe('apk', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wrtkit-apk-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** An SDK-shaped directory whose apk is a file that is never run. */
  function sdkWith(name: string, tools: string[]): string {
    const bin = join(dir, name, 'staging_dir', 'host', 'bin');
    mkdirSync(bin, { recursive: true });
    for (const tool of tools) {
      writeFileSync(join(bin, tool), '#!/bin/sh\nexit 99\n');
      chmodSync(join(bin, tool), 0o755);
    }
    return join(dir, name);
  }

  it('says clearly that it skips when no SDK or ImageBuilder is given', () => {
    expect(APK_SKIPPED).toBe('skipped: no apk tool (pass --openwrt-sdk DIR or --imagebuilder DIR of OpenWrt 25.12+)');
    expect(findApkTool({})).toEqual({ found: false, message: APK_SKIPPED });
  });

  it('names the path it looked at when the given directory has no apk', () => {
    const old = sdkWith('sdk-24.10', ['usign']);
    const lookup = findApkTool({ openwrtSdk: old });
    expect(lookup.found).toBe(false);
    if (!lookup.found) {
      expect(lookup.message).toContain(`skipped: no apk tool at ${join(old, 'staging_dir/host/bin/apk')}`);
      expect(lookup.message).toContain('--openwrt-sdk DIR or --imagebuilder DIR of OpenWrt 25.12+');
    }
  });

  it('finds the SDK’s apk (before the ImageBuilder’s) and its fakeroot', () => {
    const sdk = sdkWith('sdk-25.12', ['apk', 'fakeroot']);
    const ib = sdkWith('ib-25.12', ['apk']);
    expect(findApkTool({ openwrtSdk: sdk, imagebuilder: ib })).toEqual({
      found: true,
      tool: { apk: join(sdk, 'staging_dir/host/bin/apk'), fakeroot: join(sdk, 'staging_dir/host/bin/fakeroot') },
    });
    expect(findApkTool({ imagebuilder: ib })).toEqual({
      found: true,
      tool: { apk: join(ib, 'staging_dir/host/bin/apk'), fakeroot: null },
    });
    // A missing SDK apk falls back to the ImageBuilder's.
    expect(findApkTool({ openwrtSdk: sdkWith('sdk-old', []), imagebuilder: ib }).found).toBe(true);
  });

  it('builds the apk mkpkg command line of package-pack.mk', () => {
    const spec = sampleSpec({ conflicts: ['old-demo'], description: 'A demo plugin.\n  It shows\twhat a package holds.' });
    expect(apkFilename(spec)).toBe('wrtkit-demo-0.1.0-r1.apk');
    expect(mkpkgArgs(spec, '/w/files', '/w/scripts', '/out/wrtkit-demo-0.1.0-r1.apk')).toEqual([
      'mkpkg',
      '--info',
      'name:wrtkit-demo',
      '--info',
      'version:0.1.0-r1',
      '--info',
      'description:A demo plugin. It shows what a package holds.',
      '--info',
      'arch:noarch',
      '--info',
      'license:GPL-2.0-only',
      '--info',
      'origin:plugins/demo',
      '--info',
      'maintainer:wrtkit <dev@wrtkit.example>',
      '--script',
      'post-install:/w/scripts/post-install',
      '--script',
      'post-upgrade:/w/scripts/post-upgrade',
      '--script',
      'pre-deinstall:/w/scripts/pre-deinstall',
      '--info',
      'depends:wrtkit ucode !old-demo',
      '--files',
      '/w/files',
      '--output',
      '/out/wrtkit-demo-0.1.0-r1.apk',
    ]);
    const arch = mkpkgArgs(sampleSpec({ architecture: 'aarch64_cortex-a53', depends: ['libbpf (>= 1.0)'] }), 'f', 's', 'o');
    expect(arch).toContain('arch:aarch64_cortex-a53');
    expect(arch).toContain('depends:libbpf>=1.0');
  });

  it('builds the apk mkndx command line of package/Makefile', () => {
    expect(mkndxArgs(['/o/a.apk', '/o/b.apk'], '/o/packages.adb', { root: '/w/root' })).toEqual([
      'mkndx',
      '--root',
      '/w/root',
      '--keys-dir',
      '/w/root',
      '--allow-untrusted',
      '--output',
      '/o/packages.adb',
      '/o/a.apk',
      '/o/b.apk',
    ]);
    expect(mkndxArgs([], 'i', { root: 'r', signKey: '/k/private-key.pem' })).toContain('--sign-key');
  });

  it('writes the scripts package-pack.mk gives apk', () => {
    const scripts = apkScripts(
      sampleSpec({
        scripts: { preinst: '#!/bin/sh\necho pre', postinst: '#!/bin/sh\necho post\n', postrm: '  #!/bin/sh\necho gone' },
      }),
    );
    expect(scripts.map((s) => `${s.type}:${s.file}`)).toEqual([
      'pre-install:preinst',
      'post-install:post-install',
      'pre-upgrade:pre-upgrade',
      'post-upgrade:post-upgrade',
      'pre-deinstall:pre-deinstall',
      'post-deinstall:postrm',
    ]);
    const by = Object.fromEntries(scripts.map((s) => [s.type, s.content]));
    expect(by['post-install']).toBe(
      [
        '#!/bin/sh',
        '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0',
        '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0',
        '. ${IPKG_INSTROOT}/lib/functions.sh',
        'export root="${IPKG_INSTROOT}"',
        'export pkgname="wrtkit-demo"',
        'add_group_and_user',
        'default_postinst',
        'echo post',
        '',
      ].join('\n'),
    );
    expect(by['post-upgrade']).toBe(
      '#!/bin/sh\nexport PKG_UPGRADE=1\n' + (by['post-install'] as string).replace('#!/bin/sh\n', ''),
    );
    expect(by['pre-upgrade']).toBe('#!/bin/sh\nexport PKG_UPGRADE=1\necho pre\n');
    expect(by['pre-install']).toBe('#!/bin/sh\necho pre\n');
    expect(by['post-deinstall']).toBe('#!/bin/sh\necho gone\n');
    expect(by['pre-deinstall']).toBe(
      '#!/bin/sh\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\nexport root="${IPKG_INSTROOT}"\nexport pkgname="wrtkit-demo"\ndefault_prerm\n',
    );
  });

  it('stages the file tree apk mkpkg packs, with /lib/apk/packages metadata and the epoch as mtime', async () => {
    const root = join(dir, 'stage');
    mkdirSync(root);
    await stageApkFiles(sampleSpec(), root, EPOCH);
    const meta = join(root, 'lib/apk/packages');
    expect(readdirSync(meta).sort()).toEqual(['wrtkit-demo.conffiles', 'wrtkit-demo.conffiles_static', 'wrtkit-demo.list']);
    expect(readFileSync(join(meta, 'wrtkit-demo.list'), 'utf8')).toBe(
      [
        '/etc/config/wrtkit-demo',
        '/etc/init.d/wrtkit-demo',
        '/lib/upgrade/keep.d/wrtkit-demo',
        '/usr/share/wrtkit-extra',
        '/usr/share/wrtkit/plugins/demo/index.js',
        '',
      ].join('\n'),
    );
    expect(readFileSync(join(meta, 'wrtkit-demo.conffiles'), 'utf8')).toBe('/etc/config/wrtkit-demo\n/etc/wrtkit-demo.state\n');
    const config = readFileSync(join(root, 'etc/config/wrtkit-demo'));
    expect(readFileSync(join(meta, 'wrtkit-demo.conffiles_static'), 'utf8')).toBe(
      `/etc/config/wrtkit-demo ${createHash('sha256').update(config).digest('hex')}\n`,
    );
    expect(statSync(join(root, 'etc/init.d/wrtkit-demo')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(root, 'etc/config/wrtkit-demo')).mode & 0o7777).toBe(0o600);
    for (const path of [
      '.',
      'etc',
      'etc/config',
      'etc/config/wrtkit-demo',
      'lib/apk/packages',
      'lib/apk/packages/wrtkit-demo.list',
    ]) {
      expect(statSync(join(root, path)).mtimeMs, path).toBe(EPOCH * 1000);
    }
  });

  it('returns the skip message and writes nothing without the tool', async () => {
    const out = join(dir, 'out-skipped');
    const result = await buildApkFeed(findApkTool({}), [sampleSpec()], out, { mtime: EPOCH });
    expect(result).toEqual({ status: 'skipped', message: APK_SKIPPED });
    expect(existsSync(out)).toBe(false);
  });

  it('runs mkpkg under fakeroot, then mkndx, with SOURCE_DATE_EPOCH (recorded, not run)', async () => {
    const out = join(dir, 'out-recorded');
    const calls: { argv: string[]; env: Record<string, string> }[] = [];
    const tool = { apk: '/sdk/staging_dir/host/bin/apk', fakeroot: '/sdk/staging_dir/host/bin/fakeroot' };
    const result = await buildApkFeed({ found: true, tool }, [sampleSpec(), sampleSpec({ name: 'wrtkit', conffiles: [] })], out, {
      mtime: EPOCH,
      uid: 1000,
      run: async (argv, env) => {
        calls.push({ argv, env });
        // Stands in for apk's output so the result can be read back.
        if (argv.includes('mkpkg')) writeFileSync(argv[argv.length - 1] as string, `apk of ${argv[argv.indexOf('--info') + 1]}`);
      },
    });
    expect(calls.map((c) => c.argv.slice(0, 4))).toEqual([
      ['/sdk/staging_dir/host/bin/fakeroot', '--', tool.apk, 'mkpkg'],
      ['/sdk/staging_dir/host/bin/fakeroot', '--', tool.apk, 'mkpkg'],
      [tool.apk, 'mkndx', '--root', expect.any(String) as string],
    ]);
    for (const c of calls) expect(c.env).toEqual({ SOURCE_DATE_EPOCH: String(EPOCH) });
    expect(calls[2]?.argv.slice(-4)).toEqual([
      '--output',
      join(out, 'packages.adb'),
      join(out, 'wrtkit-0.1.0-r1.apk'),
      join(out, 'wrtkit-demo-0.1.0-r1.apk'),
    ]);
    expect(result.status).toBe('built');
    if (result.status === 'built') {
      expect(result.index).toBe(join(out, 'packages.adb'));
      expect(result.signed).toBe(false);
      expect(result.packages.map((p) => p.filename)).toEqual(['wrtkit-demo-0.1.0-r1.apk', 'wrtkit-0.1.0-r1.apk']);
      expect(new TextDecoder().decode(result.packages[0]?.bytes)).toBe('apk of name:wrtkit-demo');
    }
  });

  it('needs root or fakeroot for mkpkg', () => {
    const tool = { apk: '/x/apk', fakeroot: null };
    expect(commandPrefix(tool, 0)).toEqual([]);
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'no-such-bin');
    try {
      let err: unknown;
      try {
        commandPrefix(tool, 1000);
      } catch (e) {
        err = e;
      }
      expect(isWrtkitError(err, ErrorCodes.UNSUPPORTED)).toBe(true);
    } finally {
      process.env.PATH = path;
    }
  });
});
