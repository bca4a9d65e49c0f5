/**
 * UCI lookup paths: `config[.section[.option]][=value]`, where section may use the
 * extended syntax `@type[n]` / `@[n]` (n counts from 0; negative counts from the end).
 */
import { cStrtolInt } from './cnum.js';
import { uciBadPath, uciInvalid } from './errors.js';
import type { UciPackage, UciSection } from './model.js';
import { validateName, validatePackage, validateType } from './names.js';

export interface UciPath {
  package: string;
  section?: string;
  option?: string;
  /** Everything after the first `=`, when there is one. */
  value?: string;
  /** The section part is not a plain name (extended syntax, or invalid). */
  extended: boolean;
}

/** uci_parse_ptr. A malformed path throws WRTKIT_ERR_UCI_PARSE (uci's bare "Parse error"). */
export function parseUciPath(input: string, options: { allowValue?: boolean } = {}): UciPath {
  let text = input;
  let value: string | undefined;
  const eq = options.allowValue === false ? -1 : text.indexOf('=');
  if (eq >= 0) {
    value = text.slice(eq + 1);
    text = text.slice(0, eq);
  }
  const parts = text.split('.');
  if (parts.length > 3) throw uciBadPath(input);
  const [pkg = '', section, option] = parts;
  if (!validatePackage(pkg)) throw uciBadPath(input);
  if (option !== undefined && !validateName(option)) throw uciBadPath(input);
  const path: UciPath = { package: pkg, extended: section !== undefined && !validateName(section) };
  if (section !== undefined) path.section = section;
  if (option !== undefined) path.option = option;
  if (value !== undefined) path.value = value;
  return path;
}

/**
 * Finds a section by extended syntax (uci_lookup_ext_section). Bad syntax throws
 * WRTKIT_ERR_UCI_INVALID_ARGUMENT; an index out of range gives undefined.
 */
export function lookupExtendedSection(pkg: UciPackage, spec: string): UciSection | undefined {
  const bad = (): never => {
    throw uciInvalid(`invalid UCI section reference ${JSON.stringify(spec)}`, `${pkg.name}.${spec}`);
  };
  if (!spec.startsWith('@')) bad();
  const open = spec.indexOf('[', 1);
  if (open < 0) bad();
  const close = spec.indexOf(']', open + 1);
  if (close < 0 || close !== spec.length - 1) bad();
  const type = spec.slice(1, open);
  const indexText = spec.slice(open + 1, close);
  // strtol: "" converts to 0 with nothing left over, so `@rule[]` is `@rule[0]`.
  const { value, end } = cStrtolInt(indexText);
  if (indexText.slice(end) !== '') bad();
  if (type !== '' && !validateType(type)) bad();
  const matching = pkg.sections.filter((s) => type === '' || s.type === type);
  let index = value;
  if (index < 0) index += matching.length;
  return index >= 0 ? matching[index] : undefined;
}

/** A path resolved against a loaded package, as libuci's struct uci_ptr after lookup. */
export interface UciPtr {
  package: string;
  /** The section name: for extended lookups, the real name once found. */
  section?: string;
  option?: string;
  value?: string;
  p: UciPackage;
  s?: UciSection;
  /** The option exists. */
  hasOption: boolean;
  /** Everything named in the path exists (UCI_LOOKUP_COMPLETE). */
  complete: boolean;
}

/** uci_lookup_ptr on an already loaded package. */
export function resolvePath(pkg: UciPackage, path: UciPath, extended = true): UciPtr {
  const ptr: UciPtr = { package: path.package, p: pkg, hasOption: false, complete: false };
  if (path.section !== undefined) ptr.section = path.section;
  if (path.option !== undefined) ptr.option = path.option;
  if (path.value !== undefined) ptr.value = path.value;
  if (path.section === undefined) {
    ptr.complete = true;
    return ptr;
  }
  let s: UciSection | undefined;
  if (path.extended) {
    if (!extended) throw uciInvalid(`extended UCI syntax not allowed here: ${path.section}`);
    s = lookupExtendedSection(pkg, path.section);
  } else {
    s = pkg.section(path.section);
  }
  if (!s) return ptr;
  ptr.s = s;
  ptr.section = s.name;
  if (path.option !== undefined) {
    if (!s.has(path.option)) return ptr;
    ptr.hasOption = true;
  }
  ptr.complete = true;
  return ptr;
}

/** Formats a path for messages: `config.section.option`. */
export function formatUciPath(pkg: string, section?: string, option?: string): string {
  return [pkg, section, option].filter((x) => x !== undefined).join('.');
}
