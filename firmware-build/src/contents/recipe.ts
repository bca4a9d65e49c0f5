/**
 * One package of a recipe, as package.mk reads it: the `define Package/<name>` fields, its
 * description, conffiles, install commands and maintainer scripts. Install commands are
 * kept as operations (which sources go where, with which mode) so the binary feed can
 * carry out the same install the SDK would, and the source feed can check every file
 * they read is there.
 */
import type { PackageScripts } from '../model.js';
import { expand, findDefine, logicalLines, type MakefileDoc, unescapeDollars, words } from './makefile.js';

/** What rules.mk's INSTALL_* do: `install -m…` (INSTALL_CONF is 0600 in OpenWrt). */
export const INSTALL_MODES = { INSTALL_DATA: 0o644, INSTALL_BIN: 0o755, INSTALL_CONF: 0o600 } as const;

export type InstallOp =
  /** `$(INSTALL_DIR) $(1)/a $(1)/b`: device paths. */
  | { kind: 'dir'; dirs: string[]; text: string }
  /** `$(INSTALL_DATA|BIN|CONF) src… dest`: sources unexpanded past the recipe's own variables. */
  | { kind: 'file'; mode: number; sources: string[]; dest: string; intoDir: boolean; text: string }
  /** Anything else (`$(SED) …`): the binary feed must be told what it means. */
  | { kind: 'other'; text: string };

export interface RecipePackage {
  name: string;
  /** `<PKG_VERSION>-r<PKG_RELEASE>`. */
  version: string;
  license: string;
  maintainer: string;
  section: string;
  category: string;
  title: string;
  /** `all` when the recipe says PKGARCH:=all. */
  pkgarch: string | undefined;
  /** DEPENDS tokens as written, variables expanded (`+wrtkit`, `$(BPF_DEPENDS)`). */
  depends: string[];
  conflicts: string[];
  /** Lines without their indentation, as package.mk puts them in the control file. */
  description: string;
  conffiles: string[];
  install: InstallOp[];
  /** The recipe's own scripts (make's `$$` undone); package.mk wraps postinst and prerm. */
  scripts: PackageScripts;
}

export function readPackages(doc: MakefileDoc, origin: string): RecipePackage[] {
  if (doc.packages.length === 0) throw new Error(`${origin}: no BuildPackage call`);
  return doc.packages.map((name) => readPackage(doc, name, origin));
}

function readPackage(doc: MakefileDoc, name: string, origin: string): RecipePackage {
  const where = `${origin} (${name})`;
  const v = (key: string): string => {
    const value = doc.vars.get(key);
    if (value === undefined) throw new Error(`${where}: ${key} is not set`);
    return field(expand(value, doc.vars));
  };
  const main = findDefine(doc, `Package/${name}`);
  if (!main) throw new Error(`${where}: no define Package/${name}`);
  const fields = new Map<string, string>();
  for (const line of main.body) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^([A-Z_]+)\s*(:=|\+=)\s*(.*)$/.exec(t);
    if (!m) throw new Error(`${where}: not a field: ${line}`);
    const [, key = '', op, value = ''] = m;
    const expanded = expand(value, doc.vars);
    fields.set(key, op === '+=' ? `${fields.get(key) ?? ''} ${expanded}`.trim() : expanded);
  }
  const f = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined) throw new Error(`${where}: ${key} is not set`);
    return field(value);
  };
  const words = (key: string): string[] => (fields.get(key) ?? '').split(/\s+/).filter(Boolean);
  const text = (suffix: string): string | undefined => {
    const block = findDefine(doc, `Package/${name}/${suffix}`);
    return block && unescapeDollars(checkExpanded(expand(block.body.join('\n'), doc.vars), `${where} ${suffix}`));
  };
  // package.mk defaults the description to the title
  const description = (text('description') ?? f('TITLE'))
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .trim();
  const scripts: PackageScripts = {};
  for (const s of ['preinst', 'postinst', 'prerm', 'postrm'] as const) {
    const body = text(s);
    if (body !== undefined) scripts[s] = `${body.replace(/^\s*\n/, '').trimEnd()}\n`;
  }
  const install = findDefine(doc, `Package/${name}/install`);
  if (!install) throw new Error(`${where}: no define Package/${name}/install`);
  return {
    name,
    version: `${v('PKG_VERSION')}-r${v('PKG_RELEASE')}`,
    license: v('PKG_LICENSE'),
    maintainer: v('PKG_MAINTAINER'),
    section: f('SECTION'),
    category: f('CATEGORY'),
    title: f('TITLE'),
    pkgarch: fields.get('PKGARCH'),
    depends: words('DEPENDS'),
    conflicts: words('CONFLICTS'),
    description,
    conffiles: (text('conffiles') ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
    install: readInstall(install.body, doc, where),
    scripts,
  };
}

/** The install define's commands; `$(1)` (the package root) is removed from destinations. */
export function readInstall(body: readonly string[], doc: MakefileDoc, where: string): InstallOp[] {
  const ops: InstallOp[] = [];
  const dirs = new Set<string>();
  for (const line of logicalLines(body)) {
    const text = expand(line.text, doc.vars).trim();
    if (text === '' || text.startsWith('#')) continue;
    const m = /^\$\((INSTALL_DIR|INSTALL_DATA|INSTALL_BIN|INSTALL_CONF)\)\s+(.*)$/.exec(text);
    if (!m) {
      ops.push({ kind: 'other', text });
      continue;
    }
    const [, command = '', rest = ''] = m;
    const args = words(rest);
    const devicePath = (arg: string): string => {
      if (!arg.startsWith('$(1)/')) throw new Error(`${where}: install target outside $(1): ${text}`);
      return arg.slice('$(1)'.length);
    };
    if (command === 'INSTALL_DIR') {
      const made = args.map((a) => devicePath(a).replace(/\/+$/, ''));
      for (const d of made) dirs.add(d);
      ops.push({ kind: 'dir', dirs: made, text });
      continue;
    }
    const destArg = args.pop();
    if (destArg === undefined || args.length === 0) throw new Error(`${where}: install without a source: ${text}`);
    const dest = devicePath(destArg);
    const bare = dest.replace(/\/+$/, '');
    // like install(1): a directory target when several sources, a trailing slash, or a
    // directory this install already made
    const intoDir = args.length > 1 || dest.endsWith('/') || dirs.has(bare);
    const mode = INSTALL_MODES[command as keyof typeof INSTALL_MODES];
    ops.push({ kind: 'file', mode, sources: args, dest: bare, intoDir, text });
  }
  return ops;
}

/** A field value: make's `\#` and `$$` escapes undone. */
function field(value: string): string {
  return unescapeDollars(value.replace(/\\#/g, '#')).trim();
}

/** Text that becomes a file must not keep make syntax we cannot evaluate. */
function checkExpanded(text: string, where: string): string {
  const left = /(?<!\$)\$\((?!1\))[^)]*\)/.exec(text.replace(/\$\$/g, ''));
  if (left) throw new Error(`${where}: cannot evaluate ${left[0]}`);
  return text;
}
