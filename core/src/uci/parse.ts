/**
 * The config file parser (libuci file.c: uci_import / uci_parse_line). Keywords are
 * `package`, `config`, `option`, `list` (or their first letter); several commands may
 * share a line separated by `;`. In strict mode the first error aborts; otherwise the
 * rest of the bad line is dropped and parsing goes on with the next line.
 */
import { ErrorCodes, WrtkitError } from '../errors.js';
import { UciParseError, uciDuplicate, uciInvalid } from './errors.js';
import { LineReader, UciTokenizer } from './lexer.js';
import { UciPackage, type UciSection } from './model.js';
import { validatePackage, validateType } from './names.js';
import { uciAddList, uciAddSection, uciSet, type UciRecorder } from './ops.js';
import type { UciPtr } from './path.js';

export interface ParseStreamOptions {
  /** The config name; when given, `package` lines are checked but ignored ("single"). */
  name?: string;
  /** Stop at the first error (default true, as uci without -S). */
  strict?: boolean;
  /** Parse into this package instead of a new one (uci import -m); changes are recorded. */
  merge?: UciPackage;
  /** Receives the changes made while merging. */
  record?: UciRecorder;
  /** Called for every parse error as it happens (uci -S prints them). */
  onError?: (error: UciParseError) => void;
}

export interface ParseStreamResult {
  /** All packages completed by the parse (not the merged one). */
  packages: UciPackage[];
  /** The package the stream ended in (the merged one when merging). */
  current: UciPackage | undefined;
  errors: UciParseError[];
}

class FileParser {
  private readonly t: UciTokenizer;
  private readonly strict: boolean;
  private readonly single: boolean;
  private readonly merge: boolean;
  private readonly record: UciRecorder;
  private name: string | undefined;
  private pkg: UciPackage | undefined;
  private section: UciSection | undefined;
  readonly packages: UciPackage[] = [];
  readonly errors: UciParseError[] = [];

  constructor(
    text: string,
    private readonly options: ParseStreamOptions,
  ) {
    this.t = new UciTokenizer(LineReader.fromText(text));
    this.strict = options.strict ?? true;
    this.single = options.name !== undefined;
    this.name = options.name;
    this.merge = options.merge !== undefined;
    this.pkg = options.merge;
    this.record = this.merge ? options.record : undefined;
  }

  run(): ParseStreamResult {
    const t = this.t;
    while (!t.reader.eof) {
      t.readLine();
      try {
        if (t.ch(0) !== 0) this.parseLine();
      } catch (e) {
        if (!(e instanceof UciParseError)) throw e;
        this.errors.push(e);
        this.options.onError?.(e);
        if (this.strict) throw e;
      }
    }
    // A file without any section still makes an (empty) package.
    if (!this.pkg && this.options.name !== undefined) this.switchConfig();
    const current = this.pkg;
    if (this.merge) this.pkg = undefined;
    this.name = undefined;
    this.switchConfig();
    return { packages: this.packages, current, errors: this.errors };
  }

  /** Completes the current package and starts the one named by this.name. */
  private switchConfig(): void {
    if (this.pkg) {
      this.packages.push(this.pkg);
      this.pkg = undefined;
      this.section = undefined;
    }
    if (this.name === undefined) return;
    if (this.packages.some((p) => p.name === this.name)) throw uciDuplicate(this.name);
    this.pkg = new UciPackage(this.name);
  }

  private parseLine(): void {
    const t = this.t;
    t.skipWhitespace();
    for (;;) {
      const w = t.strtok(t.pos);
      if (w < 0) return;
      const word = t.str(w);
      const is = (full: string): boolean => word === full || word === full[0];
      switch (word[0]) {
        case '#':
          return;
        case 'p':
          if (!is('package')) t.error('invalid command');
          this.parsePackage();
          break;
        case 'c':
          if (!is('config')) t.error('invalid command');
          this.parseConfig();
          break;
        case 'o':
          if (!is('option')) t.error('invalid command');
          this.parseOption(false);
          break;
        case 'l':
          if (!is('list')) t.error('invalid command');
          this.parseOption(true);
          break;
        default:
          t.error('invalid command');
      }
    }
  }

