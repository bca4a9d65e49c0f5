/**
 * Staged changes ("deltas"): the change log libuci keeps per config in its save dir
 * (/tmp/.uci/<config>) until commit. One change per line, a shell-quoted argument:
 *
 *   +pkg.sec='type'       add an anonymous section under its generated name
 *   pkg.sec='type'        set a section (creates it)
 *   pkg.sec.opt='v'       set an option
 *   -pkg.sec[.opt]        delete (with ='n': delete list item n)
 *   |pkg.sec.opt='v'      add_list             ~pkg.sec.opt='v'   del_list
 *   @pkg.sec[.opt]='new'  rename               ^pkg.sec='n'       reorder
 *
 * `uci changes` shows the same entries as `pkg.sec.opt+='v'` / `-='v'`.
 */
import { cStrtoulInt } from './cnum.js';
import { isUciError, uciBadPath, uciInvalid, uciNotFound } from './errors.js';
import { LineReader, UciTokenizer } from './lexer.js';
import type { UciPackage } from './model.js';
import { validateName } from './names.js';
import { uciAddList, uciDelete, uciDelList, uciRename, uciReorder, uciSet, type UciRecorder } from './ops.js';
import { parseUciPath, resolvePath, type UciPath } from './path.js';

export type UciDeltaCommand = 'add' | 'change' | 'remove' | 'rename' | 'reorder' | 'list-add' | 'list-del';

export interface UciDelta {
  cmd: UciDeltaCommand;
  section: string;
  option?: string;
  value?: string;
}

const PREFIX: Record<UciDeltaCommand, string> = {
  add: '+',
  change: '',
  remove: '-',
  rename: '@',
  reorder: '^',
  'list-add': '|',
  'list-del': '~',
};

const COMMAND_OF_PREFIX: Record<string, UciDeltaCommand> = {
  '+': 'add',
  '-': 'remove',
  '@': 'rename',
  '^': 'reorder',
  '|': 'list-add',
  '~': 'list-del',
};

/** A value in single quotes, `'` written as `'\''` (uci show / changes / delta files). */
export function quoteUciValue(value: string): string {
  return `'${value.split("'").join("'\\''")}'`;
}

function target(pkg: string, d: UciDelta): string {
  return d.option === undefined ? `${pkg}.${d.section}` : `${pkg}.${d.section}.${d.option}`;
}

/** One delta-file line (without newline), as uci_save writes it. */
export function formatDeltaLine(pkg: string, d: UciDelta): string {
  const head = PREFIX[d.cmd] + target(pkg, d);
  if (d.cmd === 'remove' && d.value === undefined) return head;
  return `${head}=${quoteUciValue(d.value ?? '')}`;
}

/** The whole delta text for some changes. */
export function formatDelta(pkg: string, deltas: readonly UciDelta[]): string {
  return deltas.map((d) => `${formatDeltaLine(pkg, d)}\n`).join('');
}

/** One line of `uci changes` (without newline). */
export function formatChange(pkg: string, d: UciDelta): string {
  if (d.cmd === 'remove') return `-${target(pkg, d)}`;
  const op = d.cmd === 'list-add' ? '+=' : d.cmd === 'list-del' ? '-=' : '=';
  return `${target(pkg, d)}${op}${quoteUciValue(d.value ?? '')}`;
}

/** uci_parse_delta_tuple: one argument of a delta file into a change. Throws when invalid. */
export function parseDeltaArgument(arg: string): { package: string; delta: UciDelta } {
  const cmd = COMMAND_OF_PREFIX[arg[0] ?? ''] ?? 'change';
  const path = parseUciPath(cmd === 'change' ? arg : arg.slice(1));
  if (path.section === undefined || path.extended) throw uciBadPath(arg);
  switch (cmd) {
    case 'reorder':
      if (path.value === undefined || path.option !== undefined) throw uciInvalid(`bad reorder entry: ${arg}`);
      break;
    case 'rename':
      if (path.value === undefined || !validateName(path.value)) throw uciInvalid(`bad rename entry: ${arg}`);
      break;
    case 'list-add':
    case 'list-del':
      if (path.option === undefined) throw uciInvalid(`bad list entry: ${arg}`);
      break;
    default:
      break;
  }
  const delta: UciDelta = { cmd, section: path.section };
  if (path.option !== undefined) delta.option = path.option;
  if (path.value !== undefined) delta.value = path.value;
  return { package: path.package, delta };
}

