/**
 * The packages of a wrtkit build as source-feed package directories: each one's Makefile
 * (a repository recipe adjusted for the feed, or a generated one) and every file it reads
 * (files/, the bundles under dist/, the C and eBPF sources under src/). This is the one
 * model both outputs come from: the source feed writes it out, and the binary feed
 * (realize.ts) carries out each Makefile's install from it, so the two cannot drift.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type BinaryPlan, HOST, NATIVE, PLUGINS, type SourceCopy } from './components.js';
import { genericPluginRecipe, siteRecipe, splitRecipe } from './generate.js';
import { type MakefileDoc, parseMakefile } from './makefile.js';
import { readPackages, type RecipePackage } from './recipe.js';
import { RecipeEditor } from './rewrite.js';

/** A file of a feed package directory. */
export interface FeedFile {
  /** Relative to the package directory (`files/etc/config/offload`, `dist/wrtkit.js`). */
  path: string;
  data: Uint8Array;
  /** 0o755 for what was executable in the repository (or is a script we write), else 0o644. */
  mode: number;
}

export interface FeedPackage {
  /** Directory in the feed: the (first) package's name. */
  dir: string;
  /** Repository-relative origin (PackageSpec.source). */
  source: string;
  makefile: string;
  /** Sorted by path. */
  files: FeedFile[];
  /** The Makefile's packages, as package.mk reads them. */
  packages: RecipePackage[];
  /** How the binary feed builds it; null: only the SDK can (arch-specific). */
  binary: BinaryPlan | null;
}

/** The community's settings, as the site file loader produces them. */
export interface SiteDefaults {
  /** Community slug: the package is `wrtkit-site-<slug>`. */
  slug: string;
  /** The uci-defaults script: `path` on the device (`/etc/uci-defaults/90-wrtkit-site`). */
  uciDefaults: { path: string; script: string };
  /** PKG_VERSION; default SOURCE_DATE_EPOCH, so a newer build of the site file upgrades. */
  version?: string;
}

export interface FeedInput {
  /** The wrtkit repository (recipes, sources). */
  repoRoot: string;
  /** `node scripts/build.mjs --out` of this build: wrtkit.js, plugins/<name>/, acl.d/. */
  buildDir: string;
  /** Plugins to package, by manifest name (`offload`, `pirania-nftables`). */
  plugins: readonly string[];
  /** Build time (seconds): the default version of the site package. */
  sourceDateEpoch: number;
  site?: SiteDefaults;
  /** Where plugins are looked up; default the repository's examples/plugins/* and plugins/*. */
  pluginDirs?: readonly string[];
}

const encoder = new TextEncoder();

