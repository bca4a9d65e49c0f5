/**
 * `.ipk` packages for opkg (OpenWrt ≤ 24.10), laid out as OpenWrt's scripts/ipkg-build and
 * include/package-pack.mk make them, written with tar-stream and node:zlib instead of GNU tar
 * and gzip:
 *
 * - the package is a gzip'd tar (not Debian's ar) of `./debian-binary` ("2.0\n"),
 *   `./data.tar.gz` and `./control.tar.gz`, in that order;
 * - data.tar.gz holds `./`, every directory the file paths imply (0755) and the files;
 *   control.tar.gz holds `./`, `control`, `conffiles` and the maintainer scripts (0755);
 * - every entry: uid/gid 0 with empty user/group names (ipkg-build's `--numeric-owner`
 *   under fakeroot), mtime = SOURCE_DATE_EPOCH, entries in GNU tar's `--sort=name` order,
 *   each tar padded to GNU tar's 10240-byte records;
 * - gzip as `gzip -n`: no file name, header mtime 0, OS byte 3 (Unix), level 6.
 *
 * Same spec and epoch give the same bytes (with the same Node/zlib build: deflate's output is
 * zlib's, not a format guarantee).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extract, pack } from 'tar-stream';
import { ErrorCodes, WrtkitError } from '@wrtkit/core';
import type { BuiltPackage, PackageSpec } from '../model.js';
import { checkControlFields, controlText } from './control.js';

export interface IpkOptions {
  /** SOURCE_DATE_EPOCH in seconds: every archive entry's mtime and the SourceDateEpoch field. */
  mtime: number;
}

/** GNU tar writes whole records of 20 blocks; ipkg-build's Installed-Size counts them. */
export const TAR_RECORD_SIZE = 10240;

export interface TarEntry {
  /** As it goes in the archive: `./`, `./usr/`, `./usr/bin/tool`. */
  name: string;
  type: 'file' | 'directory';
  mode: number;
  data?: Uint8Array;
}

/** `<name>_<version>_<arch>.ipk`, the version without its epoch (ipkg-build drops `N:`). */
export function ipkFilename(spec: Pick<PackageSpec, 'name' | 'version' | 'architecture'>): string {
  return `${spec.name}_${spec.version.replace(/^\d+:/, '')}_${spec.architecture}.ipk`;
}

/**
 * gzip with a header that does not depend on the host: zlib already leaves out the name and
 * writes mtime 0, but its OS byte is the one zlib was compiled for (macOS builds say 19), so
 * it is set to 3 (Unix), what `gzip -n` writes on the build machines OpenWrt uses.
 */
export function gzipFixed(data: Uint8Array, level = 6): Uint8Array {
  const out = new Uint8Array(gzipSync(data, { level }));
  out.fill(0, 4, 8);
  out[9] = 3;
  return out;
}

/** A ustar header holds a name of ≤ 100 bytes plus a prefix of ≤ 155 split at a '/'. */
export function fitsUstar(name: string): boolean {
  let rest = name;
  let prefix = '';
  while (rest.length > 100) {
    const slash = rest.indexOf('/');
    if (slash === -1) return false;
    prefix += (prefix ? '/' : '') + rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  }
  return prefix.length <= 155;
}

/**
 * A tar of the entries in the order given, all owned by 0/0 with no user/group names and
 * with the same mtime, padded to whole 10240-byte records as GNU tar pads. Names must fit a
 * plain ustar header (name + prefix): tar-stream would otherwise add a pax header, which
 * opkg's small busybox-derived untar is not known to read, so such paths are refused.
 */
export async function tarArchive(entries: readonly TarEntry[], mtime: number): Promise<Uint8Array> {
  // Checked before the stream starts, so a refused name leaves no half-written pack behind.
  for (const entry of entries) {
    if (!fitsUstar(entry.name) || !/^[\x20-\x7e]+$/.test(entry.name)) {
      throw new WrtkitError(
        ErrorCodes.INVALID_ARGUMENT,
        `tar entry name ${JSON.stringify(entry.name)} does not fit a ustar header`,
        {
          details: { reason: 'tar-name', name: entry.name },
        },
      );
    }
  }
  const archive = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of archive) chunks.push(chunk as Buffer);
  })();
  const date = new Date(mtime * 1000);
  for (const entry of entries) {
    const header = { name: entry.name, type: entry.type, mode: entry.mode, uid: 0, gid: 0, mtime: date };
    if (entry.type === 'file') archive.entry(header, Buffer.from(entry.data ?? new Uint8Array()));
    else archive.entry(header);
  }
  archive.finalize();
  await collected;
  const body = Buffer.concat(chunks);
  const padded = new Uint8Array(Math.ceil(body.length / TAR_RECORD_SIZE) * TAR_RECORD_SIZE);
  padded.set(body);
  return padded;
}

interface DirNode {
  dirs: Map<string, DirNode>;
  files: Map<string, { mode: number; data: Uint8Array }>;
}

/**
 * GNU tar's `--sort=name` walk: a directory, then its entries sorted by name (byte order),
 * each subdirectory's contents right after it. This is not a plain sort of full paths:
 * `./a/b` comes before `./a-b` because `a` < `a-b` inside `./`.
 */
