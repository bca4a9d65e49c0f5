// The source feed: one directory per package with a Makefile package.mk can build, every
// file those Makefiles read present in the feed, offloadd split out of wrtkit-offload, and
// the same bytes every time it is written.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedPackages } from '../../src/contents.js';
import { feedReferences, writeSourceFeed } from '../../src/source-feed.js';
import { ALL_PLUGINS, type Built, EPOCH, SITE, buildInputs, repoRoot } from './build.js';

let built: Built;
let feed: string;
const input = () => ({ repoRoot, buildDir: built.buildDir, plugins: ALL_PLUGINS, sourceDateEpoch: EPOCH, site: SITE });
const read = (rel: string) => fs.readFileSync(path.join(feed, rel), 'utf8');

/** path → mode and sha256 of every file and directory under `dir`, with the times. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    const stat = fs.statSync(abs);
    const mode = (stat.mode & 0o777).toString(8);
    if (stat.isDirectory()) {
      out[`${rel}/`] = `${mode} ${stat.mtimeMs}`;
      for (const name of fs.readdirSync(abs).sort()) walk(rel === '' ? name : `${rel}/${name}`);
    } else out[rel] = `${mode} ${stat.mtimeMs} ${createHash('sha256').update(fs.readFileSync(abs)).digest('hex')}`;
  };
  walk('');
  return out;
}

beforeAll(() => {
  built = buildInputs();
  feed = path.join(built.tmp, 'feed');
  writeSourceFeed(feed, input());
});
afterAll(() => built?.cleanup());

describe('writeSourceFeed', () => {
  it('writes one directory per package, each with a package.mk Makefile, and a README', () => {
    const dirs = fs
      .readdirSync(feed, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(dirs).toEqual([
      'offloadd',
      'wrtkit',
      'wrtkit-beat-counter',
      'wrtkit-dynapoint',
      'wrtkit-heartbeat',
      'wrtkit-native',
      'wrtkit-offload',
      'wrtkit-pirania-nftables',
      'wrtkit-site-quintana-libre',
    ]);
    for (const d of dirs) {
      const makefile = read(`${d}/Makefile`);
      expect(makefile, d).toMatch(/^include \$\(TOPDIR\)\/rules\.mk$/m);
      expect(makefile, d).toMatch(/^include \$\(INCLUDE_DIR\)\/package\.mk$/m);
      expect(makefile, d).toMatch(
        /^\$\(eval \$\(call BuildPackage,\$\(PKG_NAME\)\)\)$|^\$\(eval \$\(call BuildPackage,[a-z-]+\)\)$/m,
      );
    }
    const readme = read('README');
    expect(readme).toContain('src-link wrtkit /path/to/this/directory');
    expect(readme).toContain('./scripts/feeds update wrtkit');
    expect(readme).toContain('./scripts/feeds install -a -p wrtkit');
  });

  it('copies the recipes with their build locations pointing into the package (dist/, src/)', () => {
    const recipe = fs.readFileSync(path.join(repoRoot, 'plugins/dynapoint/openwrt/Makefile'), 'utf8');
    const copy = read('wrtkit-dynapoint/Makefile');
    expect(copy).toContain('WRTKIT_BUILD ?= $(CURDIR)/dist');
    // the rest of the recipe unchanged
    expect(
      copy.replace(/^#.*\n/gm, '').replace('WRTKIT_BUILD ?= $(CURDIR)/dist', 'WRTKIT_BUILD ?= $(CURDIR)/../../../build'),
    ).toBe(recipe.replace(/^#.*\n/gm, ''));
    expect(read('wrtkit/Makefile')).toContain('$(INSTALL_DATA) ./dist/wrtkit.js $(1)/usr/share/wrtkit/wrtkit.js');
    expect(read('wrtkit-native/Makefile')).toContain(
      'NATIVE_SRC:=$(if $(wildcard $(CURDIR)/src/native.h),$(CURDIR)/src,$(CURDIR)/..)',
    );
    expect(fs.existsSync(path.join(feed, 'wrtkit-native/src/native.h'))).toBe(true);
  });

  it('offload: bpf.mk and CompileBPF in wrtkit-offload, offloadd a package of its own', () => {
    const offload = read('wrtkit-offload/Makefile');
    expect(offload).toMatch(/^include \$\(INCLUDE_DIR\)\/bpf\.mk$/m);
    expect(offload).toMatch(/\$\(call CompileBPF,\$\(PKG_BUILD_DIR\)\/ebpf\/offload\.bpf\.c/);
    expect(offload).toContain('BPF_ENDIAN:=$(patsubst bpf%,%,$(BPF_TARGET))');
    expect(offload).toContain('$(1)/lib/bpf/offload.bpf$(BPF_ENDIAN).o');
    expect(offload).toContain('DEPENDS+=+offloadd');
    expect(offload).toContain(
      '$(INSTALL_BIN) ./files/etc/uci-defaults/80-wrtkit-offload $(1)/etc/uci-defaults/80-wrtkit-offload',
    );
    // nothing of the daemon is left but in comments
    const code = offload.replace(/^\s*#.*\n/gm, '');
    expect(code).not.toMatch(/offloadd\/|\/usr\/sbin|TARGET_CC/);

    const daemon = read('offloadd/Makefile');
    expect(daemon).toContain('PKG_NAME:=offloadd');
    expect(daemon).toContain('$(INSTALL_BIN) $(PKG_BUILD_DIR)/offloadd/offloadd $(1)/usr/sbin/offloadd');
    expect(daemon).toContain('$(TARGET_CC) $(TARGET_CFLAGS)');
    expect(daemon).toContain('DEPENDS:=+libbpf +libmnl +libnetfilter-conntrack +libjansson');
    expect(daemon).not.toContain('PKGARCH');
    // its lines are the recipe's
    const recipe = fs.readFileSync(path.join(repoRoot, 'plugins/offload/openwrt/Makefile'), 'utf8');
    for (const line of daemon.split('\n').filter((l) => l.includes('offloadd/') && l.startsWith('\t')))
      expect(recipe).toContain(line);
  });

  it('every file a Makefile reads is in the feed', () => {
    const pkgs = fs.readdirSync(feed).filter((d) => d !== 'README');
    let checked = 0;
    for (const dir of pkgs) {
      const makefile = read(`${dir}/Makefile`);
      const files = listFiles(path.join(feed, dir));
      const refs = feedReferences({ dir, makefile, files: files.map((f) => ({ path: f, data: new Uint8Array(), mode: 0o644 })) });
      // also found without the module: ./files/, ./dist/, $(WRTKIT_BUILD)/ and the checked bundles
      const plugin = /^PLUGIN:=(.*)$/m.exec(makefile)?.[1] ?? '';
      const code = makefile.replace(/^\s*#.*$/gm, '');
      const direct = [...code.matchAll(/(?:\.\/|\$\(WRTKIT_BUILD\)\/|\$\(WRTKIT_REPO\)\/)([^\s"]+)/g)]
        .map((m) =>
          m[0].startsWith('$(WRTKIT_BUILD)') ? `dist/${m[1]}` : m[0].startsWith('$(WRTKIT_REPO)') ? `src/${m[1]}` : (m[1] ?? ''),
        )
        .map((r) => r.replaceAll('$(PLUGIN)', plugin).replace(/\/$/, ''))
        .filter((r) => !r.includes('$'));
      for (const loop of code.matchAll(/for f in ([^;]+); do/g))
        for (const item of (loop[1] ?? '').trim().split(/\s+/)) direct.push(`dist/${item.replaceAll('$(PLUGIN)', plugin)}`);
      for (const ref of new Set([...refs, ...direct])) {
        const re = new RegExp(`^${ref.replace(/[.+]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
        expect(
          files.some((f) => re.test(f)),
          `${dir}/Makefile reads ${ref}`,
        ).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
    // what the recipes read from the repository is there: the eBPF and C sources
    expect(listFiles(path.join(feed, 'wrtkit-offload/src/ebpf/offload'))).toContain('offload.bpf.c');
    expect(listFiles(path.join(feed, 'offloadd/src/native/offloadd'))).toContain('main.c');
    expect(listFiles(path.join(feed, 'offloadd/src/ebpf/offload'))).toContain('offload.h');
  });

  it('writes the same tree every time (contents, modes, times)', () => {
    const first = snapshot(feed);
    writeSourceFeed(feed, input());
    expect(snapshot(feed)).toEqual(first);
    const other = path.join(built.tmp, 'feed2');
    writeSourceFeed(other, input());
    expect(snapshot(other)).toEqual(first);
    expect(Object.keys(first).length).toBeGreaterThan(60);
    for (const [rel, entry] of Object.entries(first)) expect(entry, rel).toContain(` ${EPOCH * 1000}`);
  });

  it('replaces an older feed, but nothing else', () => {
    const dir = path.join(built.tmp, 'feed3');
    writeSourceFeed(dir, input());
    writeSourceFeed(dir, { ...input(), plugins: ['heartbeat'], site: undefined });
    expect(fs.readdirSync(dir).sort()).toEqual(['README', 'wrtkit', 'wrtkit-heartbeat', 'wrtkit-native']);
    const other = path.join(built.tmp, 'not-a-feed');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'important'), 'x');
    expect(() => writeSourceFeed(other, input())).toThrow(/not replacing/);
    expect(fs.readFileSync(path.join(other, 'important'), 'utf8')).toBe('x');
  });

  it('is the model the binary packages come from', () => {
    // every all-arch package of the feed is PKGARCH:=all in its Makefile, or the table
    // makes it so (wrtkit-offload: both byte orders); the SDK-only ones are not in it
    const pkgs = feedPackages(input());
    expect(pkgs.filter((p) => p.binary === null).map((p) => p.dir)).toEqual(['wrtkit-native', 'offloadd']);
    expect(pkgs.filter((p) => p.binary?.allArch).map((p) => p.dir)).toEqual(['wrtkit-offload']);
  });
});

function listFiles(dir: string, prefix = ''): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}