  /** Moves past the keyword: strtok ended it with a terminator. */
  private skipKeyword(reason: string): void {
    const t = this.t;
    if (!t.increasePos(t.strlen(t.pos) + 1)) t.error(reason);
  }

  private parsePackage(): void {
    const t = this.t;
    this.skipKeyword('package without name');
    const v = t.nextArg(true, true, true);
    t.assertEol(this.strict);
    if (this.single) return;
    this.name = t.str(v);
    this.switchConfig();
  }

  private parseConfig(): void {
    const t = this.t;
    if (!this.pkg) {
      if (this.name === undefined) t.error('attempting to import a file without a package name');
      this.switchConfig();
    }
    this.skipKeyword('config without name');
    const typeAt = t.nextArg(true, false, false);
    if (!validateType(t.str(typeAt))) t.error('invalid character in type field');
    const nameAt = t.nextArg(false, true, false);
    t.assertEol(this.strict);
    const type = t.str(typeAt);
    const name = t.str(nameAt);
    const pkg = this.pkg as UciPackage;
    if (name === '') {
      this.section = uciAddSection(pkg, type, this.record);
      return;
    }
    const existing = pkg.section(name);
    if (existing && this.strict && existing.type !== type) {
      t.error('section of different type overwrites prior section with same name');
    }
    // A repeated section merges into the first one (libuci sets its type again).
    const ptr: UciPtr = { package: pkg.name, section: name, value: type, p: pkg, hasOption: false, complete: false };
    if (existing) ptr.s = existing;
    uciSet(ptr, this.record);
    this.section = ptr.s;
  }

  private parseOption(list: boolean): void {
    const t = this.t;
    const section = this.section;
    if (!section) return t.error('option/list command found before the first section');
    this.skipKeyword('option without name');
    const nameAt = t.nextArg(true, true, false);
    const valueAt = t.nextArg(false, false, false);
    t.assertEol(this.strict);
    const pkg = this.pkg as UciPackage;
    const option = t.str(nameAt);
    // The pointer is not a completed lookup, so an empty `option x ''` changes nothing.
    const ptr: UciPtr = {
      package: pkg.name,
      section: section.name,
      option,
      value: t.str(valueAt),
      p: pkg,
      s: section,
      hasOption: section.has(option),
      complete: false,
    };
    if (list) uciAddList(ptr, this.record);
    else uciSet(ptr, this.record);
  }
}

/** Parses a stream that may hold several packages (`uci import` without a name). */
export function parseUciStream(text: string, options: ParseStreamOptions = {}): ParseStreamResult {
  if (options.name !== undefined && !validatePackage(options.name)) {
    throw uciInvalid(`invalid UCI config name ${JSON.stringify(options.name)}`);
  }
  return new FileParser(text, options).run();
}

export interface ParseUciOptions {
  /** The config name; without it the text must start with a `package` line. */
  name?: string;
  /** Throw the first UciParseError (default true); otherwise collect them and go on. */
  strict?: boolean;
  onError?: (error: UciParseError) => void;
}

/** Parses one config file. Strict mode throws UciParseError (code WRTKIT_ERR_UCI_PARSE). */
export function parseUci(text: string, options: ParseUciOptions = {}): { package: UciPackage; errors: UciParseError[] } {
  const result = parseUciStream(text, options);
  const pkg = options.name !== undefined ? result.current : result.packages[0];
  if (!pkg) {
    throw new WrtkitError(ErrorCodes.UCI_INVALID_ARGUMENT, 'UCI text has no package name', {
      details: { uciErr: 2 },
    });
  }
  return { package: pkg, errors: result.errors };
}
