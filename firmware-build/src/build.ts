/**
 * `wrtkit build <site file>`: the steps from one site file to what a community flashes or
 * serves, in order, each printed as it runs:
 *
 *   1. site file   parsed and checked against core's and every chosen plugin's schema
 *                  (errors: all of them, by path; nothing else runs)
 *   2. bundles     the host and the chosen plugins (rollup, minified ESM for qjs and Node)
 *   3. eBPF        the datapath objects of the plugins that have one, both byte orders
 *   4. packages    .ipk (opkg, OpenWrt 24.10) or .apk through an SDK's apk (25.12+)
 *   5. feed        Packages, Packages.gz, Packages.sig (usign) — or packages.adb
 *   6. source feed Makefiles (package.mk, bpf.mk) and sources for the OpenWrt buildroot
 *   7. images      with --imagebuilder: flash budget, then `make image` per profile
 *   8. manifest    SHA-256 of every input and output
 *
 * Output (under --out): bundles/, feed/, source-feed/, images/, manifest.json. Everything
 * except images/ is reproducible: the same inputs give the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { buildBundles } from '../../scripts/bundles.mjs';
import type { BuildArgs } from './args.js';
import { packageContents } from './contents.js';
import { APK_SKIPPED, buildApkFeed, findApkTool } from './feed/apk.js';
import { packagesGz, packagesIndex } from './feed/packages-index.js';
import { fingerprint, publicKeyFileOf, sign } from './feed/usign.js';
import { checkBudget, imageBuilderTarget, imageKib, makeImage, profileImageKib } from './image.js';
import { hashFiles, listFiles, type Manifest, manifestText, sha256 } from './manifest.js';
import type { BuiltPackage, PackageSpec } from './model.js';
import { buildEbpf } from './native.js';
import { writeIpk } from './packages/ipk.js';
import { type Output, Progress, kib, processOutput, table } from './progress.js';
import { formatSiteErrors, loadSite, packageManager, type PluginInfo, type Site, uciDefaults } from './site/index.js';
import { writeSourceFeed } from './source-feed.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** Plugins whose datapath lives in ebpf/<dir> (built for both byte orders). */
const EBPF_OF_PLUGIN: Record<string, string> = { offload: 'offload' };

/** The repository's sources a build reads (besides the chosen plugins' directories). */
const INPUT_ROOTS = [
  'core/src',
  'core/openwrt',
  'core/native',
  'core/schema',
  'sdk/build',
  'sdk/src',
  'scripts/bundles.mjs',
  'scripts/rollup-plugins.js',
  'scripts/runtime-bridge.js',
  'firmware-build/src',
  'firmware-build/schema',
  'ebpf',
  'native',
  'package-lock.json',
];

export interface BuildResult {
  out: string;
  packages: BuiltPackage[];
}

