/**
 * The tokenizer of libuci's file.c, reproduced on a byte buffer: quoting, backslashes,
 * `#` comments, `;` separators, multi-line quoted values and line continuation all work
 * by rewriting the line buffer in place exactly as the C code does, so values and the
 * "line N, byte M" of parse errors come out the same. Config files, delta files and
 * `uci batch` input all go through it.
 */
import { UciParseError } from './errors.js';
import { utf8Decode, utf8Encode, validateStr } from './names.js';

const NL = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const SQUOTE = 0x27;
const DQUOTE = 0x22;
const HASH = 0x23;
const SEMICOLON = 0x3b;
const BACKSLASH = 0x5c;

/** isspace() in the C locale. */
export function isCSpace(c: number): boolean {
  return c === SPACE || (c >= 0x09 && c <= 0x0d);
}

/** fgets() over a byte stream: one line per call, newline included; feof() semantics. */
export class LineReader {
  private offset = 0;
  /** Set once a read ran into the end of the data, like feof(). */
  eof = false;

  constructor(private readonly bytes: Uint8Array) {}

  static fromText(text: string): LineReader {
    return new LineReader(utf8Encode(text));
  }

  /** Bytes read so far. */
  get position(): number {
    return this.offset;
  }

  /** The text of bytes [start, end). */
  text(start: number, end: number): string {
    return utf8Decode(this.bytes, start, end);
  }

  /** Everything not read yet, as text; the reader is then at its end. */
  takeRest(): string {
    const rest = utf8Decode(this.bytes, this.offset, this.bytes.length);
    this.offset = this.bytes.length;
    this.eof = true;
    return rest;
  }

  next(): Uint8Array | null {
    if (this.offset >= this.bytes.length) {
      this.eof = true;
      return null;
    }
    const nl = this.bytes.indexOf(NL, this.offset);
    const end = nl < 0 ? this.bytes.length : nl + 1;
    const chunk = this.bytes.subarray(this.offset, end);
    this.offset = end;
    if (nl < 0) this.eof = true;
    return chunk;
  }
}

/** Offset of an argument in the buffer, and the write position while it is being parsed. */
interface Target {
  at: number;
}

export class UciTokenizer {
  /** The line buffer; 0 terminates strings as in C. */
  private readonly buf: number[] = [];
  /** pctx->pos */
  pos = 0;
  /** Lines read (counted when their newline is read). */
  line = 0;
  /** Bytes in the buffer after the last successful read (pctx->buf_filled). */
  private filled = 0;
  /** The reason and byte of the last error raised here (libuci keeps them in pctx). */
  reason: string | undefined;
  byte = 0;

  constructor(readonly reader: LineReader) {}

  /** Byte at i; past the end reads as the terminator. */
  ch(i: number): number {
    return this.buf[i] ?? 0;
  }

  cur(): number {
    return this.ch(this.pos);
  }

  /** The C string starting at offset. */
  str(offset: number): string {
    let end = offset;
    while (this.ch(end) !== 0) end++;
    return utf8Decode(this.buf, offset, end);
  }

  strlen(offset: number): number {
    let end = offset;
    while (this.ch(end) !== 0) end++;
    return end - offset;
  }

  error(reason: string): never {
    this.reason = reason;
    this.byte = this.pos;
    throw new UciParseError(reason, this.line, this.pos);
  }

  /** uci_getln: reads the next line into the buffer at offset (appending for continuations). */
  getln(offset: number): void {
    let ofs = offset;
    for (;;) {
      this.buf[ofs] = 0;
      const chunk = this.reader.next();
      if (!chunk || chunk.length === 0 || chunk[0] === 0) return;
      // A NUL byte ends the C string: the rest of that line is lost, as with fgets+strlen.
      let n = chunk.indexOf(0);
      if (n < 0) n = chunk.length;
      for (let j = 0; j < n; j++) this.buf[ofs + j] = chunk[j] ?? 0;
      this.buf[ofs + n] = 0;
      ofs += n;
      this.filled = ofs;
      if (this.buf[ofs - 1] === NL) {
        this.line++;
        return;
      }
    }
  }

  /** Starts a new logical line at the beginning of the buffer. */
  readLine(): void {
    this.pos = 0;
    this.getln(0);
  }

  /** uci_increase_pos: false when that would run past the data read. */
  increasePos(add: number): boolean {
    if (this.pos + add > this.filled) return false;
    this.pos += add;
    return true;
  }

