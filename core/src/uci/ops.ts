/**
 * The editing operations with libuci's exact semantics (list.c: uci_set, uci_delete,
 * uci_add_list, uci_del_list, uci_rename, uci_reorder_section, uci_add_section). The
 * parser, delta replay, the context and the CLI all edit packages through these, and
 * each reports the change it made to `record` so it can be staged (libuci's delta list).
 */
import { cScanInt } from './cnum.js';
import type { UciDelta } from './delta.js';
import { uciDuplicate, uciInvalid, uciNotFound } from './errors.js';
import type { UciPackage, UciSection } from './model.js';
import { validateName, validateType } from './names.js';
import { formatUciPath, type UciPtr } from './path.js';

/** Receives each change made; undefined means "internal" (not staged), as while parsing. */
export type UciRecorder = ((delta: UciDelta) => void) | undefined;

function where(ptr: UciPtr): string {
  return formatUciPath(ptr.package, ptr.section, ptr.option);
}

/**
 * uci_set. An empty value deletes (and is a no-op when the target is missing); setting an
 * option to the value it has, or a section to its type, changes nothing and stages nothing.
 */
export function uciSet(ptr: UciPtr, record: UciRecorder): void {
  const value = ptr.value;
  if (value === undefined) throw uciInvalid(`no value given for ${where(ptr)}`, where(ptr));
  if (!(ptr.s || (ptr.option === undefined && ptr.section !== undefined))) {
    throw uciInvalid(`no UCI section for ${where(ptr)}`, where(ptr));
  }
  if (ptr.option === undefined && value !== '' && !validateType(value)) {
    throw uciInvalid(`invalid UCI section type ${JSON.stringify(value)}`, where(ptr));
  }
  const entry = ptr.s && ptr.option !== undefined ? ptr.s.entry(ptr.option) : undefined;
  if (value === '') {
    if (!ptr.complete) return;
    uciDelete(ptr, record);
    return;
  }
  if (!entry && ptr.option !== undefined && ptr.s) {
    ptr.s.entries.push({ name: ptr.option, value });
    ptr.hasOption = true;
  } else if (!ptr.s && ptr.section !== undefined) {
    // libuci would create a section under any name here (even `@x[9]`), which then
    // breaks the file on the next load; refuse instead.
    if (!validateName(ptr.section)) throw uciInvalid(`invalid UCI section name ${JSON.stringify(ptr.section)}`, where(ptr));
    ptr.s = ptr.p.allocSection(value, ptr.section);
  } else if (entry && ptr.option !== undefined) {
    if (typeof entry.value === 'string' && entry.value === value) return;
    entry.value = value;
  } else if (ptr.s && ptr.section !== undefined) {
    if (ptr.s.type === value) return;
    ptr.s.type = value;
  } else {
    throw uciInvalid(`cannot set ${where(ptr)}`, where(ptr));
  }
  record?.(delta('change', ptr.section as string, ptr.option, value));
}

/**
 * uci_delete. With a value on a list option, the value is an index: only that item goes
 * (out of range: nothing happens). Returns false where libuci returns 1 without an error.
 */
export function uciDelete(ptr: UciPtr, record: UciRecorder): boolean {
  if (!ptr.complete) throw uciNotFound(where(ptr));
  const s = ptr.s;
  if (!s) throw uciInvalid(`cannot delete a whole config (${ptr.package})`, where(ptr));
  const entry = ptr.option !== undefined ? s.entry(ptr.option) : undefined;
  if (entry && Array.isArray(entry.value) && ptr.value !== undefined && ptr.value !== '') {
    const scanned = cScanInt(ptr.value);
    if (scanned.count === 0) return false;
    // sscanf hitting the end of input leaves the index unset in libuci: delete nothing.
    const index = scanned.count === 1 ? scanned.value : -1;
    if (index >= 0 && index < entry.value.length) {
      record?.(delta('remove', ptr.section ?? s.name, ptr.option, ptr.value));
      entry.value.splice(index, 1);
    }
    return true;
  }
  record?.(delta('remove', ptr.section ?? s.name, ptr.option));
  if (ptr.option !== undefined) {
    s.delete(ptr.option);
    ptr.hasOption = false;
  } else {
    ptr.p.removeSection(s);
    delete ptr.s;
  }
  return true;
}

