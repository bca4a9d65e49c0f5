/**
 * `.apk` packages (OpenWrt 25.12+, apk-tools 3) and their index `packages.adb`, made by the
 * `apk` of an OpenWrt SDK or ImageBuilder (`staging_dir/host/bin/apk`) the way
 * include/package-pack.mk (`apk mkpkg`) and package/Makefile (`apk mkndx`) call it. The
 * ADB format is apk-tools' own and we do not write it ourselves: without such a tool the
 * result says so and nothing is produced.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants as fsConstants } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ErrorCodes, WrtkitError } from '@wrtkit/core';
import type { BuiltPackage, PackageSpec } from '../model.js';
import { checkControlFields } from '../packages/control.js';
import { planData } from '../packages/ipk.js';

export const APK_SKIPPED = 'skipped: no apk tool (pass --openwrt-sdk DIR or --imagebuilder DIR of OpenWrt 25.12+)';

/** Where the SDK and the ImageBuilder keep their host tools. */
const HOST_BIN = join('staging_dir', 'host', 'bin');

export interface ApkToolDirs {
  /** An OpenWrt SDK directory (`--openwrt-sdk DIR`). */
  openwrtSdk?: string;
  /** An OpenWrt ImageBuilder directory (`--imagebuilder DIR`). */
  imagebuilder?: string;
}

export interface ApkTool {
  apk: string;
  /** The SDK's own fakeroot when it has one; else one from PATH is looked for when needed. */
  fakeroot: string | null;
}

export type ApkToolLookup = { found: true; tool: ApkTool } | { found: false; message: string };

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The SDK's apk if given and present, else the ImageBuilder's; never one from PATH (a host
 *  apk-tools 2 or Alpine's 3 is not the build OpenWrt's packages are made with). */
export function findApkTool(dirs: ApkToolDirs): ApkToolLookup {
  const given = [dirs.openwrtSdk, dirs.imagebuilder].filter((d): d is string => d !== undefined && d !== '');
  if (given.length === 0) return { found: false, message: APK_SKIPPED };
  for (const dir of given) {
    const apk = join(dir, HOST_BIN, 'apk');
    if (executable(apk)) {
      const fakeroot = join(dir, HOST_BIN, 'fakeroot');
      return { found: true, tool: { apk, fakeroot: executable(fakeroot) ? fakeroot : null } };
    }
  }
  const looked = given.map((d) => join(d, HOST_BIN, 'apk')).join(', ');
  return {
    found: false,
    message: `skipped: no apk tool at ${looked} (pass --openwrt-sdk DIR or --imagebuilder DIR of OpenWrt 25.12+; older ones build .ipk only)`,
  };
}

/** `<name>-<version>.apk`, package-pack.mk's name (and mkndx's default pkgname-spec). */
export function apkFilename(spec: Pick<PackageSpec, 'name' | 'version'>): string {
  return `${spec.name}-${spec.version}.apk`;
}

