/**
 * A reader for the small subset of make that OpenWrt package recipes use: top-level
 * assignments, `define … endef` blocks, includes and `$(eval $(call BuildPackage,…))`.
 * Anything else at the top level (conditionals, rules) is refused rather than guessed at:
 * the recipes are the source of truth for what a package installs, so misreading one must
 * fail the build, not ship a wrong package.
 */

/** A `define NAME … endef` block; line numbers index `MakefileDoc.lines`. */
export interface DefineBlock {
  /** The name with the recipe's simple variables expanded (`Package/wrtkit-offload`). */
  name: string;
  /** The line of `define`. */
  start: number;
  /** The line of `endef`. */
  end: number;
  /** The lines between them, verbatim. */
  body: string[];
}

export interface MakefileDoc {
  lines: string[];
  /** `NAME:=value` / `NAME=value` (and `+=`), unexpanded, in file order. */
  vars: Map<string, string>;
  /** `NAME ?= value`: locations a caller may override (WRTKIT_BUILD); kept symbolic. */
  defaults: Map<string, { value: string; line: number }>;
  defines: DefineBlock[];
  /** The `BuildPackage` calls, names expanded. */
  packages: string[];
}

const ASSIGN = /^([A-Za-z_][A-Za-z0-9_]*)\s*(:=|\?=|\+=|=)\s*(.*)$/;
const BUILD_PACKAGE = /^\$\(eval \$\(call BuildPackage,(.*)\)\)$/;

export function parseMakefile(text: string, origin: string): MakefileDoc {
  const lines = text.split('\n');
  const vars = new Map<string, string>();
  const defaults = new Map<string, { value: string; line: number }>();
  const defines: DefineBlock[] = [];
  const packages: string[] = [];
  const fail = (i: number, why: string): never => {
    throw new Error(`${origin}:${i + 1}: ${why}: ${lines[i]}`);
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (/^-?include\s/.test(trimmed)) continue;
    const def = /^define\s+(\S+)\s*$/.exec(line);
    if (def) {
      const start = i;
      while (i < lines.length && (lines[i] ?? '').trim() !== 'endef') i++;
      if (i >= lines.length) fail(start, 'define without endef');
      defines.push({ name: expand(def[1] ?? '', vars), start, end: i, body: lines.slice(start + 1, i) });
      continue;
    }
    const build = BUILD_PACKAGE.exec(trimmed);
    if (build) {
      packages.push(expand(build[1] ?? '', vars));
      continue;
    }
    const assign = ASSIGN.exec(line);
    if (assign) {
      const [, name = '', op, value = ''] = assign;
      if (op === '?=') defaults.set(name, { value, line: i });
      else if (op === '+=') vars.set(name, `${vars.get(name) ?? ''} ${value}`.trim());
      else vars.set(name, value);
      continue;
    }
    fail(i, 'not understood (only assignments, define blocks, includes and BuildPackage are)');
  }
  return { lines, vars, defaults, defines, packages };
}

/**
 * Expands `$(NAME)` where NAME is one of `vars`, recursively. `$$` (make's escaped dollar),
 * function calls (`$(call …)`, `$(if …)`) and variables the recipe does not define
 * (`$(1)`, `$(PKG_BUILD_DIR)`, `$(INSTALL_BIN)`, the `?=` ones) are left as they are; so
 * are variables whose value calls a function (`BPF_ENDIAN:=$(patsubst …)`) unless
 * `functions` is set: we do not evaluate make functions, and their text would not survive
 * splitting a command into words.
 */
export function expand(text: string, vars: ReadonlyMap<string, string>, functions = false, depth = 0): string {
  if (depth > 20) throw new Error(`variable expansion does not end: ${text}`);
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      continue;
    }
    if (text[i + 1] === '$') {
      out += '$$';
      i++;
      continue;
    }
    if (text[i + 1] !== '(') {
      out += c;
      continue;
    }
    const close = matchingParen(text, i + 1);
    const inner = text.slice(i + 2, close);
    let value = /^[A-Za-z_][A-Za-z0-9_]*$/.test(inner) ? vars.get(inner) : undefined;
    if (value !== undefined && !functions && /\$\([a-z-]+ /.test(value)) value = undefined;
    if (value !== undefined) out += expand(value, vars, functions, depth + 1);
    // a function call or a variable we leave: its arguments are expanded (as make would)
    else out += `$(${expand(inner, vars, functions, depth + 1)})`;
    i = close;
  }
  return out;
}

function matchingParen(text: string, open: number): number {
  let level = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') level++;
    else if (text[i] === ')' && --level === 0) return i;
  }
  throw new Error(`unbalanced parentheses: ${text}`);
}

/** Make's own expansion of `$$` once a define is used as text (scripts, descriptions). */
export function unescapeDollars(text: string): string {
  return text.replace(/\$\$/g, '$');
}

/** A command of a define body with its continuation lines joined (`\` + newline). */
export interface LogicalLine {
  /** Index of the first line within the body. */
  first: number;
  /** Index of the last line within the body. */
  last: number;
  text: string;
}

export function logicalLines(body: readonly string[]): LogicalLine[] {
  const out: LogicalLine[] = [];
  for (let i = 0; i < body.length; i++) {
    const first = i;
    let text = body[i] ?? '';
    while (text.endsWith('\\') && i + 1 < body.length) {
      i++;
      text = `${text.slice(0, -1)} ${(body[i] ?? '').trim()}`;
    }
    out.push({ first, last: i, text });
  }
  return out;
}

export function findDefine(doc: MakefileDoc, name: string): DefineBlock | undefined {
  return doc.defines.find((d) => d.name === name);
}

/** Splits a command into words at whitespace outside `$(…)` (`$(call f, a b)` is one word). */
export function words(text: string): string[] {
  const out: string[] = [];
  let word = '';
  let level = 0;
  for (const c of text) {
    if (c === '(') level++;
    else if (c === ')') level = Math.max(0, level - 1);
    if (/\s/.test(c) && level === 0) {
      if (word !== '') out.push(word);
      word = '';
    } else word += c;
  }
  if (word !== '') out.push(word);
  return out;
}