export function feedPackages(input: FeedInput): FeedPackage[] {
  const { repoRoot, buildDir } = input;
  if (!Number.isSafeInteger(input.sourceDateEpoch) || input.sourceDateEpoch < 0)
    throw new Error(`SOURCE_DATE_EPOCH must be a whole number of seconds: ${input.sourceDateEpoch}`);
  const out: FeedPackage[] = [];

  // the host: its recipe, files/ and the bundle
  const host = new RecipeEditor(read(repoRoot, `${HOST.recipe}/Makefile`), `${HOST.recipe}/Makefile`)
    .pointIntoPackage()
    .defineBpfEndian();
  out.push(
    feedPackage(host, HOST.source, HOST.binary, [
      ...tree(path.join(repoRoot, HOST.recipe, 'files'), 'files'),
      fileFrom(path.join(buildDir, 'wrtkit.js'), 'dist/wrtkit.js'),
    ]),
  );

  // the native module: built by the SDK only
  const native = new RecipeEditor(read(repoRoot, `${NATIVE.recipe}/Makefile`), `${NATIVE.recipe}/Makefile`);
  out.push(feedPackage(native, NATIVE.source, NATIVE.binary, copies(repoRoot, NATIVE.sources)));

  const plugins = findPlugins(repoRoot, input.pluginDirs);
  const pluginPackages: string[] = [];
  for (const name of [...new Set(input.plugins)].sort()) {
    const plugin = plugins.get(name);
    if (!plugin) throw new Error(`no plugin named ${name} (known: ${[...plugins.keys()].sort().join(', ')})`);
    const built = path.join(buildDir, 'plugins', name);
    if (!fs.existsSync(path.join(built, 'manifest.json')))
      throw new Error(`${name} is not in the build output ${buildDir} (scripts/build.mjs)`);
    const source = path.relative(repoRoot, plugin.dir).split(path.sep).join('/');
    const bundle = fs.readdirSync(built).sort();
    const aclPath = path.join(buildDir, 'acl.d', `wrtkit-${name}.json`);
    const dist = [
      ...bundle.map((f) => fileFrom(path.join(built, f), `dist/${name}/${f}`)),
      ...(fs.existsSync(aclPath) ? [fileFrom(aclPath, `dist/acl.d/wrtkit-${name}.json`)] : []),
    ];
    const filesDir = path.join(plugin.dir, 'openwrt', 'files');
    const files = fs.existsSync(filesDir) ? tree(filesDir, 'files') : [];
    const recipePath = path.join(plugin.dir, 'openwrt', 'Makefile');
    let pkg: FeedPackage;
    if (fs.existsSync(recipePath)) {
      const extra = PLUGINS[name];
      const editor = new RecipeEditor(fs.readFileSync(recipePath, 'utf8'), `${source}/openwrt/Makefile`)
        .pointIntoPackage()
        .defineBpfEndian();
      checkDepends(editor.doc(), `${source}/openwrt/Makefile`, plugin.openwrtDepends);
      const [first] = readPackages(editor.doc(), editor.origin);
      if (!first) throw new Error(`${recipePath}: no package`);
      const added: FeedFile[] = [];
      if (extra?.split) {
        const { split } = extra;
        const part = editor.splitOut(first.name, split.marker, split.name);
        editor.addDepends(first.name, `+${split.name}`);
        const [, release = '1'] = /-r(\d+)$/.exec(first.version) ?? [];
        const text = splitRecipe({
          split,
          from: editor.origin,
          parent: first.name,
          version: first.version.replace(/-r\d+$/, ''),
          release,
          license: first.license,
          part,
        });
        const splitFiles = copies(repoRoot, split.sources);
        out.push(makePackage(split.name, text, split.source, null, splitFiles));
      }
      for (const f of extra?.extraFiles ?? []) {
        editor.addFile(first.name, f.path);
        added.push({ path: `files/${f.path}`, data: encoder.encode(f.content), mode: 0o755 });
      }
      pkg = feedPackage(editor, source, extra?.binary ?? { allArch: false }, [
        ...files,
        ...added,
        ...dist,
        ...copies(repoRoot, extra?.sources ?? []),
      ]);
    } else {
      const text = genericPluginRecipe({
        name,
        source,
        version: plugin.version,
        license: plugin.license,
        title: plugin.title,
        description: plugin.description,
        depends: [...plugin.openwrtDepends, ...plugin.pluginDepends.map((d) => `+wrtkit-${d}`)],
        bundle,
        acl: fs.existsSync(aclPath),
        files: files.map((f) => ({ path: f.path.slice('files/'.length), executable: f.mode === 0o755 })),
      });
      pkg = makePackage(`wrtkit-${name}`, text, source, { allArch: false }, [...files, ...dist]);
    }
    checkBundleInstalled(pkg, name, bundle);
    pluginPackages.push(...pkg.packages.map((p) => p.name));
    out.push(pkg);
  }

  if (input.site) {
    const { slug, uciDefaults } = input.site;
    if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(slug))
      throw new Error(`community slug must be lowercase letters, digits and dashes: ${slug}`);
    if (!/^\/etc\/uci-defaults\/[A-Za-z0-9._-]+$/.test(uciDefaults.path))
      throw new Error(`the site's uci-defaults must be a file in /etc/uci-defaults: ${uciDefaults.path}`);
    const script = uciDefaults.path.slice(1);
    const hostPackage = out[0]?.packages[0];
    const text = siteRecipe({
      slug,
      version: input.site.version ?? String(input.sourceDateEpoch),
      license: hostPackage?.license ?? 'GPL-2.0-only',
      depends: ['wrtkit', ...pluginPackages],
      script,
    });
    out.push(
      makePackage(`wrtkit-site-${slug}`, text, `site:${slug}`, { allArch: false }, [
        { path: `files/${script}`, data: encoder.encode(uciDefaults.script), mode: 0o755 },
      ]),
    );
  }
  return out;
}

function feedPackage(editor: RecipeEditor, source: string, binary: BinaryPlan | null, files: FeedFile[]): FeedPackage {
  const doc = editor.doc();
  const [first] = doc.packages;
  if (first === undefined) throw new Error(`${editor.origin}: no BuildPackage call`);
  return makePackage(first, editor.withHeader(), source, binary, files);
}

function makePackage(dir: string, makefile: string, source: string, binary: BinaryPlan | null, files: FeedFile[]): FeedPackage {
  const packages = readPackages(parseMakefile(makefile, `${dir}/Makefile`), `${dir}/Makefile`);
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]?.path === sorted[i - 1]?.path) throw new Error(`${dir}: two files at ${sorted[i]?.path}`);
  return { dir, source, makefile, files: sorted, packages, binary };
}