export interface DeltaFileEntry {
  /** The entry's text as stored (without its final newline). */
  raw: string;
  /** Undefined when the line does not parse (libuci skips such lines). */
  parsed?: { package: string; delta: UciDelta };
}

/** Reads a delta file; a quoted value may span lines, each entry is one argument. */
export function readDeltaFile(text: string): DeltaFileEntry[] {
  const reader = LineReader.fromText(text);
  const out: DeltaFileEntry[] = [];
  while (!reader.eof) {
    const start = reader.position;
    const t = new UciTokenizer(reader);
    t.readLine();
    if (t.ch(0) === 0) continue;
    let parsed: DeltaFileEntry['parsed'];
    try {
      const arg = t.readArgument(false);
      // Anything after the argument (even trailing blanks) makes the line invalid.
      if (t.rest() !== '') throw uciInvalid('trailing text in delta line');
      parsed = parseDeltaArgument(arg);
    } catch (e) {
      if (!isUciError(e)) throw e;
      parsed = undefined;
    }
    // The entry's own text, over all the lines a quoted value took.
    const raw = reader.text(start, reader.position).replace(/\n$/, '');
    out.push(parsed ? { raw, parsed } : { raw });
  }
  return out;
}

/**
 * Applies one change to a package (libuci's uci_parse_delta_line, minus the parsing).
 * Throws the UCI error when it does not apply; `record` stages it again when given.
 */
export function applyDelta(pkg: UciPackage, d: UciDelta, record?: UciRecorder): void {
  const path: UciPath = { package: pkg.name, section: d.section, extended: false };
  if (d.option !== undefined) path.option = d.option;
  if (d.value !== undefined) path.value = d.value;
  const ptr = resolvePath(pkg, path, false);
  switch (d.cmd) {
    case 'reorder':
      if (!ptr.complete || !ptr.s) throw uciNotFound(`${pkg.name}.${d.section}`);
      uciReorder(pkg, ptr.s, cStrtoulInt(d.value ?? ''), record);
      break;
    case 'rename':
      uciRename(ptr, record);
      break;
    case 'remove':
      uciDelete(ptr, record);
      break;
    case 'list-add':
      uciAddList(ptr, record);
      break;
    case 'list-del':
      uciDelList(ptr, record);
      break;
    case 'add':
    case 'change':
      // Staged again, an added section must stay an add (`+`) to stay anonymous.
      uciSet(ptr, record && d.cmd === 'add' && d.option === undefined ? (x) => record({ ...x, cmd: 'add' }) : record);
      // `+` marks a section libuci named itself: it stays anonymous.
      if (d.cmd === 'add' && d.option === undefined && ptr.s) ptr.s.anonymous = true;
      break;
  }
}

/**
 * Replays a delta file onto a package. Entries for another package or that fail are
 * skipped (libuci keeps as much as it can); every entry of this package is returned
 * for `uci changes`, with the number that applied.
 */
export function applyDeltaFile(pkg: UciPackage, text: string): { entries: UciDelta[]; applied: number } {
  const entries: UciDelta[] = [];
  let applied = 0;
  for (const entry of readDeltaFile(text)) {
    if (!entry.parsed || entry.parsed.package !== pkg.name) continue;
    entries.push(entry.parsed.delta);
    try {
      applyDelta(pkg, entry.parsed.delta);
      applied++;
    } catch (e) {
      if (!isUciError(e)) throw e;
    }
  }
  return { entries, applied };
}
