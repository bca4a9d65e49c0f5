// The all-architecture packages of a build (packageContents): what each installs, with
// which mode, conffiles, dependencies and scripts, against the repository's recipes and
// package.json; the eBPF objects of both byte orders; the device tree all of them unpack to.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageContents } from '../../src/contents.js';
import { writeIpk } from '../../src/packages/ipk.js';
import type { PackageSpec } from '../../src/model.js';
import { ALL_PLUGINS, type Built, EPOCH, SITE, buildInputs, repoRoot } from './build.js';

let built: Built;
let specs: PackageSpec[];
const spec = (name: string): PackageSpec => {
  const s = specs.find((p) => p.name === name);
  if (!s) throw new Error(`no package ${name}: ${specs.map((p) => p.name).join(', ')}`);
  return s;
};
const file = (s: PackageSpec, p: string) => {
  const f = s.files.find((x) => x.path === p);
  if (!f) throw new Error(`${s.name} has no ${p}: ${s.files.map((x) => x.path).join(', ')}`);
  return f;
};
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const repoFile = (rel: string) => new Uint8Array(fs.readFileSync(path.join(repoRoot, rel)));

const expectedTree = [
  'etc/config/dynapoint 600',
  'etc/config/offload 600',
  'etc/config/pirania 600',
  'etc/config/wrtkit 600',
  'etc/init.d/wrtkit 755',
  'etc/uci-defaults/80-wrtkit-offload 755',
  'etc/uci-defaults/90-wrtkit-site 755',
  'lib/bpf/offload.bpfeb.o 644',
  'lib/bpf/offload.bpfel.o 644',
  'usr/bin/voucher 755',
  'usr/bin/wrtkit 755',
  'usr/share/rpcd/acl.d/wrtkit-beat-counter.json 644',
  'usr/share/rpcd/acl.d/wrtkit-dynapoint.json 644',
  'usr/share/rpcd/acl.d/wrtkit-heartbeat.json 644',
  'usr/share/rpcd/acl.d/wrtkit-offload.json 644',
  'usr/share/rpcd/acl.d/wrtkit-pirania-nftables.json 644',
  'usr/share/rpcd/acl.d/wrtkit.json 644',
  'usr/share/wrtkit/plugins/beat-counter/index.js 644',
  'usr/share/wrtkit/plugins/beat-counter/manifest.json 644',
  'usr/share/wrtkit/plugins/dynapoint/index.js 644',
  'usr/share/wrtkit/plugins/dynapoint/manifest.json 644',
  'usr/share/wrtkit/plugins/heartbeat/index.js 644',
  'usr/share/wrtkit/plugins/heartbeat/manifest.json 644',
  'usr/share/wrtkit/plugins/offload/index.js 644',
  'usr/share/wrtkit/plugins/offload/manifest.json 644',
  'usr/share/wrtkit/plugins/pirania-nftables/index.js 644',
  'usr/share/wrtkit/plugins/pirania-nftables/manifest.json 644',
  'usr/share/wrtkit/plugins/pirania-nftables/voucher.js 644',
  'usr/share/wrtkit/wrtkit.js 644',
];

beforeAll(() => {
  built = buildInputs();
  specs = packageContents({ repoRoot, buildDir: built.buildDir, plugins: ALL_PLUGINS, sourceDateEpoch: EPOCH, site: SITE });
});
afterAll(() => built?.cleanup());

