import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isWrtkitError } from '@wrtkit/core';
import type { BuiltPackage } from '../../src/model.js';
import { descriptionLines } from '../../src/packages/control.js';
import { fitsUstar, ipkFilename, readIpkControl, readTar, TAR_RECORD_SIZE, writeIpk } from '../../src/packages/ipk.js';
import { EPOCH, sampleSpec } from './sample.js';

const sh = (cmd: string, args: string[], cwd?: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8' });

const DATA_LISTING = [
  './',
  './etc/',
  './etc/config/',
  './etc/config/wrtkit-demo',
  './etc/init.d/',
  './etc/init.d/wrtkit-demo',
  './lib/',
  './lib/upgrade/',
  './lib/upgrade/keep.d/',
  './lib/upgrade/keep.d/wrtkit-demo',
  './usr/',
  './usr/share/',
  './usr/share/wrtkit/',
  './usr/share/wrtkit/plugins/',
  './usr/share/wrtkit/plugins/demo/',
  './usr/share/wrtkit/plugins/demo/index.js',
  './usr/share/wrtkit-extra',
];

const CONTROL = `Package: wrtkit-demo
Version: 0.1.0-r1
Depends: wrtkit, ucode
Source: plugins/demo
License: GPL-2.0-only
Section: utils
SourceDateEpoch: 1700000000
Maintainer: wrtkit <dev@wrtkit.example>
Architecture: all
Installed-Size: 20480
Description:  A demo plugin.
 It shows what a package holds.
`;

describe('writeIpk', () => {
  let dir: string;
  let pkg: BuiltPackage;
  let ipkPath: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wrtkit-ipk-'));
    pkg = await writeIpk(sampleSpec(), { mtime: EPOCH });
    ipkPath = join(dir, pkg.filename);
    writeFileSync(ipkPath, pkg.bytes);
    // Unpacked with the real tar, outer then inner archives, as opkg would.
    mkdirSync(join(dir, 'outer'));
    sh('tar', ['-xzf', ipkPath, '-C', join(dir, 'outer')]);
    mkdirSync(join(dir, 'root'));
    sh('tar', ['-xzf', join(dir, 'outer', 'data.tar.gz'), '-C', join(dir, 'root')]);
    mkdirSync(join(dir, 'control'));
    sh('tar', ['-xzf', join(dir, 'outer', 'control.tar.gz'), '-C', join(dir, 'control')]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is named <name>_<version>_<arch>.ipk and hashes its bytes', () => {
    expect(pkg.filename).toBe('wrtkit-demo_0.1.0-r1_all.ipk');
    expect(pkg.sha256).toBe(sh('sha256sum', [ipkPath]).split(' ')[0]);
    expect(ipkFilename({ name: 'x', version: '2:1.0-r1', architecture: 'mips_24kc' })).toBe('x_1.0-r1_mips_24kc.ipk');
  });

  it('is a gzip tar of debian-binary, data.tar.gz, control.tar.gz in that order', () => {
    expect(sh('tar', ['-tzf', ipkPath]).split('\n').filter(Boolean)).toEqual([
      './debian-binary',
      './data.tar.gz',
      './control.tar.gz',
    ]);
    expect(readFileSync(join(dir, 'outer', 'debian-binary'), 'utf8')).toBe('2.0\n');
  });

  it('unpacks to the device tree: files, contents, modes', () => {
    const found = new Map<string, { mode: number; data: string }>();
    const visit = (rel: string) => {
      for (const name of readdirSync(join(dir, 'root', rel))) {
        const path = `${rel}/${name}`;
        const st = statSync(join(dir, 'root', path));
        if (st.isDirectory()) {
          expect(st.mode & 0o7777, path).toBe(0o755);
          visit(path);
        } else found.set(path, { mode: st.mode & 0o7777, data: readFileSync(join(dir, 'root', path), 'utf8') });
      }
    };
    visit('');
    const expected = new Map<string, { mode: number; data: string }>();
    for (const f of sampleSpec().files) expected.set(f.path, { mode: f.mode, data: new TextDecoder().decode(f.data) });
    // The listed conffile the package does not ship is kept across sysupgrade (package-pack.mk).
    expected.set('/lib/upgrade/keep.d/wrtkit-demo', { mode: 0o644, data: '/etc/wrtkit-demo.state\n' });
    expect(found).toEqual(expected);
  });

  it('lists data.tar.gz in GNU tar --sort=name order, ./ and every directory included', () => {
    expect(
      sh('tar', ['-tzf', join(dir, 'outer', 'data.tar.gz')])
        .split('\n')
        .filter(Boolean),
    ).toEqual(DATA_LISTING);
  });

  it('matches what ipkg-build’s GNU tar makes of the same tree: listing and Installed-Size', () => {
    // ipkg-build: tar --format=gnu --numeric-owner --sort=name -cpf - --mtime=… . (under fakeroot)
    const gnu = execFileSync(
      'tar',
      ['--format=gnu', '--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-cpf', '-', `--mtime=@${EPOCH}`, '.'],
      { cwd: join(dir, 'root') },
    );
    const gnuListing = execFileSync('tar', ['--full-time', '--numeric-owner', '-tvf', '-'], { input: gnu, encoding: 'utf8' });
    const ours = sh('tar', ['--full-time', '--numeric-owner', '-tvzf', join(dir, 'outer', 'data.tar.gz')]);
    expect(ours).toBe(gnuListing);
    // Installed-Size=$(zcat < data.tar.gz | wc -c)
    const zcatSize = execFileSync('sh', ['-c', `zcat < '${join(dir, 'outer', 'data.tar.gz')}' | wc -c`], { encoding: 'utf8' });
    expect(pkg.installedSize).toBe(Number(zcatSize.trim()));
    expect(pkg.installedSize).toBe(gnu.length);
    expect(pkg.installedSize % TAR_RECORD_SIZE).toBe(0);
  });

  it('writes the control file field for field', () => {
    expect(readFileSync(join(dir, 'control', 'control'), 'utf8')).toBe(CONTROL);
  });

  it('holds control, conffiles and the scripts in control.tar.gz', async () => {
    expect(
      sh('tar', ['-tzf', join(dir, 'outer', 'control.tar.gz')])
        .split('\n')
        .filter(Boolean),
    ).toEqual(['./', './conffiles', './control', './postinst', './postinst-pkg', './prerm', './prerm-pkg']);
    const c = (name: string) => readFileSync(join(dir, 'control', name), 'utf8');
    expect(c('conffiles')).toBe('/etc/config/wrtkit-demo\n');
    expect(c('postinst')).toBe(
      '#!/bin/sh\n[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_postinst $0 $@\n',
    );
    expect(c('prerm')).toBe(
      '#!/bin/sh\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_prerm $0 $@\n',
    );
    expect(c('postinst-pkg')).toBe('#!/bin/sh\necho installed\n');
    expect(c('prerm-pkg')).toBe('#!/bin/sh\necho removing\n');
    const modes = new Map((await readTar((await readTar(pkg.bytes))[2]?.data ?? new Uint8Array())).map((e) => [e.name, e.mode]));
    expect(Object.fromEntries(modes)).toEqual({
      './': 0o755,
      './conffiles': 0o644,
      './control': 0o644,
      './postinst': 0o755,
      './postinst-pkg': 0o755,
      './prerm': 0o755,
      './prerm-pkg': 0o755,
    });
    expect(await readIpkControl(pkg.bytes)).toBe(CONTROL);
  });

  it('gives every entry of all three tars owner 0/0 without names and the epoch as mtime', async () => {
    const outer = await readTar(pkg.bytes);
    const all = [
      ...outer,
      ...(await readTar(outer[1]?.data ?? new Uint8Array())),
      ...(await readTar(outer[2]?.data ?? new Uint8Array())),
    ];
    expect(all.length).toBe(3 + DATA_LISTING.length + 7);
    for (const e of all) {
      expect({ name: e.name, uid: e.uid, gid: e.gid, uname: e.uname, gname: e.gname, mtime: e.mtime }).toEqual({
        name: e.name,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
        mtime: EPOCH,
      });
    }
    // And as GNU tar reads them.
    const line = sh('tar', ['--full-time', '--numeric-owner', '-tvzf', ipkPath]).split('\n')[0];
    expect(line).toMatch(/^-rw-r--r-- 0\/0 +4 2023-11-14 22:13:20 \.\/debian-binary$/);
  });

  it('writes gzip headers like gzip -n: no name, mtime 0, Unix', async () => {
    const outer = await readTar(pkg.bytes);
    for (const gz of [pkg.bytes, outer[1]?.data, outer[2]?.data]) {
      expect(Buffer.from(gz?.subarray(0, 10) ?? []).toString('hex')).toBe('1f8b0800000000000003');
    }
  });

  it('is byte-identical for identical input and differs for another epoch', async () => {
    const again = await writeIpk(sampleSpec(), { mtime: EPOCH });
    expect(Buffer.from(again.bytes).equals(Buffer.from(pkg.bytes))).toBe(true);
    expect(again.sha256).toBe(pkg.sha256);
    // File order in the spec does not matter: the archive is sorted.
    const reversed = await writeIpk(sampleSpec({ files: [...sampleSpec().files].reverse() }), { mtime: EPOCH });
    expect(reversed.sha256).toBe(pkg.sha256);
    const later = await writeIpk(sampleSpec(), { mtime: EPOCH + 1 });
    expect(later.sha256).not.toBe(pkg.sha256);
  });
});

