/**
 * An emulation of OpenWrt's `uci` command line (cli.c) on top of UciContext: the same
 * options (GNU getopt, permuting), commands, output, messages and exit codes, including
 * `batch` mode. Used to check this library against captures of the real tool, and as
 * `wrtkit uci` on hosts without uci.
 */
import { WrtkitError } from '../errors.js';
import type { FileSystem } from '../platform/platform.js';
import { cScanInt, cStrtoulInt } from './cnum.js';
import { UciContext } from './context.js';
import { formatChange, quoteUciValue } from './delta.js';
import { UciErr, UciParseError, uciErrorNumber, uciErrorString, uciNotFound } from './errors.js';
import { exportUci } from './export.js';
import { LineReader, UciTokenizer } from './lexer.js';
import type { UciPackage, UciSection, UciValue } from './model.js';
import { uciAddList, uciAddSection, uciDelete, uciDelList, uciRename, uciReorder, uciSet } from './ops.js';
import type { UciPtr } from './path.js';

export interface UciCliIo {
  fs: FileSystem;
  /** All of standard input (for import and batch). */
  stdin?: string;
}

export interface UciCliDefaults {
  confdir?: string;
  savedir?: string;
  overridedir?: string;
  /** argv[0] in messages and usage (default "uci"). */
  appname?: string;
}

export interface UciCliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const OPTSTRING = 'c:C:d:f:LmnNp:P:qsSt:X';
const MAX_ARGS = 4; // batch: at most this many words per command, the command included

const USAGE = `Usage: %s [<options>] <command> [<arguments>]

Commands:
\tbatch
\texport     [<config>]
\timport     [<config>]
\tchanges    [<config>]
\tcommit     [<config>]
\tadd        <config> <section-type>
\tadd_list   <config>.<section>.<option>=<string>
\tdel_list   <config>.<section>.<option>=<string>
\tshow       [<config>[.<section>[.<option>]]]
\tget        <config>.<section>[.<option>]
\tset        <config>.<section>[.<option>]=<value>
\tdelete     <config>[.<section>[[.<option>][=<id>]]]
\trename     <config>.<section>[.<option>]=<name>
\trevert     <config>[.<section>[.<option>]]
\treorder    <config>.<section>=<position>

Options:
\t-c <path>  set the search path for config files (default: /etc/config)
\t-C <path>  set the search path for config override files (default: /var/run/uci)
\t-d <str>   set the delimiter for list values in uci show
\t-f <file>  use <file> as input instead of stdin
\t-m         when importing, merge data into an existing package
\t-n         name unnamed sections on export (default)
\t-N         don't name unnamed sections
\t-p <path>  add a search path for config change files
\t-P <path>  add a search path for config change files and use as default
\t-t <path>  set save path for config change files
\t-q         quiet mode (don't print error messages)
\t-s         force strict mode (stop on parser errors, default)
\t-S         disable strict mode
\t-X         do not use extended syntax on 'show'

`;

type ParsedOption = { opt: string; arg?: string } | { error: string };

/** GNU getopt: options may follow operands; `--` ends options; -xVALUE or -x VALUE. */
function getopt(argv: readonly string[], appname: string): { options: ParsedOption[]; operands: string[] } {
  const options: ParsedOption[] = [];
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string;
      const at = OPTSTRING.indexOf(c);
      if (c === ':' || at < 0) {
        options.push({ error: `${appname}: invalid option -- '${c}'\n` });
        continue;
      }
      if (OPTSTRING[at + 1] !== ':') {
        options.push({ opt: c });
        continue;
      }
      if (j + 1 < a.length) {
        options.push({ opt: c, arg: a.slice(j + 1) });
      } else if (i + 1 < argv.length) {
        options.push({ opt: c, arg: argv[++i] as string });
      } else {
        options.push({ error: `${appname}: option requires an argument -- '${c}'\n` });
      }
      break;
    }
  }
  return { options, operands };
}

/** strcasecmp against a lowercase ASCII word. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

const SECTION_COMMANDS: Record<string, string> = {
  get: 'get',
  set: 'set',
  ren: 'rename',
  rename: 'rename',
  revert: 'revert',
  reorder: 'reorder',
  del: 'delete',
  delete: 'delete',
  add_list: 'add_list',
  del_list: 'del_list',
};
const PACKAGE_COMMANDS = new Set(['show', 'changes', 'export', 'commit']);
/** Section commands that take `=value`; the others fail quietly when given one. */
const TAKES_VALUE = new Set(['set', 'delete', 'add_list', 'del_list', 'rename', 'reorder']);

