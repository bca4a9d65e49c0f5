/**
 * The in-memory form of a UCI config: a package holds ordered sections, a section holds
 * ordered options; an option is a string or a list of strings.
 */
import { uciDuplicate, uciInvalid } from './errors.js';
import { anonymousSectionName, validateName, validateType } from './names.js';

export type UciValue = string | string[];

/** @internal An option slot; updates replace the value in place so file order is kept. */
export interface UciOptionEntry {
  name: string;
  value: UciValue;
}

function copyValue(value: UciValue | readonly string[]): UciValue {
  return typeof value === 'string' ? value : [...value];
}

export class UciSection {
  type: string;
  name: string;
  /** Written without a name by export/commit (libuci generated its name). */
  anonymous: boolean;
  /** @internal */
  readonly entries: UciOptionEntry[] = [];

  constructor(type: string, name: string, anonymous = false) {
    this.type = type;
    this.name = name;
    this.anonymous = anonymous;
  }

  /** @internal */
  entry(option: string): UciOptionEntry | undefined {
    return this.entries.find((e) => e.name === option);
  }

  has(option: string): boolean {
    return this.entry(option) !== undefined;
  }

  /** The option's value (a copy for lists), or undefined. */
  get(option: string): UciValue | undefined {
    const e = this.entry(option);
    return e === undefined ? undefined : copyValue(e.value);
  }

  /** Sets an option: an existing one keeps its position, a new one goes last. */
  set(option: string, value: UciValue | readonly string[]): void {
    if (!validateName(option)) throw uciInvalid(`invalid UCI option name ${JSON.stringify(option)}`);
    if (typeof value !== 'string' && !Array.isArray(value)) throw uciInvalid(`invalid value for UCI option ${option}`);
    const e = this.entry(option);
    if (e) e.value = copyValue(value);
    else this.entries.push({ name: option, value: copyValue(value) });
  }

  delete(option: string): boolean {
    const i = this.entries.findIndex((e) => e.name === option);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  /** Renames an option in place. */
  renameOption(from: string, to: string): void {
    const e = this.entry(from);
    if (!e) throw uciInvalid(`no UCI option ${from} in section ${this.name}`);
    if (!validateName(to)) throw uciInvalid(`invalid UCI option name ${JSON.stringify(to)}`);
    if (from !== to && this.has(to)) throw uciDuplicate(`${this.name}.${to}`);
    e.name = to;
  }

  /** Options in file order (lists copied). */
  options(): Array<[string, UciValue]> {
    return this.entries.map((e) => [e.name, copyValue(e.value)]);
  }

  clone(): UciSection {
    const s = new UciSection(this.type, this.name, this.anonymous);
    for (const e of this.entries) s.entries.push({ name: e.name, value: copyValue(e.value) });
    return s;
  }
}

export class UciPackage {
  readonly name: string;
  private readonly list: UciSection[] = [];
  /**
   * libuci's n_section: every section ever allocated in this package, named or not. It
   * numbers generated names and never goes down.
   */
  sectionCount = 0;

  constructor(name: string) {
    this.name = name;
  }

  /** Sections in file order. */
  get sections(): readonly UciSection[] {
    return this.list;
  }

  /** The first section with that name (libuci's lookup). */
  section(name: string): UciSection | undefined {
    return this.list.find((s) => s.name === name);
  }

  ofType(type: string): UciSection[] {
    return this.list.filter((s) => s.type === type);
  }

  /**
   * Adds a section at the end. Without a name it is anonymous and gets the name libuci
   * would generate (`cfgXXYYYY`).
   */
  addSection(type: string, name?: string): UciSection {
    if (!validateType(type)) throw uciInvalid(`invalid UCI section type ${JSON.stringify(type)}`);
    if (name !== undefined && name !== '') {
      if (!validateName(name)) throw uciInvalid(`invalid UCI section name ${JSON.stringify(name)}`);
      if (this.section(name)) throw uciDuplicate(`${this.name}.${name}`);
    }
    return this.allocSection(type, name);
  }

  /** @internal uci_alloc_section: no checks; counts the section and names it if anonymous. */
  allocSection(type: string, name?: string): UciSection {
    this.sectionCount++;
    const anonymous = name === undefined || name === '';
    const s = new UciSection(type, anonymous ? anonymousSectionName(this.sectionCount, type) : name, anonymous);
    this.list.push(s);
    return s;
  }

  /** Removes the first section with that name (or that very section). */
  removeSection(section: string | UciSection): boolean {
    const i = typeof section === 'string' ? this.list.findIndex((s) => s.name === section) : this.list.indexOf(section);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  /**
   * Moves a section to index `position` (counted without it); past the end means last.
   * This is uci reorder.
   */
  moveSection(section: string | UciSection, position: number): void {
    const s = typeof section === 'string' ? this.section(section) : section;
    const i = s ? this.list.indexOf(s) : -1;
    if (!s || i < 0) throw uciInvalid(`no UCI section ${String(typeof section === 'string' ? section : section.name)}`);
    this.list.splice(i, 1);
    const at = Math.max(0, Math.min(position, this.list.length));
    this.list.splice(at, 0, s);
  }

  /** Renames a section; it is no longer anonymous (as with uci rename). */
  renameSection(from: string, to: string): void {
    const s = this.section(from);
    if (!s) throw uciInvalid(`no UCI section ${from}`);
    if (!validateName(to)) throw uciInvalid(`invalid UCI section name ${JSON.stringify(to)}`);
    if (from !== to && this.section(to)) throw uciDuplicate(`${this.name}.${to}`);
    s.name = to;
    s.anonymous = false;
  }

  clone(): UciPackage {
    const p = new UciPackage(this.name);
    p.sectionCount = this.sectionCount;
    for (const s of this.list) p.list.push(s.clone());
    return p;
  }
}
