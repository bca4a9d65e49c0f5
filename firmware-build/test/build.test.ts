/**
 * `wrtkit build site.example.yaml` end to end, through the command a builder types
 * (firmware-build/bin/firmware.mjs, which `wrtkit build <site file>` runs): bundles, ipk
 * packages, a feed signed with a key made by `wrtkit keys new` and verified by OpenBSD's
 * signify, Packages matching the files, packages that unpack to the device's file tree, a
 * source feed; the same build twice gives the same bytes; a broken site file builds
 * nothing and names every error; and what was packaged boots on real QuickJS.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultHostPaths, labSupported } from '@wrtkit/sdk/lab';
import { useLab } from '@wrtkit/sdk/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles } from '../src/manifest.js';

const REPO = join(import.meta.dirname, '../..');
const CLI = join(REPO, 'firmware-build/bin/firmware.mjs');
const SITE = join(REPO, 'firmware-build/site.example.yaml');
const EPOCH = '1767225600'; // 2026-01-01
const PLUGINS = ['dynapoint', 'heartbeat', 'offload', 'pirania-nftables'];
const signify = ['/usr/bin/signify-openbsd', '/usr/bin/signify'].find((p) => existsSync(p));

const tmp = mkdtempSync(join(tmpdir(), 'wrtkit-firmware-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: tmp,
    encoding: 'utf8',
    env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH, ...env },
    timeout: 240_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Every file of a tree, path → SHA-256. */
function treeHashes(dir: string): Record<string, string> {
  return Object.fromEntries(listFiles(dir, dir, new Set()).map((p) => [p, sha256(readFileSync(join(dir, p)))]));
}

/** Unpacks an .ipk's data into root with the real tar (the outer archive is a tar.gz, as ipkg-build writes it). */
function unpackIpk(ipk: string, root: string): void {
  const work = mkdtempSync(join(tmp, 'ipk-'));
  execFileSync('tar', ['-xzf', ipk, '-C', work]);
  mkdirSync(root, { recursive: true });
  execFileSync('tar', ['-xzf', join(work, 'data.tar.gz'), '-C', root]);
  rmSync(work, { recursive: true, force: true });
}

let keyDir: string;
let out: string;
let built: { status: number | null; stdout: string; stderr: string };

beforeAll(() => {
  keyDir = join(tmp, 'keys');
  const keys = cli(['keys', 'new', '--out', keyDir]);
  expect(keys.status, keys.stderr).toBe(0);
  out = join(tmp, 'out-a');
  const secret = readdirSync(keyDir).find((f) => f.endsWith('.sec'))!;
  built = cli(['build', SITE, '--out', out, '--key', join(keyDir, secret)]);
}, 300_000);