/**
 * The recipe's DEPENDS must be +wrtkit and package.json's wrtkit.openwrt.depends (their
 * comments say "keep the two in step"); bpf.mk's build conditions aside.
 */
function checkDepends(doc: MakefileDoc, origin: string, fromPackageJson: string[]): void {
  for (const pkg of readPackages(doc, origin)) {
    const depends = pkg.depends.filter((d) => d !== '$(BPF_DEPENDS)');
    const want = ['+wrtkit', ...fromPackageJson];
    if (depends.join(' ') !== want.join(' '))
      throw new Error(
        `${origin}: DEPENDS is ${depends.join(' ')}, package.json says ${want.join(' ')} (+wrtkit, then wrtkit.openwrt.depends)`,
      );
  }
}

/** Every file of the plugin's build output must be installed: a command bundle a recipe
 * forgot would be a CLI command that fails on the router. */
function checkBundleInstalled(pkg: FeedPackage, name: string, bundle: string[]): void {
  const installed = pkg.packages.flatMap((p) => p.install.flatMap((op) => (op.kind === 'file' ? op.sources : [])));
  for (const file of bundle) {
    const wanted = `$(WRTKIT_BUILD)/${name}/${file}`;
    if (!installed.includes(wanted))
      throw new Error(`${pkg.dir}: the build output ${name}/${file} is not installed by its recipe`);
  }
}

interface PluginInfo {
  dir: string;
  version: string;
  license: string;
  title: string;
  description: string;
  /** wrtkit.openwrt.depends as written (`+nftables`). */
  openwrtDepends: string[];
  /** Other plugins it needs (wrtkit.dependencies). */
  pluginDepends: string[];
}

interface PackageJson {
  version?: string;
  license?: string;
  description?: string;
  wrtkit?: {
    name?: string;
    description?: string;
    dependencies?: Record<string, string>;
    openwrt?: { depends?: string[]; title?: string };
  };
}

export function findPlugins(repoRoot: string, dirs?: readonly string[]): Map<string, PluginInfo> {
  const candidates =
    dirs ??
    ['examples/plugins', 'plugins'].flatMap((d) => {
      const base = path.join(repoRoot, d);
      return fs.existsSync(base)
        ? fs
            .readdirSync(base)
            .sort()
            .map((n) => path.join(base, n))
        : [];
    });
  const plugins = new Map<string, PluginInfo>();
  for (const dir of candidates) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as PackageJson;
    const name = pkg.wrtkit?.name;
    if (!name) continue;
    const description = pkg.description ?? pkg.wrtkit?.description ?? `wrtkit plugin ${name}`;
    plugins.set(name, {
      dir,
      version: pkg.version ?? '0.0.0',
      license: pkg.license ?? 'GPL-2.0-only',
      title: pkg.wrtkit?.openwrt?.title ?? `wrtkit plugin ${name}: ${pkg.wrtkit?.description ?? description}`,
      description,
      openwrtDepends: (pkg.wrtkit?.openwrt?.depends ?? []).map((d) => (d.startsWith('+') ? d : `+${d}`)),
      pluginDepends: Object.keys(pkg.wrtkit?.dependencies ?? {}).sort(),
    });
  }
  return plugins;
}

function read(root: string, rel: string): string {
  return fs.readFileSync(path.join(root, rel), 'utf8');
}

function fileFrom(abs: string, rel: string): FeedFile {
  const stat = fs.statSync(abs);
  return { path: rel, data: new Uint8Array(fs.readFileSync(abs)), mode: stat.mode & 0o111 ? 0o755 : 0o644 };
}

/** Every file under `dir`, as `<prefix>/<relative path>`. */
function tree(dir: string, prefix: string): FeedFile[] {
  const out: FeedFile[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const abs = path.join(dir, entry.name);
    const rel = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...tree(abs, rel));
    else if (entry.isFile()) out.push(fileFrom(abs, rel));
    else throw new Error(`${abs}: only files and directories can go into a package`);
  }
  return out;
}

function copies(repoRoot: string, list: readonly SourceCopy[]): FeedFile[] {
  return list.flatMap((c) => {
    const dir = path.join(repoRoot, c.from);
    const names = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && c.files.test(e.name))
      .map((e) => e.name)
      .sort();
    if (names.length === 0) throw new Error(`${c.from}: no sources matching ${c.files}`);
    return names.map((n) => fileFrom(path.join(dir, n), `${c.to}/${n}`));
  });
}