function walk(node: DirNode, name: string, out: TarEntry[]): void {
  out.push({ name, type: 'directory', mode: 0o755 });
  const children = [...new Set([...node.dirs.keys(), ...node.files.keys()])].sort(byteOrder);
  for (const child of children) {
    const dir = node.dirs.get(child);
    if (dir) walk(dir, `${name}${child}/`, out);
    const file = node.files.get(child);
    if (file) out.push({ name: `${name}${child}`, type: 'file', mode: file.mode, data: file.data });
  }
}

function byteOrder(a: string, b: string): number {
  // Names are checked to be ASCII, where UTF-16 order is byte order (C locale).
  return a < b ? -1 : a > b ? 1 : 0;
}

function invalid(spec: PackageSpec, message: string): WrtkitError {
  return new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `package ${JSON.stringify(spec.name)}: ${message}`, {
    details: { package: spec.name, reason: 'package-spec' },
  });
}

/** The path's segments; refuses anything that is not a plain absolute path of printable ASCII. */
function segmentsOf(spec: PackageSpec, path: string): string[] {
  const segments = path.slice(1).split('/');
  // Spaces are refused too: OpenWrt's scripts read conffiles and keep.d lists word by word.
  if (!path.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..' || !/^[\x21-\x7e]+$/.test(s))) {
    throw invalid(spec, `${JSON.stringify(path)} is not an absolute, normalised path of printable ASCII without spaces`);
  }
  return segments;
}

/** What goes in data.tar.gz and the conffiles list, as package-pack.mk + ipkg-build derive them. */
export interface DataPlan {
  entries: TarEntry[];
  /** The control's conffiles, sorted (ipkg-build: `LC_ALL=C sort`); empty means no file. */
  conffiles: string[];
  /** Listed conffiles the package does not ship: sysupgrade keeps them via keep.d. */
  keep: string[];
}

export function planData(spec: PackageSpec): DataPlan {
  const files = new Map<string, { mode: number; data: Uint8Array }>();
  for (const file of spec.files) {
    segmentsOf(spec, file.path);
    if (files.has(file.path)) throw invalid(spec, `${file.path} is listed twice`);
    if (!Number.isInteger(file.mode) || file.mode < 0 || file.mode > 0o7777) {
      throw invalid(spec, `${file.path}: mode ${String(file.mode)} is not a permission mode`);
    }
    files.set(file.path, { mode: file.mode, data: file.data });
  }

  // package-pack.mk: a listed conffile the package does not install as a file is written to
  // /lib/upgrade/keep.d/<name>, so sysupgrade keeps it once created on the device; ipkg-build
  // then lists in conffiles only what exists (a listed directory stands for its files).
  const conffiles = new Set<string>();
  const keep: string[] = [];
  for (const listed of spec.conffiles) {
    const path = listed.replace(/\/+$/, '');
    segmentsOf(spec, path);
    if (files.has(path)) {
      conffiles.add(path);
      continue;
    }
    keep.push(path);
    for (const shipped of files.keys()) if (shipped.startsWith(path + '/')) conffiles.add(shipped);
  }
  if (keep.length > 0) {
    const keepFile = `/lib/upgrade/keep.d/${spec.name}`;
    const existing = files.get(keepFile);
    // `echo $x >> keep.d/<name>`: appended to one the package ships itself.
    const text = new TextEncoder().encode(keep.map((p) => p + '\n').join(''));
    const data = existing ? Buffer.concat([existing.data, text]) : text;
    files.set(keepFile, { mode: existing?.mode ?? 0o644, data });
  }

  const root: DirNode = { dirs: new Map(), files: new Map() };
  for (const [path, file] of files) {
    const segments = path.slice(1).split('/');
    const base = segments.pop() as string;
    let node = root;
    for (const segment of segments) {
      if (node.files.has(segment)) throw invalid(spec, `${path} lies under a file`);
      let next = node.dirs.get(segment);
      if (!next) {
        next = { dirs: new Map(), files: new Map() };
        node.dirs.set(segment, next);
      }
      node = next;
    }
    if (node.dirs.has(base)) throw invalid(spec, `${path} is a file and a directory`);
    node.files.set(base, file);
  }

  const entries: TarEntry[] = [];
  walk(root, './', entries);
  return { entries, conffiles: [...conffiles].sort(byteOrder), keep };
}

/** The content `echo "$VAR" > file` leaves: the text and one newline. */
function echoed(text: string): Uint8Array {
  return new TextEncoder().encode(text.replace(/\n+$/, '') + '\n');
}

/**
 * package-pack.mk always installs these two: they load /lib/functions.sh, whose
 * default_postinst/default_prerm add users, enable the package's init scripts, run its
 * uci-defaults and then source the package's own script, shipped as postinst-pkg/prerm-pkg.
 */