describe('writeIpk details', () => {
  it('expands a listed conffile directory to its files and keeps the directory across sysupgrade', async () => {
    const spec = sampleSpec({ conffiles: ['/etc/config/'], scripts: {} });
    const pkg = await writeIpk(spec, { mtime: EPOCH });
    const outer = await readTar(pkg.bytes);
    const control = await readTar(outer[2]?.data ?? new Uint8Array());
    const text = (name: string) => new TextDecoder().decode(control.find((e) => e.name === name)?.data);
    expect(text('./conffiles')).toBe('/etc/config/wrtkit-demo\n');
    // No scripts of its own: only the default postinst/prerm.
    expect(control.map((e) => e.name)).toEqual(['./', './conffiles', './control', './postinst', './prerm']);
    const data = await readTar(outer[1]?.data ?? new Uint8Array());
    expect(new TextDecoder().decode(data.find((e) => e.name === './lib/upgrade/keep.d/wrtkit-demo')?.data)).toBe('/etc/config\n');
  });

  it('writes no conffiles and no keep.d when none are listed; Conflicts when given', async () => {
    const pkg = await writeIpk(sampleSpec({ conffiles: [], conflicts: ['old-demo', 'other'], depends: [] }), { mtime: EPOCH });
    const control = await readIpkControl(pkg.bytes);
    expect(control).toContain('Version: 0.1.0-r1\nConflicts: old-demo, other\nSource: plugins/demo\n');
    expect(control).not.toContain('Depends');
    const outer = await readTar(pkg.bytes);
    const names = (await readTar(outer[2]?.data ?? new Uint8Array())).map((e) => e.name);
    expect(names).not.toContain('./conffiles');
    const data = (await readTar(outer[1]?.data ?? new Uint8Array())).map((e) => e.name);
    expect(data).not.toContain('./lib/');
  });

  it('indents description continuation lines by one space, as package-pack.mk does', () => {
    expect(descriptionLines('First.\n\n   Indented\tline\nLast  \n')).toBe('Description:  First.\n \n Indented\tline\n Last\n');
  });

  it('refuses specs that would make a broken package', async () => {
    const bad = [
      sampleSpec({ name: 'has_underscore' }),
      sampleSpec({ version: '1.0 beta' }),
      sampleSpec({ maintainer: 'a\nPackage: evil' }),
      sampleSpec({ depends: ['a, b'] }),
      sampleSpec({ description: '  ' }),
      sampleSpec({ files: [{ path: 'relative/file', data: new Uint8Array(), mode: 0o644 }] }),
      sampleSpec({ files: [{ path: '/etc/../x', data: new Uint8Array(), mode: 0o644 }] }),
      sampleSpec({ files: [{ path: '/etc/with space', data: new Uint8Array(), mode: 0o644 }] }),
      sampleSpec({
        files: [
          { path: '/a', data: new Uint8Array(), mode: 0o644 },
          { path: '/a/b', data: new Uint8Array(), mode: 0o644 },
        ],
      }),
      sampleSpec({ files: [{ path: '/x', data: new Uint8Array(), mode: 0o10000 }] }),
      sampleSpec({ files: [{ path: '/' + 'd'.repeat(120), data: new Uint8Array(), mode: 0o644 }] }),
    ];
    for (const spec of bad) {
      const err = await writeIpk(spec, { mtime: EPOCH }).catch((e: unknown) => e);
      expect(isWrtkitError(err, ErrorCodes.INVALID_ARGUMENT), JSON.stringify(spec.files[0]?.path) + spec.name).toBe(true);
    }
    for (const mtime of [-1, 1.5, 2 ** 31]) {
      const err = await writeIpk(sampleSpec(), { mtime }).catch((e: unknown) => e);
      expect(isWrtkitError(err, ErrorCodes.INVALID_ARGUMENT)).toBe(true);
    }
  });

  it('knows which names fit a ustar header', () => {
    expect(fitsUstar('./' + 'a'.repeat(98))).toBe(true);
    // Split as prefix "." + name.
    expect(fitsUstar('./' + 'a'.repeat(100))).toBe(true);
    expect(fitsUstar('./' + 'a'.repeat(101))).toBe(false);
    expect(fitsUstar('./' + 'p/'.repeat(140) + 'x')).toBe(false);
    expect(fitsUstar('./usr/share/' + 'b'.repeat(90) + '/' + 'c'.repeat(90))).toBe(true);
  });
});
