/**
 * The source feed: the wrtkit packages as OpenWrt recipes for people building with the
 * buildroot or the SDK (`src-link wrtkit /path` in feeds.conf, or the directory served as
 * a git feed). One directory per package: its Makefile (the repository's recipe, adjusted
 * as its header says, or a generated one), files/, and what it builds from so the feed
 * stands alone: dist/ (the JavaScript bundles, built on the wrtkit build host: the
 * buildroot has no Node) and src/ (the C and eBPF sources). The same model the binary feed
 * is carried out from (contents/feed-package.ts). Deterministic: sorted, nothing in the
 * content depends on the time or the machine, file times are SOURCE_DATE_EPOCH.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type FeedInput, type FeedPackage, feedPackages } from './contents/feed-package.js';
import { expand, logicalLines, parseMakefile, words } from './contents/makefile.js';

export interface WrittenFeed {
  dir: string;
  /** Package directories, sorted. */
  packages: string[];
}

const README_TITLE = 'wrtkit source feed';

/**
 * Writes the feed into `dir`, which must not exist, be empty, or hold a feed written
 * before (it is replaced, so nothing of an older build stays behind).
 */
export function writeSourceFeed(dir: string, input: FeedInput): WrittenFeed {
  const packages = feedPackages(input).sort((a, b) => (a.dir < b.dir ? -1 : 1));
  for (const pkg of packages) {
    const missing = feedReferences(pkg).filter((ref) => !pkg.files.some((f) => globMatch(ref, f.path)));
    if (missing.length > 0) throw new Error(`${pkg.dir}/Makefile reads what the feed does not have: ${missing.join(', ')}`);
  }
  prepareDir(dir);
  const time = new Date(input.sourceDateEpoch * 1000);
  const write = (rel: string, data: Uint8Array | string, mode: number) => {
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, data, { mode });
    fs.chmodSync(abs, mode);
    fs.utimesSync(abs, time, time);
  };
  for (const pkg of packages) {
    write(`${pkg.dir}/Makefile`, pkg.makefile, 0o644);
    for (const f of pkg.files) write(`${pkg.dir}/${f.path}`, f.data, f.mode);
  }
  write('README', readme(packages), 0o644);
  // directories last, deepest first: writing their files changed their times
  for (const d of directories(dir).reverse()) fs.utimesSync(d, time, time);
  return { dir, packages: packages.map((p) => p.dir) };
}

/**
 * The files a package's Makefile reads from its own directory, relative to it (shell
 * wildcards kept): `./files/…`, `./dist/…`, what WRTKIT_BUILD, WRTKIT_REPO or NATIVE_SRC
 * point at, and the bundles its Build/Compile checks for (`for f in …`).
 */
