/**
 * A feed package's Makefile carried out for the binary feed: what package.mk would put
 * into the package, read from the feed package's own files (files/, dist/), with the
 * component table standing in for what the SDK compiles (the eBPF objects, both byte
 * orders). Strict like `install` itself: a file into a directory the install did not make,
 * a source that is missing, a command it does not know, all fail.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PackageFile, PackageSpec } from '../model.js';
import { BPF_ENDIANS, EXTERNAL_VARS } from './components.js';
import type { FeedPackage } from './feed-package.js';
import { expand, parseMakefile } from './makefile.js';
import type { RecipePackage } from './recipe.js';

export interface RealizeOptions {
  /** Where `make -C ebpf/offload` wrote the objects (`<name>.bpfel.o`, `<name>.bpfeb.o`). */
  ebpfDir: string;
}

export function realize(feed: FeedPackage, options: RealizeOptions): PackageSpec[] {
  const plan = feed.binary;
  if (!plan) throw new Error(`${feed.dir} is built by the OpenWrt SDK only (source feed)`);
  const doc = parseMakefile(feed.makefile, `${feed.dir}/Makefile`);
  const locations = new Map([...doc.defaults].map(([k, v]) => [k, v.value]));
  const byPath = new Map(feed.files.map((f) => [f.path, f]));
  const where = (pkg: RecipePackage) => `${feed.dir}/Makefile (${pkg.name})`;

  return feed.packages.map((pkg): PackageSpec => {
    const files = new Map<string, PackageFile>();
    const dirs = new Set<string>();
    const put = (dest: string, data: Uint8Array, mode: number) => {
      const parent = dest.slice(0, dest.lastIndexOf('/')) || '/';
      if (!dirs.has(parent)) throw new Error(`${where(pkg)}: installs ${dest} into ${parent}, which its install did not make`);
      if (files.has(dest)) throw new Error(`${where(pkg)}: installs ${dest} twice`);
      files.set(dest, { path: dest, data, mode });
    };
    for (const op of pkg.install) {
      if (op.kind === 'dir') {
        // install -d makes the parents too
        for (const d of op.dirs) for (let p = d; p !== ''; p = p.slice(0, p.lastIndexOf('/'))) dirs.add(p);
        continue;
      }
      if (op.kind === 'other') {
        const command = op.text.split(/\s+/)[0] ?? '';
        if (plan.ignore?.[command] === undefined) throw new Error(`${where(pkg)}: the binary feed cannot carry out: ${op.text}`);
        continue;
      }
      for (const source of op.sources) {
        if (plan.ebpf && source === plan.ebpf.product) {
          // the SDK compiles the target's byte order; the binary carries both
          for (const endian of BPF_ENDIANS) {
            const dest = op.dest.replace(/\$\(BPF_ENDIAN\)/g, endian);
            if (dest === op.dest || op.intoDir)
              throw new Error(`${where(pkg)}: ${op.text}: the destination must name the byte order ($(BPF_ENDIAN))`);
            put(dest, ebpfObject(options.ebpfDir, plan.ebpf.object, endian), op.mode);
          }
          continue;
        }
        const rel = feedPath(expand(source, locations));
        if (rel === undefined)
          throw new Error(`${where(pkg)}: ${source} is built by the SDK: the binary feed has nothing in its place`);
        if (rel.includes('*')) throw new Error(`${where(pkg)}: wildcards are not supported in install sources: ${source}`);
        const file = byPath.get(rel);
        if (!file) throw new Error(`${where(pkg)}: ${source} (${rel}) is not in the package directory`);
        const dest = op.intoDir ? `${op.dest}/${rel.slice(rel.lastIndexOf('/') + 1)}` : op.dest;
        if (dest.includes('$(')) throw new Error(`${where(pkg)}: cannot evaluate the destination ${dest}`);
        put(dest, file.data, op.mode);
      }
    }
    const architecture = pkg.pkgarch === 'all' || plan.allArch ? 'all' : undefined;
    if (architecture === undefined) throw new Error(`${where(pkg)}: not PKGARCH:=all: built by the SDK only`);
    const spec: PackageSpec = {
      name: pkg.name,
      version: pkg.version,
      architecture,
      depends: packageNames(pkg.depends, where(pkg)),
      section: pkg.section,
      category: pkg.category,
      license: pkg.license,
      maintainer: pkg.maintainer,
      source: feed.source,
      description: pkg.description,
      files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
      conffiles: pkg.conffiles,
      // the recipe's own scripts: the package writer adds package.mk's postinst/prerm, which
      // call default_postinst/default_prerm and run these as postinst-pkg/prerm-pkg, and the
      // /lib/upgrade/keep.d list of conffiles that are not files of the package
      scripts: pkg.scripts,
    };
    if (pkg.conflicts.length > 0) spec.conflicts = packageNames(pkg.conflicts, where(pkg));
    return spec;
  });
}

/** A source inside the package directory, relative to it; undefined for SDK build products. */
function feedPath(source: string): string | undefined {
  if (source.startsWith('$(PKG_BUILD_DIR)/')) return undefined;
  const rel = source.startsWith('$(CURDIR)/')
    ? source.slice('$(CURDIR)/'.length)
    : source.startsWith('./')
      ? source.slice(2)
      : undefined;
  if (rel === undefined || rel.includes('$(') || rel.split('/').includes('..'))
    throw new Error(`not a path in the package directory: ${source}`);
  return rel;
}

/** package-pack.mk's filter_deps: `+` removed, build conditions (`@…`) dropped. */
function packageNames(tokens: readonly string[], where: string): string[] {
  const names = tokens
    .flatMap((t) => expand(t, EXTERNAL_VARS).split(/\s+/))
    .filter(Boolean)
    .map((t) => t.replace(/^\+/, ''))
    .filter((t) => !t.startsWith('@'));
  for (const n of names)
    if (!/^[a-z0-9][a-z0-9+._-]*$/.test(n))
      throw new Error(`${where}: cannot use the dependency ${n} (conditional or unknown variable)`);
  return [...new Set(names)];
}

const EM_BPF = 247;

/** An object of `make -C ebpf/offload`, checked to be BPF of the byte order it is named for. */
function ebpfObject(dir: string, object: string, endian: (typeof BPF_ENDIANS)[number]): Uint8Array {
  const file = path.join(dir, `${object}.bpf${endian}.o`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: make -C ebpf/offload`);
  const data = new Uint8Array(fs.readFileSync(file));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = endian === 'el';
  const ok =
    data.length > 20 &&
    data[0] === 0x7f &&
    String.fromCharCode(...data.subarray(1, 4)) === 'ELF' &&
    data[5] === (little ? 1 : 2) &&
    view.getUint16(18, little) === EM_BPF;
  if (!ok) throw new Error(`${file} is not a ${little ? 'little' : 'big'}-endian eBPF object`);
  return data;
}