describe('packageContents', () => {
  it('makes wrtkit, one package per plugin and the site package, all PKGARCH all', () => {
    expect(specs.map((s) => s.name)).toEqual([
      'wrtkit',
      'wrtkit-beat-counter',
      'wrtkit-dynapoint',
      'wrtkit-heartbeat',
      'wrtkit-offload',
      'wrtkit-pirania-nftables',
      'wrtkit-site-quintana-libre',
    ]);
    for (const s of specs) {
      expect(s.architecture, s.name).toBe('all');
      expect(s.version, s.name).toMatch(/^\d[\w.]*-r\d+$/);
      expect(s.license, s.name).toBe('GPL-2.0-only');
    }
  });

  it('wrtkit: what core/openwrt/Makefile installs, the bundle, its conffiles and depends', () => {
    const host = spec('wrtkit');
    expect(host.files.map((f) => [f.path, f.mode])).toEqual([
      ['/etc/config/wrtkit', 0o600],
      ['/etc/init.d/wrtkit', 0o755],
      ['/usr/bin/wrtkit', 0o755],
      ['/usr/share/rpcd/acl.d/wrtkit.json', 0o644],
      ['/usr/share/wrtkit/wrtkit.js', 0o644],
    ]);
    expect(file(host, '/usr/share/wrtkit/wrtkit.js').data).toEqual(
      new Uint8Array(fs.readFileSync(path.join(built.buildDir, 'wrtkit.js'))),
    );
    expect(file(host, '/etc/init.d/wrtkit').data).toEqual(repoFile('core/openwrt/files/etc/init.d/wrtkit'));
    expect(file(host, '/etc/config/wrtkit').data).toEqual(repoFile('core/openwrt/files/etc/config/wrtkit'));
    expect(file(host, '/usr/share/rpcd/acl.d/wrtkit.json').data).toEqual(
      repoFile('core/openwrt/files/usr/share/rpcd/acl.d/wrtkit.json'),
    );
    expect(host.conffiles).toEqual(['/etc/config/wrtkit', '/etc/wrtkit/state/']);
    // the state directory is no file of the package: the package writer lists it in
    // /lib/upgrade/keep.d/wrtkit for sysupgrade, as package-pack.mk does
    expect(host.files.some((f) => f.path.startsWith('/etc/wrtkit/'))).toBe(false);
    expect(host.depends).toEqual(['quickjs', 'wrtkit-native']);
    expect(host.section).toBe('utils');
    expect(host.category).toBe('Utilities');
    expect(host.source).toBe('core');
    expect(host.description.split('\n')[0]).toBe('Loads wrtkit plugins through a typed hook bus, validates their UCI config,');
    // the recipe has no scripts of its own: package.mk's postinst (the package writer's)
    // enables the init script
    expect(host.scripts).toEqual({});
  });

  it('each plugin: bundle, manifest, ACL, files/ (config as conffile), depends from package.json, scripts', () => {
    for (const name of ALL_PLUGINS) {
      const s = spec(`wrtkit-${name}`);
      const dir = `/usr/share/wrtkit/plugins/${name}`;
      const buildFile = (rel: string) => new Uint8Array(fs.readFileSync(path.join(built.buildDir, rel)));
      for (const f of fs.readdirSync(path.join(built.buildDir, 'plugins', name)))
        expect(file(s, `${dir}/${f}`).data, `${name}: ${f}`).toEqual(buildFile(`plugins/${name}/${f}`));
      expect(JSON.parse(text(file(s, `${dir}/manifest.json`).data)).name).toBe(name);
      expect(file(s, `/usr/share/rpcd/acl.d/wrtkit-${name}.json`).data).toEqual(buildFile(`acl.d/wrtkit-${name}.json`));

      const pluginDir =
        ['plugins', 'examples/plugins'].map((d) => path.join(repoRoot, d, name)).find((d) => fs.existsSync(d)) ?? '';
      const pkg = JSON.parse(fs.readFileSync(path.join(pluginDir, 'package.json'), 'utf8'));
      const fromJson = (pkg.wrtkit.openwrt?.depends ?? []).map((d: string) => d.replace(/^\+/, ''));
      const plugins = Object.keys(pkg.wrtkit.dependencies ?? {}).map((d) => `wrtkit-${d}`);
      const split = name === 'offload' ? ['offloadd'] : [];
      expect(s.depends, name).toEqual(['wrtkit', ...fromJson, ...split, ...plugins]);
      expect(s.source).toBe(path.relative(repoRoot, pluginDir));

      const config = path.join(pluginDir, 'openwrt/files/etc/config');
      for (const c of fs.existsSync(config) ? fs.readdirSync(config) : []) {
        expect(s.conffiles, name).toContain(`/etc/config/${c}`);
        expect(file(s, `/etc/config/${c}`).data).toEqual(new Uint8Array(fs.readFileSync(path.join(config, c))));
      }
      // the recipes' postinst/postrm: restart the host, reload rpcd, nothing into an image
      const script =
        '#!/bin/sh\n[ -n "${IPKG_INSTROOT}" ] && exit 0\n/etc/init.d/wrtkit restart\n[ -x /etc/init.d/rpcd ] && /etc/init.d/rpcd reload\n';
      expect(s.scripts.postinst, name).toBe(`${script}exit 0\n`);
      expect(s.scripts.postrm, name).toMatch(new RegExp(`^${script.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      expect(s.scripts.prerm).toBeUndefined();
    }
    expect(spec('wrtkit-dynapoint').conffiles).toEqual(['/etc/config/dynapoint']);
    expect(spec('wrtkit-dynapoint').conflicts).toEqual(['dynapoint']);
    expect(spec('wrtkit-pirania-nftables').conffiles).toEqual(['/etc/config/pirania', '/etc/pirania/content.json']);
    expect(file(spec('wrtkit-pirania-nftables'), '/usr/bin/voucher').mode).toBe(0o755);
    expect(spec('wrtkit-heartbeat').conffiles).toEqual([]);
  });

  it('offload: both eBPF objects in /lib/bpf (ELF, EM_BPF, their byte order), no offloadd', () => {
    const s = spec('wrtkit-offload');
    for (const [endian, eiData, little] of [
      ['el', 1, true],
      ['eb', 2, false],
    ] as const) {
      const obj = file(s, `/lib/bpf/offload.bpf${endian}.o`);
      expect(obj.mode).toBe(0o644);
      expect([...obj.data.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
      expect(obj.data[4]).toBe(2); // ELFCLASS64
      expect(obj.data[5]).toBe(eiData);
      expect(new DataView(obj.data.buffer, obj.data.byteOffset).getUint16(18, little)).toBe(247);
      // with BTF, as the datapath loader needs it
      expect(text(obj.data)).toContain('.BTF');
    }
    expect(s.files.some((f) => f.path.includes('offloadd'))).toBe(false);
    expect(s.depends).toContain('offloadd');
    expect(file(s, '/etc/uci-defaults/80-wrtkit-offload').mode).toBe(0o755);
    // the schema's default is the little-endian object, which the package carries
    const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'plugins/offload/schema.json'), 'utf8'));
    expect(s.files.map((f) => f.path)).toContain(schema.properties.offload.properties.object.default);
  });

  it("offload's uci-defaults names the big-endian object on big-endian systems only, unless one is set", () => {
    const script = text(file(spec('wrtkit-offload'), '/etc/uci-defaults/80-wrtkit-offload').data);
    expect(script).toContain('/bin/busybox');
    const dir = fs.mkdtempSync(path.join(built.tmp, 'uci-'));
    // a fake uci that logs its calls; `get` answers from $OBJECT
    fs.writeFileSync(
      path.join(dir, 'uci'),
      '#!/bin/sh\necho "$*" >> "$LOG"\n[ "$2" = get ] && { [ -n "$OBJECT" ] && echo "$OBJECT" || exit 1; }\nexit 0\n',
      { mode: 0o755 },
    );
    const run = (elf: string, object = '') => {
      const log = path.join(dir, 'log');
      fs.rmSync(log, { force: true });
      fs.writeFileSync(path.join(dir, 'script'), script.replace('/bin/busybox', elf));
      execFileSync('sh', [path.join(dir, 'script')], { env: { PATH: `${dir}:${process.env.PATH}`, LOG: log, OBJECT: object } });
      return fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    };
    const big = path.join(built.tmp, 'big.o');
    const little = path.join(built.tmp, 'little.o');
    fs.writeFileSync(big, file(spec('wrtkit-offload'), '/lib/bpf/offload.bpfeb.o').data);
    fs.writeFileSync(little, file(spec('wrtkit-offload'), '/lib/bpf/offload.bpfel.o').data);
    expect(run(big)).toBe('-q get offload.main.object\n-q set offload.main.object=/lib/bpf/offload.bpfeb.o\n-q commit offload\n');
    expect(run(little)).toBe('-q get offload.main.object\n');
    expect(run(big, '/lib/bpf/offload-dsa-mtk.bpfeb.o')).toBe('-q get offload.main.object\n');
  });

  it('the site package: the uci-defaults script, depending on wrtkit and the chosen plugins', () => {
    const s = spec('wrtkit-site-quintana-libre');
    expect(s.files).toEqual([
      { path: '/etc/uci-defaults/90-wrtkit-site', data: new TextEncoder().encode(SITE.uciDefaults.script), mode: 0o755 },
    ]);
    expect(s.depends).toEqual(['wrtkit', ...ALL_PLUGINS.map((p) => `wrtkit-${p}`)]);
    expect(s.version).toBe(`${EPOCH}-r1`);
    expect(s.conffiles).toEqual([]);
  });

  it('the packages unpack to the expected device file tree, no path in two packages', () => {
    const root = path.join(built.tmp, 'root');
    for (const s of specs)
      for (const f of s.files) {
        const dest = path.join(root, f.path);
        expect(fs.existsSync(dest), `${f.path} of ${s.name} is in another package`).toBe(false);
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.writeFileSync(dest, f.data, { mode: f.mode });
      }
    const tree = execFileSync('find', ['.', '-type', 'f', '-printf', '%P %m\n'], { cwd: root, encoding: 'utf8' })
      .trim()
      .split('\n')
      .sort();
    expect(tree).toEqual(expectedTree);
  });

  it('written as .ipk, they unpack (tar) to that tree, keep.d lists added by package.mk', async () => {
    const root = path.join(built.tmp, 'ipk-root');
    fs.mkdirSync(root);
    const controls: Record<string, string> = {};
    for (const s of specs) {
      const ipk = await writeIpk(s, { mtime: EPOCH });
      const dir = path.join(built.tmp, 'ipk', s.name);
      fs.mkdirSync(path.join(dir, 'control'), { recursive: true });
      fs.writeFileSync(path.join(dir, ipk.filename), ipk.bytes);
      execFileSync('tar', ['-xzf', ipk.filename], { cwd: dir });
      execFileSync('tar', ['-xzf', path.join(dir, 'data.tar.gz'), '-C', root]);
      execFileSync('tar', ['-xzf', path.join(dir, 'control.tar.gz'), '-C', path.join(dir, 'control')]);
      controls[s.name] = fs.readFileSync(path.join(dir, 'control/control'), 'utf8');
      expect(ipk.filename).toBe(`${s.name}_${s.version}_all.ipk`);
    }
    const tree = execFileSync('find', ['.', '-type', 'f', '-printf', '%P %m\n'], { cwd: root, encoding: 'utf8' })
      .trim()
      .split('\n')
      .sort();
    expect(tree.filter((l) => l.startsWith('lib/upgrade/'))).toEqual([
      'lib/upgrade/keep.d/wrtkit 644',
      'lib/upgrade/keep.d/wrtkit-pirania-nftables 644',
    ]);
    expect(tree.filter((l) => !l.startsWith('lib/upgrade/'))).toEqual(expectedTree);
    expect(fs.readFileSync(path.join(root, 'lib/upgrade/keep.d/wrtkit'), 'utf8')).toBe('/etc/wrtkit/state\n');
    expect(controls['wrtkit-offload']).toMatch(/^Architecture: all$/m);
    expect(controls['wrtkit-offload']).toMatch(
      /^Depends: wrtkit, libbpf, kmod-sched-bpf, libmnl, libnetfilter-conntrack, libjansson, offloadd$/m,
    );
    expect(controls['wrtkit']).toMatch(/^Depends: quickjs, wrtkit-native$/m);
  });

  it('packages only the chosen plugins; the site package depends on those', () => {
    const some = packageContents({
      repoRoot,
      buildDir: built.buildDir,
      plugins: ['dynapoint'],
      sourceDateEpoch: EPOCH,
      site: SITE,
    });
    expect(some.map((s) => s.name)).toEqual(['wrtkit', 'wrtkit-dynapoint', 'wrtkit-site-quintana-libre']);
    expect(some[2]?.depends).toEqual(['wrtkit', 'wrtkit-dynapoint']);
    expect(
      packageContents({ repoRoot, buildDir: built.buildDir, plugins: [], sourceDateEpoch: EPOCH }).map((s) => s.name),
    ).toEqual(['wrtkit']);
  });

  it('refuses what it cannot package right', () => {
    const base = { repoRoot, buildDir: built.buildDir, sourceDateEpoch: EPOCH };
    expect(() => packageContents({ ...base, plugins: ['nope'] })).toThrow(/no plugin named nope/);
    expect(() =>
      packageContents({ ...base, plugins: [], site: { ...SITE, uciDefaults: { path: '/etc/config/x', script: '' } } }),
    ).toThrow(/uci-defaults/);
    expect(() => packageContents({ ...base, plugins: [], site: { ...SITE, slug: 'Bad Slug' } })).toThrow(/slug/);
    expect(() => packageContents({ ...base, plugins: ['offload'], ebpfDir: path.join(built.tmp, 'none') })).toThrow(
      /make -C ebpf\/offload/,
    );
    expect(() => packageContents({ ...base, plugins: [], sourceDateEpoch: -1 })).toThrow(/SOURCE_DATE_EPOCH/);
  });
});