describe('wrtkit build site.example.yaml', () => {
  it('builds: progress per step on stderr, the summary table on stdout', () => {
    expect(built.status, built.stderr).toBe(0);
    for (const step of ['bundles:', 'eBPF:', 'packages:', 'feed:', 'source feed:', 'manifest:'])
      expect(built.stderr).toContain(step);
    // a scratch key is not the site's: said, since nodes set up by the site would refuse the feed
    expect(built.stderr).toMatch(/warning: the feed is signed by \w+ .* not one of the site's feed\.keys/);
    expect(built.stdout).toMatch(/^package\s+version\s+arch\s+size\s+sha256$/m);
    for (const name of ['wrtkit', ...PLUGINS.map((p) => `wrtkit-${p}`), 'wrtkit-site-freifunk-musterstadt'])
      expect(built.stdout).toMatch(new RegExp(`^${name}\\s+\\S+\\s+all\\s`, 'm'));
  });

  it('bundles: the host and every chosen plugin, minified ESM', () => {
    const host = readFileSync(join(out, 'bundles/wrtkit.js'), 'utf8');
    expect(host.length).toBeGreaterThan(100_000);
    expect(host.split('\n').length).toBeLessThan(50); // minified
    for (const p of PLUGINS) expect(existsSync(join(out, 'bundles/plugins', p, 'index.js'))).toBe(true);
    expect(existsSync(join(out, 'bundles/plugins/beat-counter'))).toBe(false); // not chosen
  });

  it.skipIf(!signify)('the feed: Packages.sig verifies with signify and the public key; a changed Packages does not', () => {
    const pub = join(
      keyDir,
      readdirSync(keyDir).find((f) => f.endsWith('.pub'))!,
    );
    const feed = join(out, 'feed');
    // the feed carries its public key for whoever serves or mirrors it (and for ImageBuilders)
    expect(
      readFileSync(
        join(
          feed,
          readdirSync(keyDir).find((f) => f.endsWith('.pub'))!,
        ),
        'utf8',
      ),
    ).toBe(readFileSync(pub, 'utf8'));
    const ok = spawnSync(signify!, ['-V', '-p', pub, '-m', join(feed, 'Packages'), '-x', join(feed, 'Packages.sig')], {
      encoding: 'utf8',
    });
    expect(ok.status, ok.stderr).toBe(0);
    const tampered = join(tmp, 'Packages.tampered');
    writeFileSync(tampered, readFileSync(join(feed, 'Packages'), 'utf8').replace('Version: 0.1.0', 'Version: 0.1.1'));
    const bad = spawnSync(signify!, ['-V', '-p', pub, '-m', tampered, '-x', join(feed, 'Packages.sig')], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
  });

  it('the feed: every Packages stanza matches its file (Filename, Size, SHA256sum, control fields); Packages.gz is Packages', () => {
    const feed = join(out, 'feed');
    const index = readFileSync(join(feed, 'Packages'), 'utf8');
    const stanzas = index
      .split(/\n\n+/)
      .filter((s) => s.trim())
      .map((s) =>
        Object.fromEntries(
          s
            .split('\n')
            .flatMap((l) => (/^[A-Z][\w-]*: /.test(l) ? [[l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]] : [])),
        ),
      );
    const ipks = readdirSync(feed).filter((f) => f.endsWith('.ipk'));
    expect(stanzas.map((s) => s.Filename).sort()).toEqual(ipks.sort());
    for (const s of stanzas) {
      const bytes = readFileSync(join(feed, s.Filename!));
      expect(Number(s.Size)).toBe(bytes.length);
      expect(s.SHA256sum).toBe(sha256(bytes));
      expect(s.Architecture).toBe('all');
      // the stanza's control fields are the package's own control file
      const control = execFileSync(
        'sh',
        ['-c', `tar -xzOf "$1" ./control.tar.gz | tar -xzO ./control`, 'sh', join(feed, s.Filename!)],
        {
          encoding: 'utf8',
        },
      );
      for (const field of ['Package', 'Version', 'Depends', 'Architecture', 'Installed-Size'])
        if (s[field] !== undefined) expect(control).toContain(`${field}: ${s[field]}\n`);
    }
    expect(execFileSync('gzip', ['-dc', join(feed, 'Packages.gz')], { encoding: 'utf8' })).toBe(index);
  });

  it('the packages unpack to the device tree: host bundle, plugin bundles, init script, config, eBPF objects, site defaults', () => {
    const root = join(tmp, 'root');
    for (const f of readdirSync(join(out, 'feed')).filter((n) => n.endsWith('.ipk'))) unpackIpk(join(out, 'feed', f), root);
    const files = new Set(listFiles(root, root, new Set()));
    for (const path of [
      'usr/share/wrtkit/wrtkit.js',
      'usr/bin/wrtkit',
      'etc/init.d/wrtkit',
      'etc/config/wrtkit',
      'usr/share/rpcd/acl.d/wrtkit.json',
      ...PLUGINS.flatMap((p) => [`usr/share/wrtkit/plugins/${p}/index.js`, `usr/share/wrtkit/plugins/${p}/manifest.json`]),
      'usr/share/wrtkit/plugins/pirania-nftables/voucher.js',
      'etc/config/offload',
      'etc/config/dynapoint',
      'lib/bpf/offload.bpfel.o',
      'lib/bpf/offload.bpfeb.o',
      'etc/uci-defaults/90-wrtkit-site',
    ])
      expect(files, path).toContain(path);
    // what is installed is what was built
    expect(readFileSync(join(root, 'usr/share/wrtkit/wrtkit.js'))).toEqual(readFileSync(join(out, 'bundles/wrtkit.js')));
    // the eBPF objects: ELF, machine EM_BPF (247), each in its byte order
    for (const [name, little] of [
      ['offload.bpfel.o', true],
      ['offload.bpfeb.o', false],
    ] as const) {
      const b = readFileSync(join(root, 'lib/bpf', name));
      expect(b.readUInt32BE(0)).toBe(0x7f454c46);
      expect(b[5]).toBe(little ? 1 : 2);
      expect(little ? b.readUInt16LE(18) : b.readUInt16BE(18)).toBe(247);
    }
    // the community's settings, run once at first boot
    const defaults = readFileSync(join(root, 'etc/uci-defaults/90-wrtkit-site'), 'utf8');
    expect(defaults).toContain('Freifunk Musterstadt');
    expect(defaults).toMatch(/exit 0\s*$/);
  });

  it('the source feed: a Makefile per package (package.mk; bpf.mk + CompileBPF for offload) with its sources', () => {
    const feed = join(out, 'source-feed');
    const dirs = readdirSync(feed).filter((d) => existsSync(join(feed, d, 'Makefile')));
    expect(dirs).toEqual(expect.arrayContaining(['wrtkit', 'wrtkit-native', 'wrtkit-offload', 'offloadd']));
    for (const d of dirs) expect(readFileSync(join(feed, d, 'Makefile'), 'utf8')).toContain('$(INCLUDE_DIR)/package.mk');
    const offload = dirs.map((d) => readFileSync(join(feed, d, 'Makefile'), 'utf8')).find((m) => m.includes('CompileBPF'));
    expect(offload).toMatch(/include \$\(INCLUDE_DIR\)\/bpf\.mk/);
    expect(existsSync(join(feed, 'README'))).toBe(true);
  });

  it('the manifest hashes every output as it is', () => {
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      source_date_epoch: number;
      inputs: Record<string, string>;
      outputs: Record<string, string>;
    };
    expect(manifest.source_date_epoch).toBe(Number(EPOCH));
    expect(manifest.inputs['site:site.example.yaml']).toBe(sha256(readFileSync(SITE)));
    const actual = treeHashes(out);
    delete actual['manifest.json'];
    expect(manifest.outputs).toEqual(actual);
  });

  it('built again into another directory: byte-identical outputs', () => {
    const again = join(tmp, 'out-b');
    const secret = readdirSync(keyDir).find((f) => f.endsWith('.sec'))!;
    const second = cli(['build', SITE, '--out', again, '--key', join(keyDir, secret)]);
    expect(second.status, second.stderr).toBe(0);
    expect(treeHashes(again)).toEqual(treeHashes(out));
  }, 300_000);
});

describe('a broken site file', () => {
  it('fails fast: every error by path, nothing built', () => {
    const broken = join(tmp, 'broken.yaml');
    writeFileSync(
      broken,
      [
        'release: 24.10.4',
        'community:',
        '  name: Broken',
        'plugins:',
        '  wifi-magic: {}',
        '  offload:',
        '    config:',
        '      offload:',
        '        enabled: "yes"',
        '        mode: fast',
        '',
      ].join('\n'),
    );
    const dest = join(tmp, 'out-broken');
    for (const args of [
      ['build', broken, '--out', dest],
      ['build', '--check', broken],
    ]) {
      const r = cli(args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/targets: is required/);
      expect(r.stderr).toMatch(/plugins\.wifi-magic: unknown plugin/);
      expect(r.stderr).toMatch(/plugins\.offload\.config\.offload\.enabled: must be true or false/);
      expect(r.stderr).toMatch(/plugins\.offload\.config\.offload\.mode: must be one of xdp, tc, auto/);
      expect(r.stderr).toMatch(/nothing was built/);
    }
    expect(existsSync(dest)).toBe(false);
  });

  it('--check of the example: OK, and nothing written', () => {
    const r = cli(['build', '--check', SITE]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/site\.example\.yaml: OK/);
    expect(existsSync(join(tmp, 'firmware'))).toBe(false);
  });
});

const lab0 = labSupported();
const { qjs } = defaultHostPaths();
const why = !lab0.ok ? lab0.reason : !qjs || !existsSync(qjs) ? 'qjs is not installed (scripts/fetch-qjs.sh)' : '';

describe.skipIf(why !== '')(`what was packaged boots on real QuickJS${why ? ` (skipped: ${why})` : ''}`, () => {
  // a namespace of its own: the packaged plugin defaults (dynapoint's probes) reach nothing outside it
  const lab = useLab({ nodes: { router: {} } });

  it('the host and the plugin bundles, unpacked from the ipk files into a scratch root, start with every plugin', async () => {
    const root = join(tmp, 'boot-root');
    for (const f of readdirSync(join(out, 'feed')).filter((n) => n.endsWith('.ipk'))) unpackIpk(join(out, 'feed', f), root);
    const host = await lab().startHost('router', {
      engine: 'qjs',
      hostBundle: join(root, 'usr/share/wrtkit/wrtkit.js'),
      pluginDir: join(root, 'usr/share/wrtkit/plugins'),
      root,
    });
    try {
      await host.waitForLog(new RegExp(`ready plugins=${PLUGINS.length} failed=0 engine=qjs`), { timeoutMs: 30_000 });
      const listed = await host.cli(['--socket', host.socket, 'plugins']);
      expect(listed.exitCode, listed.stderr).toBe(0);
      for (const p of PLUGINS) expect(listed.stdout).toMatch(new RegExp(`^${p}\\s+0\\.1\\.0\\s+running`, 'm'));
    } finally {
      await host.stop();
    }
  }, 60_000);
});