  skipWhitespace(): void {
    while (this.cur() !== 0 && isCSpace(this.cur())) this.pos++;
  }

  /**
   * strtok(s, " \t") starting at offset: returns the token's offset (or -1) and ends the
   * token with a 0 in place of its delimiter. The parse position does not move.
   */
  strtok(offset: number): number {
    let i = offset;
    while (this.ch(i) === SPACE || this.ch(i) === TAB) i++;
    if (this.ch(i) === 0) return -1;
    const start = i;
    while (this.ch(i) !== 0 && this.ch(i) !== SPACE && this.ch(i) !== TAB) i++;
    if (this.ch(i) !== 0) this.buf[i] = 0;
    return start;
  }

  private addc(target: Target): void {
    this.buf[target.at] = this.cur();
    target.at++;
    this.pos++;
  }

  /**
   * After a backslash: a backslash ending the line joins the next line (returns false,
   * nothing to copy); otherwise the next character is taken literally.
   */
  private parseBackslash(): boolean {
    this.pos++;
    const c = this.cur();
    if (c === 0 || c === NL || (c === CR && this.ch(this.pos + 1) === NL && this.ch(this.pos + 2) === 0)) {
      this.getln(this.pos);
      return false;
    }
    return true;
  }

  private parseDoubleQuote(target: Target): void {
    this.pos++;
    for (;;) {
      const c = this.cur();
      if (c === DQUOTE) {
        this.pos++;
        return;
      }
      if (c === 0) {
        // The value goes on over the next line.
        this.getln(this.pos);
        if (this.cur() === 0) this.error('EOF with unterminated "');
        continue;
      }
      if (c === BACKSLASH && !this.parseBackslash()) continue;
      this.addc(target);
    }
  }

  private parseSingleQuote(target: Target): void {
    this.pos++;
    for (;;) {
      const c = this.cur();
      if (c === SQUOTE) {
        this.pos++;
        return;
      }
      if (c === 0) {
        this.getln(this.pos);
        if (this.cur() === 0) this.error("EOF with unterminated '");
        continue;
      }
      this.addc(target);
    }
  }

  /** parse_str: one word, quoted pieces concatenated, written over itself in the buffer. */
  private parseStr(target: Target): void {
    let next = true;
    done: do {
      const c = this.cur();
      switch (c) {
        case SQUOTE:
          this.parseSingleQuote(target);
          break;
        case DQUOTE:
          this.parseDoubleQuote(target);
          break;
        case HASH:
          // A comment ends the line, even in the middle of a bare word.
          this.buf[this.pos] = 0;
          break done;
        case 0:
          break done;
        case SEMICOLON:
          next = false;
          break done;
        case BACKSLASH:
          // C's `continue` in a do-while re-tests the loop condition: so does this.
          if (!this.parseBackslash()) continue;
          this.addc(target);
          break;
        default:
          this.addc(target);
      }
    } while (this.cur() !== 0 && !isCSpace(this.cur()));
    // Step over the whitespace that ended the word: the terminator may overwrite it.
    if (this.cur() !== 0 && next) this.pos++;
    this.buf[target.at] = 0;
  }

  /** next_arg: the next argument's offset; validates names when asked. */
  nextArg(required: boolean, name: boolean, pkg: boolean): number {
    this.skipWhitespace();
    const val = this.pos;
    if (this.cur() === SEMICOLON) {
      this.buf[this.pos] = 0;
      this.pos++;
    } else {
      this.parseStr({ at: val });
    }
    if (this.ch(val) === 0) {
      if (required) this.error('insufficient arguments');
      return val;
    }
    if (name && !validateStr(this.str(val), name, pkg)) this.error('invalid character in name field');
    return val;
  }

  /** assert_eol: one more argument is an error in strict mode and silently dropped otherwise. */
  assertEol(strict: boolean): void {
    this.skipWhitespace();
    const v = this.nextArg(false, false, false);
    if (this.ch(v) !== 0 && strict) this.error('too many arguments');
  }

  /**
   * uci_parse_argument: the next shell-like argument; `newLine` starts on a fresh line.
   * Returns '' at the end of the line.
   */
  readArgument(newLine: boolean): string {
    if (newLine) this.readLine();
    return this.str(this.nextArg(false, false, false));
  }

  /** What is left of the buffer at the parse position. */
  rest(): string {
    return this.str(this.pos);
  }
}