/** uci_add_list: appends a list item; a plain option becomes a list in place. */
export function uciAddList(ptr: UciPtr, record: UciRecorder): void {
  const s = ptr.s;
  if (!s) throw uciInvalid(`no UCI section for ${where(ptr)}`, where(ptr));
  if (ptr.value === undefined) throw uciInvalid(`no value given for ${where(ptr)}`, where(ptr));
  // libuci would make an option without a name here; refuse.
  if (ptr.option === undefined) throw uciInvalid(`add_list needs an option: ${where(ptr)}`, where(ptr));
  const entry = s.entry(ptr.option);
  if (!entry) {
    s.entries.push({ name: ptr.option, value: [ptr.value] });
    ptr.hasOption = true;
  } else if (typeof entry.value === 'string') {
    entry.value = [entry.value, ptr.value];
  } else {
    entry.value.push(ptr.value);
  }
  record?.(delta('list-add', ptr.section as string, ptr.option, ptr.value));
}

/** uci_del_list: removes every item equal to the value; quietly nothing on a non-list. */
export function uciDelList(ptr: UciPtr, record: UciRecorder): void {
  const s = ptr.s;
  if (!s) throw uciInvalid(`no UCI section for ${where(ptr)}`, where(ptr));
  const value = ptr.value;
  if (value === undefined) throw uciInvalid(`no value given for ${where(ptr)}`, where(ptr));
  if (ptr.option === undefined) return;
  const entry = s.entry(ptr.option);
  if (!entry || !Array.isArray(entry.value)) return;
  // Staged even when no item matches, as libuci does.
  record?.(delta('list-del', ptr.section as string, ptr.option, value));
  entry.value = entry.value.filter((item) => item !== value);
}

/** uci_rename: renames the option, or the section (which stops being anonymous). */
export function uciRename(ptr: UciPtr, record: UciRecorder): void {
  if (!ptr.complete) throw uciNotFound(where(ptr));
  const s = ptr.s;
  if (!s) throw uciInvalid(`cannot rename a whole config (${ptr.package})`, where(ptr));
  const to = ptr.value;
  if (to === undefined) throw uciInvalid(`no new name given for ${where(ptr)}`, where(ptr));
  // libuci takes any string (and duplicates); a name the parser would reject breaks the file.
  if (!validateName(to)) throw uciInvalid(`invalid UCI name ${JSON.stringify(to)}`, where(ptr));
  if (ptr.option !== undefined) {
    if (to !== ptr.option && s.has(to)) throw uciDuplicate(`${ptr.package}.${s.name}.${to}`);
  } else if (to !== s.name && ptr.p.section(to)) {
    throw uciDuplicate(`${ptr.package}.${to}`);
  }
  record?.(delta('rename', ptr.section ?? s.name, ptr.option, to));
  if (ptr.option !== undefined) {
    const entry = s.entry(ptr.option);
    if (entry) entry.name = to;
  } else {
    s.name = to;
    s.anonymous = false;
  }
}

/** uci_reorder_section. */
export function uciReorder(pkg: UciPackage, section: UciSection, position: number, record: UciRecorder): void {
  pkg.moveSection(section, position);
  record?.(delta('reorder', section.name, undefined, String(position)));
}

/** uci_add_section: a new anonymous section at the end, named as libuci names it. */
export function uciAddSection(pkg: UciPackage, type: string, record: UciRecorder): UciSection {
  // libuci does not check the type here; a type the parser rejects would break the file.
  if (!validateType(type)) throw uciInvalid(`invalid UCI section type ${JSON.stringify(type)}`, pkg.name);
  const s = pkg.allocSection(type);
  record?.(delta('add', s.name, undefined, type));
  return s;
}

function delta(cmd: UciDelta['cmd'], section: string, option?: string, value?: string): UciDelta {
  const d: UciDelta = { cmd, section };
  if (option !== undefined) d.option = option;
  if (value !== undefined) d.value = value;
  return d;
}