/** SOURCE_DATE_EPOCH, else the time of the repository's last commit (a tree always builds the same). */
export function sourceDateEpoch(repoRoot: string, env = process.env): number {
  const given = env.SOURCE_DATE_EPOCH;
  if (given !== undefined && given !== '') {
    if (!/^\d+$/.test(given)) throw codeError('WRTKIT_ERR_USAGE', `SOURCE_DATE_EPOCH must be whole seconds, not ${given}`);
    return Number(given);
  }
  try {
    return Number(
      execFileSync('git', ['-C', repoRoot, 'log', '-1', '--format=%ct'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim(),
    );
  } catch {
    throw codeError('WRTKIT_ERR_USAGE', 'set SOURCE_DATE_EPOCH (this repository is not a git checkout to take the time from)');
  }
}

/** `Freifunk Musterstadt` → `freifunk-musterstadt` (package and directory names). */
export function slug(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s || 'site';
}

function codeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Runs `wrtkit build`; returns the exit status (0 built or checked, 1 refused). */
export async function runBuild(args: BuildArgs, output: Output = processOutput, repoRoot = REPO_ROOT): Promise<number> {
  const siteFile = resolve(args.site);
  const loaded = await loadSite(siteFile, repoRoot);
  if (!loaded.site || loaded.errors.length > 0) {
    output.err(formatSiteErrors(relative(process.cwd(), siteFile) || siteFile, loaded.errors));
    output.err('nothing was built');
    return 1;
  }
  const site = loaded.site;
  const chosen = Object.keys(site.plugins).sort();
  const profiles = site.targets.reduce((n, t) => n + t.profiles.length, 0);
  if (args.check) {
    output.out(
      `${basename(siteFile)}: OK — OpenWrt ${site.release} (${packageManager(site.release).manager}), ${site.targets.length} target(s), ${profiles} profile(s), plugins: ${chosen.join(', ') || 'none'}`,
    );
    return 0;
  }
  const result = await build(site, loaded.plugins, siteFile, args, output, repoRoot);
  return result ? 0 : 1;
}

async function build(
  site: Site,
  plugins: PluginInfo[],
  siteFile: string,
  args: BuildArgs,
  output: Output,
  repoRoot: string,
): Promise<BuildResult | undefined> {
  const epoch = sourceDateEpoch(repoRoot);
  const community = slug(site.community.name);
  const out = resolve(args.out ?? join('firmware', community));
  const manager = packageManager(site.release);
  const chosen = Object.keys(site.plugins).sort();
  const byName = new Map(plugins.map((p) => [p.name, p]));
  // bundles, eBPF, packages, (feed index: ipk), source feed, (images), manifest
  const progress = new Progress(output, 5 + (manager.format === 'ipk' ? 1 : 0) + (args.imagebuilder ? 1 : 0));
  output.err(`wrtkit build: ${site.community.name}, OpenWrt ${site.release}, into ${out} (SOURCE_DATE_EPOCH=${epoch})`);

  // A build starts from nothing: files of an older build must not end up in the feed.
  for (const d of ['bundles', 'feed', 'source-feed', 'images', '.work']) rmSync(join(out, d), { recursive: true, force: true });
  rmSync(join(out, 'manifest.json'), { force: true });
  mkdirSync(out, { recursive: true });
  const work = join(out, '.work');

  const bundleDir = join(out, 'bundles');
  const bundles = await progress.run(
    'bundles: the host and the plugins (rollup, minified ESM for QuickJS and Node)',
    () =>
      buildBundles({
        out: bundleDir,
        pluginDirs: chosen.map((name) => byName.get(name)!.dir),
        minify: args.minify,
        onWarning: (message) => progress.warn(message),
      }),
    (rows) =>
      `${rows.length} bundles, ${kib(rows.reduce((s, r) => s + r.size, 0))} (gzip ${kib(rows.reduce((s, r) => s + r.gzip, 0))})`,
  );
  for (const r of bundles) progress.info(`${r.name.padEnd(34)} ${kib(r.size).padStart(10)}  gzip ${kib(r.gzip).padStart(9)}`);

  const ebpfDir = join(work, 'ebpf');
  const ebpf = await progress.run(
    'eBPF: datapath objects, both byte orders (clang -target bpfel / bpfeb, with BTF)',
    () => chosen.flatMap((name) => (EBPF_OF_PLUGIN[name] ? buildEbpf(repoRoot, EBPF_OF_PLUGIN[name], ebpfDir) : [])),
    (objects) => (objects.length ? objects.map((o) => o.name).join(', ') : 'none of the chosen plugins has one'),
  );
  void ebpf;

  const defaults = uciDefaults(site, plugins);
  const feedScript = feedSetup(site);
  const input = {
    repoRoot,
    buildDir: bundleDir,
    plugins: chosen,
    sourceDateEpoch: epoch,
    pluginDirs: chosen.map((name) => byName.get(name)!.dir),
    site: { slug: community, uciDefaults: { path: defaults.path, script: beforeExit(defaults.script, feedScript) } },
  };
  const specs = packageContents({ ...input, ebpfDir }).map((spec) =>
    // the site's once-per-device markers must survive a sysupgrade with the config
    spec.name === `wrtkit-site-${community}` ? { ...spec, conffiles: [...new Set([...spec.conffiles, ...defaults.keep])] } : spec,
  );

  const feedDir = join(out, 'feed');
  let built: BuiltPackage[] = [];
  if (manager.format === 'ipk') {
    built = await progress.run(
      `packages: ${specs.length} .ipk for opkg (OpenWrt ${site.release})`,
      async () => {
        const list: BuiltPackage[] = [];
        mkdirSync(feedDir, { recursive: true });
        for (const spec of specs) {
          const pkg = await writeIpk(spec, { mtime: epoch });
          writeFileSync(join(feedDir, pkg.filename), pkg.bytes);
          list.push(pkg);
        }
        return list;
      },
      (list) => kib(list.reduce((s, p) => s + p.bytes.length, 0)),
    );
    const key = args.key ?? process.env.WRTKIT_SIGN_KEY;
    await progress.run(
      'feed: Packages, Packages.gz, Packages.sig',
      () => {
        const index = packagesIndex(built);
        writeFileSync(join(feedDir, 'Packages'), index);
        writeFileSync(join(feedDir, 'Packages.gz'), packagesGz(index));
        if (!key) return 'not signed';
        if (!existsSync(key)) throw codeError('WRTKIT_ERR_USAGE', `--key ${key}: no such file (make one: wrtkit keys new)`);
        const secret = readFileSync(key, 'utf8');
        // nodes trust only the site's feed.keys: a feed signed by another key is one they
        // refuse (said loudly; a test build with a scratch key is still a build)
        const ours = publicKeyFileOf(secret).split('\n')[1]!.trim();
        if (site.feed && !site.feed.keys.some((k) => k.trim() === ours))
          progress.warn(
            `the feed is signed by ${fingerprint(secret)} (${ours}), which is not one of the site's feed.keys: nodes set up by this site will refuse it — add that line to feed.keys, or sign with the site's key`,
          );
        writeFileSync(join(feedDir, 'Packages.sig'), sign(new TextEncoder().encode(index), secret));
        writeFileSync(join(feedDir, `${fingerprint(secret)}.pub`), publicKeyFileOf(secret));
        return `signed by key ${fingerprint(secret)}`;
      },
      (said) => said,
    );
    if (!key)
      progress.warn(
        'the feed is not signed: give --key (make one with `wrtkit keys new`); opkg refuses unsigned feeds unless told not to check',
      );
  } else {
    const lookup = findApkTool({ openwrtSdk: args.openwrtSdk, imagebuilder: args.imagebuilder });
    const apk = await progress.run(`packages: .apk for apk (OpenWrt ${site.release})`, () =>
      buildApkFeed(lookup, specs, feedDir, { mtime: epoch }),
    );
    if (apk.status === 'skipped') progress.warn(`.apk packages: ${apk.message || APK_SKIPPED}`);
    else built = apk.packages;
  }

  const sourceFeed = await progress.run(
    'source feed: Makefiles (package.mk, bpf.mk) and sources for the OpenWrt buildroot',
    () => writeSourceFeed(join(out, 'source-feed'), input),
    (w) => `${w.packages.length} packages`,
  );
  void sourceFeed;

  let imagesOk = true;
  if (args.imagebuilder) {
    const imagebuilder = resolve(args.imagebuilder);
    imagesOk = await progress.run('images: flash budget, then make image per profile', () =>
      buildImages(site, built, imagebuilder, out, feedDir, progress),
    );
  }

  rmSync(work, { recursive: true, force: true });
  const manifest = await progress.run('manifest: SHA-256 of every input and output', () =>
    writeManifest(out, siteFile, chosen, byName, epoch, repoRoot),
  );
  void manifest;

  output.out(summary(built, out));
  if (!imagesOk) {
    output.err(`built in ${progress.elapsed()}, but not every image (above: why): ${relative(process.cwd(), out) || out}`);
    return undefined;
  }
  output.err(`built in ${progress.elapsed()}: ${relative(process.cwd(), out) || out}`);
  return { out, packages: built };
}

/**
 * Where the node's opkg finds this site's packages later: the feed line and its keys,
 * added once at first boot (opkg owns customfeeds.conf, so a package must not ship it).
 */
function feedSetup(site: Site): string {
  if (!site.feed) return '';
  const lines = ['', '# the site feed, for opkg (once; the node owner may remove it)'];
  lines.push(
    `grep -q ' wrtkit_site ' /etc/opkg/customfeeds.conf 2>/dev/null || echo 'src/gz wrtkit_site ${site.feed.url}' >> /etc/opkg/customfeeds.conf`,
  );
  for (const key of site.feed.keys) {
    const id = usignKeyId(key);
    if (id)
      lines.push(
        `[ -f /etc/opkg/keys/${id} ] || printf '%s\\n%s\\n' 'untrusted comment: wrtkit site feed' '${key}' > /etc/opkg/keys/${id}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** A uci-defaults script ends with `exit 0` (which removes it after the first boot): more goes before that. */
function beforeExit(script: string, more: string): string {
  if (!more) return script;
  const m = /\nexit 0\n*$/.exec(script);
  return m ? `${script.slice(0, m.index)}\n${more}${script.slice(m.index)}` : `${script}${more}`;
}

/** The key id opkg names /etc/opkg/keys/<id> after: bytes 2..9 of a usign public key, hex, no leading zeros. */
function usignKeyId(base64: string): string | undefined {
  const raw = Buffer.from(base64.trim(), 'base64');
  if (raw.length !== 42 || raw.toString('latin1', 0, 2) !== 'Ed') return undefined;
  return BigInt(`0x${raw.subarray(2, 10).toString('hex')}`).toString(16);
}

/**
 * One image per profile. With a known flash size (the ImageBuilder's IMAGE_SIZE, else the
 * site's flash_kib) the budget is checked first: the image the profile gets WITHOUT the
 * wrtkit packages is built and measured, and the packages' compressed size must fit in what
 * it leaves; otherwise that profile is refused with the numbers and the others go on.
 */
export async function buildImages(
  site: Site,
  built: BuiltPackage[],
  imagebuilder: string,
  out: string,
  feedDir: string,
  progress: Progress,
): Promise<boolean> {
  const addKib = Math.ceil(built.reduce((s, p) => s + p.bytes.length, 0) / 1024);
  const names = built.map((p) => p.spec.name);
  // an ImageBuilder builds for one target/subtarget: the site's other targets need theirs
  const ibTarget = imageBuilderTarget(imagebuilder);
  let ok = true;
  for (const t of site.targets) {
    if (ibTarget && t.target !== ibTarget) {
      progress.info(`${t.target}: skipped (this ImageBuilder is for ${ibTarget}; run again with that target's)`);
      continue;
    }
    const extra = [...(site.packages ?? []), ...(t.packages ?? [])];
    for (const profile of t.profiles) {
      const what = `${t.target} ${profile}`;
      const flashKib = profileImageKib(imagebuilder, profile) ?? t.flash_kib?.[profile];
      const request = { imagebuilder, profile, feedDir, feedName: 'wrtkit' };
      if (flashKib === undefined) {
        progress.info(`${what}: flash budget not checked (neither the ImageBuilder nor the site's flash_kib gives its size)`);
      } else {
        const baseDir = join(out, '.work', 'base', t.target, profile);
        const base = makeImage({ ...request, packages: extra, binDir: baseDir });
        const baseKib = base.status === 0 ? imageKib(baseDir) : undefined;
        if (baseKib === undefined) {
          progress.warn(
            `${what}: the image without wrtkit did not build (${base.status}), so its budget is unknown:\n${base.tail}`,
          );
          ok = false;
          continue;
        }
        const verdict = checkBudget({ what, flashKib, baseKib, addKib });
        if (!verdict.fits) {
          progress.warn(verdict.message);
          ok = false;
          continue;
        }
        progress.info(verdict.message);
      }
      const binDir = join(out, 'images', t.target, profile);
      const r = makeImage({ ...request, packages: [...extra, ...names], binDir });
      if (r.status !== 0) {
        progress.warn(`${what}: make image failed (${r.status}):\n${r.tail}`);
        ok = false;
      } else {
        progress.info(`${what}: ${imageKib(binDir) ?? '?'} KiB image in ${relative(out, binDir)}`);
      }
    }
  }
  return ok;
}

function writeManifest(
  out: string,
  siteFile: string,
  chosen: string[],
  byName: Map<string, PluginInfo>,
  epoch: number,
  repoRoot: string,
): Manifest {
  const inputPaths = [
    ...INPUT_ROOTS.flatMap((p) => listFiles(join(repoRoot, p), repoRoot)),
    ...chosen.flatMap((name) => listFiles(byName.get(name)!.dir, repoRoot)),
  ];
  const inputs = {
    [`site:${basename(siteFile)}`]: sha256(readFileSync(siteFile)),
    ...hashFiles(repoRoot, [...new Set(inputPaths)]),
  };
  const outputs = hashFiles(
    out,
    listFiles(out, out, new Set(['images', '.work'])).filter((p) => p !== 'manifest.json'),
  );
  const manifest: Manifest = { format: 1, source_date_epoch: epoch, tools: tools(), inputs, outputs };
  writeFileSync(join(out, 'manifest.json'), manifestText(manifest));
  return manifest;
}

/** The versions of the tools that shape the bytes. */
function tools(): Record<string, string> {
  const version = (argv: string[]) => {
    try {
      return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n')[0]!
        .trim();
    } catch {
      return 'missing';
    }
  };
  return { node: process.version, zlib: process.versions.zlib ?? '', clang: version(['clang', '--version']) };
}

function summary(built: BuiltPackage[], out: string): string {
  const rows = [...built]
    .sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1))
    .map((p) => [p.spec.name, p.spec.version, p.spec.architecture, kib(p.bytes.length), p.sha256.slice(0, 16)]);
  return `\n${table(['package', 'version', 'arch', 'size', 'sha256'], rows, new Set([3]))}\n\nfeed: ${join(relative(process.cwd(), out) || out, 'feed')}`;
}

export type { PackageSpec };