class UciCli {
  private stdout = '';
  private stderr = '';
  private readonly appname: string;
  private confdir: string;
  private savedir: string;
  private overridedir: string;
  private readonly deltaPaths: string[] = [];
  private delimiter = ' ';
  private quiet = false;
  private merge = false;
  private noCommit = false;
  private showExt = true;
  private strict = true;
  private perror = false;
  private exportName = false;
  private input: LineReader | undefined;
  private inBatch = false;
  private batchTok: UciTokenizer | undefined;
  private batchTokLoads = -1;
  private ctx!: UciContext;

  constructor(
    private readonly io: UciCliIo,
    defaults: UciCliDefaults,
  ) {
    this.appname = defaults.appname ?? 'uci';
    this.confdir = defaults.confdir ?? '/etc/config';
    this.savedir = defaults.savedir ?? '/tmp/.uci';
    this.overridedir = defaults.overridedir ?? '/var/run/uci';
  }

  private usage(): void {
    this.stderr += USAGE.replace('%s', this.appname);
  }

  private cliError(text: string): void {
    if (!this.quiet) this.stderr += text;
  }

  /** uci_get_errorstr for an error thrown by the library. */
  private describe(error: unknown): string {
    if (!(error instanceof WrtkitError)) throw error;
    const n = uciErrorNumber(error);
    let text = uciErrorString(n);
    if (n === UciErr.PARSE) {
      if (error instanceof UciParseError) {
        text += ` (${error.reason}) at line ${error.line}, byte ${error.byte}`;
      } else if (this.inBatch && this.batchTok && this.ctx.loadCount === this.batchTokLoads) {
        // libuci prints whatever parse context is current: here the batch reader's.
        const t = this.batchTok;
        text += ` (${t.reason ?? 'unknown'}) at line ${t.line}, byte ${t.byte}`;
      }
    }
    return text;
  }

  private cliPerror(error: unknown): void {
    const text = this.describe(error);
    if (!this.quiet) this.stderr += `${this.appname}: ${text}\n`;
  }

  run(argv: readonly string[]): UciCliResult {
    const exitCode = this.main(argv) & 0xff;
    return { stdout: this.stdout, stderr: this.stderr, exitCode };
  }

  private main(argv: readonly string[]): number {
    const { options, operands } = getopt(argv, this.appname);
    for (const o of options) {
      if ('error' in o) {
        this.stderr += o.error;
        this.usage();
        return 0;
      }
      const arg = o.arg ?? '';
      switch (o.opt) {
        case 'c':
          this.confdir = arg;
          break;
        case 'C':
          this.overridedir = arg;
          break;
        case 'd':
          this.delimiter = arg;
          break;
        case 'f': {
          if (this.input) {
            this.cliError('Too many input files.\n');
            return 1;
          }
          let text: string | undefined;
          let problem = 'No such file or directory';
          try {
            text = this.io.fs.tryReadText(arg);
          } catch (e) {
            const errno = e instanceof WrtkitError ? e.details?.errno : undefined;
            problem = errno === 'EACCES' ? 'Permission denied' : errno === 'EISDIR' ? 'Is a directory' : 'Input/output error';
          }
          if (text === undefined) {
            // As uci: strerror without a newline.
            this.cliError(`${this.appname}: ${problem}`);
            return 1;
          }
          this.input = LineReader.fromText(text);
          break;
        }
        case 'm':
          this.merge = true;
          break;
        case 's':
          this.strict = true;
          break;
        case 'S':
          this.strict = false;
          this.perror = true;
          break;
        case 'n':
          this.exportName = true;
          break;
        case 'N':
          this.exportName = false;
          break;
        case 'p':
          this.deltaPaths.push(arg);
          break;
        case 'P':
          this.deltaPaths.push(this.savedir);
          this.savedir = arg;
          this.noCommit = true;
          break;
        case 't':
          this.savedir = arg;
          break;
        case 'q':
          this.quiet = true;
          break;
        case 'X':
          this.showExt = false;
          break;
        default:
          this.usage();
          return 0;
      }
    }
    this.input ??= LineReader.fromText(this.io.stdin ?? '');
    if (operands.length < 1) {
      this.usage();
      return 0;
    }
    this.ctx = new UciContext(this.io.fs, {
      confdir: this.confdir,
      savedir: this.savedir,
      overridedir: this.overridedir,
      deltaPaths: this.deltaPaths,
      strict: this.strict,
      nameAnonymous: this.exportName,
      noCommit: this.noCommit,
      ...(this.perror ? { onParseError: (e: UciParseError) => void (this.stderr += `${e.message}\n`) } : {}),
    });
    const ret = this.command(operands);
    if (ret === 255) this.usage();
    return ret;
  }