export function feedReferences(pkg: Pick<FeedPackage, 'dir' | 'makefile' | 'files'>): string[] {
  const doc = parseMakefile(pkg.makefile, `${pkg.dir}/Makefile`);
  const vars = new Map(doc.vars);
  for (const [name, { value }] of doc.defaults) vars.set(name, value);
  const exists = (rel: string) => pkg.files.some((f) => f.path === rel);
  const evaluate = (text: string) => functions(expand(text, vars, true), exists);
  const refs = new Set<string>();
  const add = (token: string) => {
    const t = evaluate(token.replace(/^["']|["'/;]+$/g, ''));
    const rel = t.startsWith('$(CURDIR)/') ? t.slice('$(CURDIR)/'.length) : t.startsWith('./') ? t.slice(2) : undefined;
    if (rel !== undefined && rel !== '' && !rel.includes('$')) refs.add(rel);
  };
  for (const block of doc.defines) {
    for (const line of logicalLines(block.body)) {
      const text = line.text.trim();
      if (text.startsWith('#')) continue;
      for (const token of words(text)) if (!token.includes('$$')) add(token);
      const loop = /for f in ([^;]+); do.*\$\(WRTKIT_BUILD\)\/\$\$\$\$f/.exec(text);
      if (loop) for (const item of (loop[1] ?? '').trim().split(/\s+/)) add(`$(WRTKIT_BUILD)/${item}`);
    }
  }
  return [...refs].sort();
}

/** The two make functions the recipes use to find their sources: `$(wildcard …)`, `$(if …)`. */
function functions(text: string, exists: (rel: string) => boolean): string {
  let out = text;
  for (;;) {
    const wildcard = /\$\(wildcard ([^()$]*(?:\$\(CURDIR\)[^()$]*)*)\)/.exec(out);
    if (wildcard) {
      const arg = (wildcard[1] ?? '').trim();
      const rel = arg.replace(/^\$\(CURDIR\)\//, '');
      out = out.replace(wildcard[0], exists(rel) ? arg : '');
      continue;
    }
    const cond = /\$\(if ([^,()]*),([^,()]*(?:\$\(CURDIR\)[^,()]*)*),([^,()]*(?:\$\(CURDIR\)[^,()]*)*)\)/.exec(out);
    if (cond) {
      out = out.replace(cond[0], (cond[1] ?? '').trim() !== '' ? (cond[2] ?? '') : (cond[3] ?? ''));
      continue;
    }
    return out;
  }
}

/** Shell wildcards (`*`, `?`) within one path segment. */
function globMatch(pattern: string, file: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  return re.test(file);
}

function prepareDir(dir: string): void {
  if (fs.existsSync(dir)) {
    const entries = fs.readdirSync(dir);
    const readme = path.join(dir, 'README');
    const ours = fs.existsSync(readme) && fs.readFileSync(readme, 'utf8').startsWith(README_TITLE);
    if (entries.length > 0 && !ours) throw new Error(`${dir} is not empty and not a wrtkit source feed: not replacing it`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(dir, { recursive: true });
}

function directories(dir: string): string[] {
  const out = [dir];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1)))
    if (e.isDirectory()) out.push(...directories(path.join(dir, e.name)));
  return out;
}

function readme(packages: FeedPackage[]): string {
  const rows = packages.flatMap((p) =>
    p.packages.map((r) => `  ${r.name.padEnd(28)} ${(r.pkgarch === 'all' ? 'all' : 'target').padEnd(7)} ${r.title}`),
  );
  return `${README_TITLE}
${'='.repeat(README_TITLE.length)}

OpenWrt package recipes for wrtkit (a plugin framework for OpenWrt routers), with
everything they build from, so the feed stands alone:

  <package>/Makefile   the recipe (its header says where it comes from and what changed)
  <package>/files/     files it installs as they are (init script, config, uci-defaults)
  <package>/dist/      JavaScript bundles and rpcd ACLs, built by the wrtkit build on its
                       host (the OpenWrt buildroot has no Node)
  <package>/src/       C and eBPF sources (wrtkit-native, offloadd, the offload datapath)

Written by wrtkit's firmware-build: do not edit it here, build it again.

Use
---

Add the feed to feeds.conf (or feeds.conf.default) of an OpenWrt buildroot or SDK:

  src-link wrtkit /path/to/this/directory

(or commit this directory to a git repository and use \`src-git wrtkit <url>\`), then

  ./scripts/feeds update wrtkit
  ./scripts/feeds install -a -p wrtkit
  make menuconfig                       # select the wrtkit packages
  make package/wrtkit/compile           # or any package below, or the whole image

Packages
--------

  ${'name'.padEnd(28)} ${'arch'.padEnd(7)} title
${rows.join('\n')}

"all" packages are the same for every target (the binary feed ships them prebuilt);
"target" ones are compiled by the SDK for the target: wrtkit-native (the QuickJS module
of the host) and, with the offload plugin, offloadd (its daemon) and wrtkit-offload,
whose eBPF datapath bpf.mk's CompileBPF builds for the target's byte order (needs an
OpenWrt with the BPF toolchain, HAS_BPF_TOOLCHAIN).
`;
}