const DEFAULT_POSTINST = [
  '#!/bin/sh',
  '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0',
  '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0',
  '. ${IPKG_INSTROOT}/lib/functions.sh',
  'default_postinst $0 $@',
].join('\n');
const DEFAULT_PRERM = [
  '#!/bin/sh',
  '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0',
  '. ${IPKG_INSTROOT}/lib/functions.sh',
  'default_prerm $0 $@',
].join('\n');

/** The files of control.tar.gz other than `control`, by name. */
export function controlScripts(spec: PackageSpec): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  out.set('postinst', echoed(DEFAULT_POSTINST));
  out.set('prerm', echoed(DEFAULT_PRERM));
  const { preinst, postinst, prerm, postrm } = spec.scripts;
  if (preinst !== undefined) out.set('preinst', echoed(preinst));
  if (postinst !== undefined) out.set('postinst-pkg', echoed(postinst));
  if (prerm !== undefined) out.set('prerm-pkg', echoed(prerm));
  if (postrm !== undefined) out.set('postrm', echoed(postrm));
  return out;
}

function checkEpoch(mtime: number): void {
  // tar-stream writes mtime through a 32-bit integer: after 2038 it would wrap.
  if (!Number.isInteger(mtime) || mtime < 0 || mtime > 0x7fffffff) {
    throw new WrtkitError(
      ErrorCodes.INVALID_ARGUMENT,
      `SOURCE_DATE_EPOCH ${String(mtime)} is not a whole number of seconds in 1970..2038`,
      {
        details: { reason: 'source-date-epoch' },
      },
    );
  }
}

/** Writes the .ipk of a package. Async because tar-stream is a stream. */
export async function writeIpk(spec: PackageSpec, opts: IpkOptions): Promise<BuiltPackage> {
  checkEpoch(opts.mtime);
  checkControlFields(spec);
  const plan = planData(spec);

  const dataTar = await tarArchive(plan.entries, opts.mtime);
  // ipkg-build: Installed-Size=$(zcat < data.tar.gz | wc -c), the uncompressed tar with its
  // headers and record padding (since openwrt/openwrt#14352, Jan 2024, so 24.10; before, the
  // size of data.tar.gz itself).
  const installedSize = dataTar.length;

  const controlFiles = new Map<string, { mode: number; data: Uint8Array }>();
  controlFiles.set('control', { mode: 0o644, data: new TextEncoder().encode(controlText(spec, installedSize, opts.mtime)) });
  if (plan.conffiles.length > 0) {
    controlFiles.set('conffiles', { mode: 0o644, data: new TextEncoder().encode(plan.conffiles.map((p) => p + '\n').join('')) });
  }
  for (const [name, data] of controlScripts(spec)) controlFiles.set(name, { mode: 0o755, data });
  const controlEntries: TarEntry[] = [{ name: './', type: 'directory', mode: 0o755 }];
  for (const name of [...controlFiles.keys()].sort(byteOrder)) {
    const file = controlFiles.get(name) as { mode: number; data: Uint8Array };
    controlEntries.push({ name: `./${name}`, type: 'file', mode: file.mode, data: file.data });
  }
  const controlTar = await tarArchive(controlEntries, opts.mtime);

  // The outer tar lists its members explicitly, so they keep this order, not a sorted one.
  const outer = await tarArchive(
    [
      { name: './debian-binary', type: 'file', mode: 0o644, data: new TextEncoder().encode('2.0\n') },
      { name: './data.tar.gz', type: 'file', mode: 0o644, data: gzipFixed(dataTar) },
      { name: './control.tar.gz', type: 'file', mode: 0o644, data: gzipFixed(controlTar) },
    ],
    opts.mtime,
  );
  const bytes = gzipFixed(outer);
  return {
    spec,
    filename: ipkFilename(spec),
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    installedSize,
  };
}

/** The members of a (gzip'd) tar, in order, with their headers. */
export async function readTar(bytes: Uint8Array): Promise<
  {
    name: string;
    type: string;
    mode: number;
    uid: number;
    gid: number;
    uname: string;
    gname: string;
    mtime: number;
    data: Uint8Array;
  }[]
> {
  const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : Buffer.from(bytes);
  const parser = extract();
  const out: Awaited<ReturnType<typeof readTar>> = [];
  const done = (async () => {
    for await (const entry of parser) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const h = entry.header;
      out.push({
        name: h.name,
        type: h.type ?? 'file',
        mode: h.mode ?? 0,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        uname: h.uname ?? '',
        gname: h.gname ?? '',
        mtime: Math.round((h.mtime?.getTime() ?? 0) / 1000),
        data: Buffer.concat(chunks),
      });
    }
  })();
  parser.end(raw);
  await done;
  return out;
}

/** The `control` of an .ipk, read as ipkg-make-index.sh reads it (`./control.tar.gz` → `./control`). */
export async function readIpkControl(ipk: Uint8Array): Promise<string> {
  const member = (await readTar(ipk)).find((e) => e.name === './control.tar.gz');
  const control = member && (await readTar(member.data)).find((e) => e.name === './control');
  if (!control) {
    throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, 'not an .ipk: no ./control.tar.gz with ./control', {
      details: { reason: 'ipk-format' },
    });
  }
  return new TextDecoder().decode(control.data);
}