  private command(argv: string[]): number {
    const name = asciiLower(argv[0] as string);
    if (name === 'batch' && !this.inBatch) return this.batch();
    const section = SECTION_COMMANDS[name];
    if (section) return this.sectionCommand(section, argv);
    if (PACKAGE_COMMANDS.has(name)) return this.packageCommands(name, argv);
    switch (name) {
      case 'import':
        return this.importCommand(argv);
      case 'help':
        this.usage();
        return 0;
      case 'add':
        return this.addCommand(argv);
      default:
        return 255;
    }
  }

  // ------------------------------------------------------------ batch

  private batch(): number {
    const input = this.input as LineReader;
    this.inBatch = true;
    while (!input.eof) {
      // libuci drops the batch reader's parse context whenever a config was parsed.
      if (!this.batchTok || this.ctx.loadCount !== this.batchTokLoads) {
        this.batchTok = new UciTokenizer(input);
        this.batchTokLoads = this.ctx.loadCount;
      }
      const ret = this.batchCommand(this.batchTok);
      if (ret === 254) return 0;
      if (ret === 255) this.cliError('Unknown command\n');
      this.ctx.unloadAll();
    }
    this.inBatch = false;
    return 0;
  }

  private batchCommand(tok: UciTokenizer): number {
    let args: string[] = [];
    for (let i = 0; i <= MAX_ARGS; i++) {
      if (i === MAX_ARGS) {
        this.cliError('Too many arguments\n');
        return 1;
      }
      let arg: string;
      try {
        arg = tok.readArgument(i === 0);
      } catch (e) {
        this.cliPerror(e);
        args = [];
        break;
      }
      if (arg === '') break;
      args.push(arg);
    }
    if (args.length === 0) return 0;
    if (asciiLower(args[0] as string) === 'exit') return 254;
    return this.command(args);
  }

  // ------------------------------------------------------------ show

  private showValue(value: UciValue, quote: boolean): string {
    if (typeof value === 'string') return `${quote ? quoteUciValue(value) : value}\n`;
    const items = value.map((item) => (!quote && !/[ \t\r\n]/.test(item) ? item : quoteUciValue(item)));
    return `${items.join(this.delimiter)}\n`;
  }

  private showOption(pkg: UciPackage, ref: string, option: string, value: UciValue): void {
    this.stdout += `${pkg.name}.${ref}.${option}=${this.showValue(value, true)}`;
  }

  private showSection(pkg: UciPackage, s: UciSection, ref = s.name): void {
    this.stdout += `${pkg.name}.${ref}=${s.type}\n`;
    for (const { name, value } of s.entries) this.showOption(pkg, ref, name, value);
  }

  private showPackage(pkg: UciPackage): void {
    const index = new Map<string, number>();
    for (const s of pkg.sections) {
      let ref = s.name;
      if (this.showExt) {
        const i = index.get(s.type) ?? 0;
        index.set(s.type, i + 1);
        if (s.anonymous) ref = `@${s.type}[${i}]`;
      }
      this.showSection(pkg, s, ref);
    }
  }

  // ------------------------------------------------------------ package commands

  private packageCommands(cmd: string, argv: string[]): number {
    if (argv.length > 2) return 255;
    if (argv.length === 2) return this.packageCommand(cmd, argv[1] as string);
    let configs: string[];
    try {
      configs = this.ctx.listConfigs();
    } catch (e) {
      this.cliPerror(e);
      return 1;
    }
    for (const name of configs) this.packageCommand(cmd, name);
    return 0;
  }