/** `sed '/^\s*#!/d'`: the script's body without its interpreter line(s). */
function body(script: string): string {
  const text = script.replace(/\n+$/, '') + '\n';
  return text
    .split('\n')
    .filter((line) => !/^\s*#!/.test(line))
    .join('\n');
}

export interface ApkScript {
  /** apk's script type, e.g. `post-install`. */
  type: string;
  /** The file name in the scripts directory. */
  file: string;
  content: string;
}

/**
 * The scripts package-pack.mk gives apk mkpkg, in its order: post-install and pre-deinstall
 * are always there (they run /lib/functions.sh's default_postinst/default_prerm, then the
 * package's own postinst/prerm), upgrades reuse them with PKG_UPGRADE=1.
 */
export function apkScripts(spec: PackageSpec): ApkScript[] {
  const { preinst, postinst, prerm, postrm } = spec.scripts;
  const head = (lines: string[]) => lines.join('\n') + '\n';
  const postInstall =
    head([
      '#!/bin/sh',
      '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0',
      '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0',
      '. ${IPKG_INSTROOT}/lib/functions.sh',
      'export root="${IPKG_INSTROOT}"',
      `export pkgname="${spec.name}"`,
      'add_group_and_user',
      'default_postinst',
    ]) + (postinst !== undefined ? body(postinst) : '');
  const preDeinstall =
    head([
      '#!/bin/sh',
      '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0',
      '. ${IPKG_INSTROOT}/lib/functions.sh',
      'export root="${IPKG_INSTROOT}"',
      `export pkgname="${spec.name}"`,
      'default_prerm',
    ]) + (prerm !== undefined ? body(prerm) : '');
  const upgrade = (script: string) => head(['#!/bin/sh', 'export PKG_UPGRADE=1']) + body(script);

  const out: ApkScript[] = [];
  if (preinst !== undefined) out.push({ type: 'pre-install', file: 'preinst', content: preinst.replace(/\n+$/, '') + '\n' });
  out.push({ type: 'post-install', file: 'post-install', content: postInstall });
  if (preinst !== undefined) out.push({ type: 'pre-upgrade', file: 'pre-upgrade', content: upgrade(preinst) });
  out.push({ type: 'post-upgrade', file: 'post-upgrade', content: upgrade(postInstall) });
  out.push({ type: 'pre-deinstall', file: 'pre-deinstall', content: preDeinstall });
  if (postrm !== undefined) {
    out.push({ type: 'post-deinstall', file: 'postrm', content: postrm.replace(/\n+$/, '').replace(/^\s*#!/, '#!') + '\n' });
  }
  return out;
}

/**
 * The `apk mkpkg` command line of package-pack.mk (without the tool itself). Differences:
 * no `url:` (PackageSpec has none) and conflicts become `!name` dependencies, apk's way of
 * saying it (package-pack.mk drops CONFLICTS for apk).
 */
export function mkpkgArgs(spec: PackageSpec, filesDir: string, scriptsDir: string, output: string): string[] {
  const info = (key: string, value: string) => ['--info', `${key}:${value}`];
  // make's $(strip): the description on one line, blanks collapsed.
  const description = spec.description.trim().split(/\s+/).join(' ');
  const depends = [
    ...spec.depends.map((d) => d.replace(/[\s()]/g, '')),
    ...(spec.conflicts ?? []).map((c) => '!' + c.replace(/[\s()]/g, '')),
  ];
  return [
    'mkpkg',
    ...info('name', spec.name),
    ...info('version', spec.version),
    ...info('description', description),
    ...info('arch', spec.architecture === 'all' ? 'noarch' : spec.architecture),
    ...info('license', spec.license),
    ...info('origin', spec.source),
    ...info('maintainer', spec.maintainer),
    ...apkScripts(spec).flatMap((s) => ['--script', `${s.type}:${join(scriptsDir, s.file)}`]),
    ...info('depends', depends.join(' ')),
    '--files',
    filesDir,
    '--output',
    output,
  ];
}

/**
 * package/Makefile's `apk mkndx`: an empty directory as root and keys dir so the host's
 * /etc/apk is never read, unsigned packages allowed in, `--sign-key` when a key is given.
 */
export function mkndxArgs(apkFiles: string[], output: string, opts: { root: string; signKey?: string }): string[] {
  return [
    'mkndx',
    '--root',
    opts.root,
    '--keys-dir',
    opts.root,
    '--allow-untrusted',
    ...(opts.signKey !== undefined ? ['--sign-key', opts.signKey] : []),
    '--output',
    output,
    ...apkFiles,
  ];
}

/**
 * The package's file tree as package-pack.mk hands it to `apk mkpkg --files`: the files (and
 * keep.d for unshipped conffiles, as for .ipk), then under /lib/apk/packages/ the `.list` of
 * every file, `.conffiles` and `.conffiles_static` (path and SHA-256 of each shipped one).
 * Every file and directory gets the epoch as mtime. Returns the bytes the files take.
 */
export async function stageApkFiles(spec: PackageSpec, root: string, mtime: number): Promise<number> {
  const plan = planData(spec);
  const dirs: string[] = [];
  const shipped = new Map<string, Uint8Array>();
  let size = 0;
  for (const entry of plan.entries) {
    const path = join(root, entry.name);
    if (entry.type === 'directory') {
      await mkdir(path, { recursive: true });
      await chmod(path, 0o755);
      dirs.push(path);
    } else {
      const data = entry.data ?? new Uint8Array();
      await writeFile(path, data);
      await chmod(path, entry.mode);
      shipped.set(entry.name.slice(1), data);
      size += data.length;
    }
  }
  const meta = join(root, 'lib', 'apk', 'packages');
  await mkdir(meta, { recursive: true });
  const list = [...shipped.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const extra: [string, string][] = [[`${spec.name}.list`, list.map((p) => p + '\n').join('')]];
  if (spec.conffiles.length > 0) {
    extra.push([`${spec.name}.conffiles`, spec.conffiles.map((p) => p + '\n').join('')]);
    const sums = spec.conffiles
      .filter((p) => shipped.has(p))
      .map(
        (p) =>
          `${p} ${createHash('sha256')
            .update(shipped.get(p) as Uint8Array)
            .digest('hex')}\n`,
      );
    if (sums.length > 0) extra.push([`${spec.name}.conffiles_static`, sums.join('')]);
  }
  for (const [name, text] of extra) {
    await writeFile(join(meta, name), text);
    await chmod(join(meta, name), 0o644);
    await utimes(join(meta, name), mtime, mtime);
    size += Buffer.byteLength(text);
  }
  for (const path of [join(root, 'lib'), join(root, 'lib', 'apk'), meta]) dirs.push(path);
  for (const entry of plan.entries) if (entry.type === 'file') await utimes(join(root, entry.name), mtime, mtime);
  // Deepest first, so setting a child's time does not touch its parent's afterwards.
  for (const dir of [...new Set(dirs)].sort((a, b) => b.length - a.length)) await utimes(dir, mtime, mtime);
  return size;
}

/** Runs one command; rejects with its stderr when it fails. Replaceable in tests. */
export type Runner = (argv: string[], env: Record<string, string>) => Promise<void>;

export const spawnRunner: Runner = (argv, env) =>
  new Promise((resolve, reject) => {
    const [command, ...args] = argv as [string, ...string[]];
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (err) =>
      reject(
        new WrtkitError(ErrorCodes.PROCESS_SPAWN, `cannot run ${command}: ${err.message}`, { cause: err, details: { argv } }),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        reject(
          new WrtkitError(ErrorCodes.PROCESS_SPAWN, `${argv.slice(0, 3).join(' ')} … exited ${String(code)}: ${stderr.trim()}`, {
            details: { argv, exitCode: code, stderr },
          }),
        );
      }
    });
  });

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return null;
}

/**
 * apk mkpkg stores the owner of every file as it finds it; OpenWrt runs it under fakeroot
 * so they are root's. The same here, unless we are root already.
 */
export function commandPrefix(tool: ApkTool, uid: number | undefined = process.getuid?.()): string[] {
  if (uid === 0) return [];
  const fakeroot = tool.fakeroot ?? onPath('fakeroot');
  if (fakeroot === null) {
    throw new WrtkitError(
      ErrorCodes.UNSUPPORTED,
      'apk mkpkg must run as root or under fakeroot so the files are owned by root: install fakeroot',
      {
        details: { reason: 'apk-fakeroot' },
      },
    );
  }
  return [fakeroot, '--'];
}

export interface ApkFeedOptions {
  /** SOURCE_DATE_EPOCH: file mtimes and apk's own build time. */
  mtime: number;
  /** An apk (ECDSA/RSA PEM) private key to sign packages.adb with; unsigned without one. */
  signKey?: string;
  run?: Runner;
  /** Overrides the uid the fakeroot decision looks at (tests). */
  uid?: number;
}

export type ApkFeedResult =
  { status: 'skipped'; message: string } | { status: 'built'; packages: BuiltPackage[]; index: string; signed: boolean };

/** Builds every package with `apk mkpkg` into outDir and indexes them into outDir/packages.adb. */
export async function buildApkFeed(
  lookup: ApkToolLookup,
  specs: PackageSpec[],
  outDir: string,
  opts: ApkFeedOptions,
): Promise<ApkFeedResult> {
  if (!lookup.found) return { status: 'skipped', message: lookup.message };
  const { tool } = lookup;
  const run = opts.run ?? spawnRunner;
  const prefix = commandPrefix(tool, opts.uid ?? process.getuid?.());
  const env = { SOURCE_DATE_EPOCH: String(opts.mtime) };
  for (const spec of specs) checkControlFields(spec);

  const work = await mkdtemp(join(tmpdir(), 'wrtkit-apk-'));
  try {
    await mkdir(outDir, { recursive: true });
    const built: { spec: PackageSpec; output: string; size: number }[] = [];
    for (const spec of specs) {
      const filesDir = join(work, spec.name, 'files');
      const scriptsDir = join(work, spec.name, 'scripts');
      await mkdir(filesDir, { recursive: true });
      await mkdir(scriptsDir, { recursive: true });
      const size = await stageApkFiles(spec, filesDir, opts.mtime);
      for (const script of apkScripts(spec)) {
        await writeFile(join(scriptsDir, script.file), script.content);
        await chmod(join(scriptsDir, script.file), 0o755);
      }
      const output = join(outDir, apkFilename(spec));
      await run([...prefix, tool.apk, ...mkpkgArgs(spec, filesDir, scriptsDir, output)], env);
      built.push({ spec, output, size });
    }
    const index = join(outDir, 'packages.adb');
    const root = join(work, 'root');
    await mkdir(root);
    const apkFiles = built.map((b) => b.output).sort();
    await run(
      [tool.apk, ...mkndxArgs(apkFiles, index, { root, ...(opts.signKey !== undefined ? { signKey: opts.signKey } : {}) })],
      env,
    );

    const packages: BuiltPackage[] = [];
    for (const b of built) {
      const bytes = new Uint8Array(await readFile(b.output));
      packages.push({
        spec: b.spec,
        filename: apkFilename(b.spec),
        bytes,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        installedSize: b.size,
      });
    }
    return { status: 'built', packages, index, signed: opts.signKey !== undefined };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