  private packageCommand(cmd: string, tuple: string): number {
    let ptr: UciPtr;
    try {
      ptr = this.ctx.lookup(tuple);
    } catch (e) {
      this.cliPerror(e);
      return 1;
    }
    try {
      switch (cmd) {
        case 'changes':
          for (const d of this.ctx.changesOf(ptr.p)) this.stdout += `${formatChange(ptr.p.name, d)}\n`;
          return 0;
        case 'commit':
          if (this.noCommit) return 0;
          try {
            this.ctx.commitPackage(ptr.p);
          } catch (e) {
            this.cliPerror(e);
            return 1;
          }
          return 0;
        case 'export':
          this.stdout += exportUci(ptr.p, { mode: 'export', nameAnonymous: this.exportName });
          return 0;
        default:
          if (!ptr.complete) {
            this.cliPerror(uciNotFound(tuple));
            return 1;
          }
          if (ptr.s === undefined) this.showPackage(ptr.p);
          else if (ptr.option === undefined) this.showSection(ptr.p, ptr.s);
          else this.showOption(ptr.p, ptr.s.name, ptr.option, ptr.s.get(ptr.option) as UciValue);
          return 0;
      }
    } finally {
      this.ctx.unload(ptr.p);
    }
  }

  // ------------------------------------------------------------ section commands

  private sectionCommand(cmd: string, argv: string[]): number {
    if (argv.length !== 2) return 255;
    let ptr: UciPtr;
    try {
      ptr = this.ctx.lookup(argv[1] as string);
    } catch (e) {
      this.cliPerror(e);
      return 1;
    }
    if (ptr.value !== undefined && !TAKES_VALUE.has(cmd)) return 1;
    const record = this.ctx.recorder(ptr.p);
    let error: unknown;
    try {
      switch (cmd) {
        case 'get':
          if (!ptr.complete) {
            this.cliPerror(uciNotFound(argv[1] as string));
            return 1;
          }
          if (ptr.s && ptr.option !== undefined) this.stdout += this.showValue(ptr.s.get(ptr.option) as UciValue, false);
          else if (ptr.s) this.stdout += `${ptr.s.type}\n`;
          return 0;
        case 'revert':
          try {
            this.ctx.revertPtr(ptr);
          } catch {
            // uci revert reports success whatever happened.
          }
          return 0;
        case 'rename':
          uciRename(ptr, record);
          break;
        case 'set':
          uciSet(ptr, record);
          break;
        case 'add_list':
          uciAddList(ptr, record);
          break;
        case 'del_list':
          uciDelList(ptr, record);
          break;
        case 'reorder':
          if (!ptr.s || ptr.value === undefined) {
            this.cliPerror(uciNotFound(argv[1] as string));
            return 1;
          }
          uciReorder(ptr.p, ptr.s, cStrtoulInt(ptr.value), record);
          break;
        case 'delete':
          // `delete x.y.z=<id>` wants a number; anything else fails without a word.
          if (ptr.value !== undefined && cScanInt(ptr.value).count === 0) return 1;
          uciDelete(ptr, record);
          break;
      }
      this.ctx.savePackage(ptr.p);
    } catch (e) {
      error = e;
    }
    if (error !== undefined) {
      this.cliPerror(error);
      return 1;
    }
    return 0;
  }

  // ------------------------------------------------------------ import, add

  private importCommand(argv: string[]): number {
    if (argv.length > 2) return 255;
    const name = argv[1];
    if (name === undefined && this.merge) return 255;
    const text = (this.input as LineReader).takeRest();
    try {
      this.ctx.importText(text, { ...(name !== undefined ? { name } : {}), merge: this.merge });
    } catch (e) {
      this.cliPerror(e);
      return 1;
    }
    return 0;
  }

  private addCommand(argv: string[]): number {
    if (argv.length !== 3) return 255;
    let created: UciSection;
    try {
      const pkg = this.ctx.loaded(argv[1] as string);
      created = uciAddSection(pkg, argv[2] as string, this.ctx.recorder(pkg));
      this.ctx.savePackage(pkg);
    } catch (e) {
      this.cliPerror(e);
      // uci add exits with libuci's error number.
      return uciErrorNumber(e);
    }
    this.stdout += `${created.name}\n`;
    return 0;
  }
}

/**
 * Runs one `uci` command line (the arguments after `uci`) against the FileSystem and
 * returns what uci would print and its exit code.
 */
export async function runUciCommand(argv: readonly string[], io: UciCliIo, defaults: UciCliDefaults = {}): Promise<UciCliResult> {
  return new UciCli(io, defaults).run(argv);
}
