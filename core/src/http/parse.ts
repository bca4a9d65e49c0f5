import { utf8Decode } from '../util/utf8.js';

/**
 * Reading one HTTP/1.x request from a byte stream, chunk by chunk, as the socket hands
 * them over: request line, headers, then a Content-Length body. Anything the server
 * does not take becomes a refusal with the status to answer (400, 411, 413, 431, 505);
 * parsing is strict where leniency would let a request mean two things (bare CR,
 * folded or spaced header names, conflicting lengths, chunked bodies).
 */

/** The request line and headers, once they are complete. */
export interface RequestHead {
  /** As sent: methods are case-sensitive (GET, POST, HEAD, ...). */
  method: string;
  /** As sent: `/path?query`, `http://host/path` (absolute form) or `*`. */
  target: string;
  version: '1.0' | '1.1';
  /** Names in lower case; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** Body length in bytes (0 without Content-Length). */
  contentLength: number;
  /** The client waits for `100 Continue` before it sends the body (curl does above 1 KiB). */
  expectsContinue: boolean;
}

export interface ParseLimits {
  /** Request line + headers, in bytes. */
  maxHeaderBytes: number;
  /** The body, in bytes. */
  maxBodyBytes: number;
}

export type ParseResult =
  | { state: 'incomplete' }
  | { state: 'complete'; head: RequestHead; body: Uint8Array }
  | { state: 'refused'; status: RefusalStatus; reason: string };

/** Bad syntax, Length Required (chunked), Content Too Large, Header Fields Too Large, Version Not Supported. */
export type RefusalStatus = 400 | 411 | 413 | 431 | 505;

const LF = 0x0a;
const CR = 0x0d;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([^ ]+) ([^ ]+) HTTP\/(\d)\.(\d)$/;
/** Control characters other than tab are never part of a request line or header value. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Feed it every chunk with `push`; it answers `incomplete` until the request is complete
 * or refused, and repeats that answer for later chunks (one request per connection:
 * bytes after the body are ignored).
 */
export class RequestParser {
  /** The head, as soon as it is complete (the body may still be on its way). */
  head: RequestHead | undefined;
  private buffered: Uint8Array = new Uint8Array(0);
  /** Where to look for the end of the head next time (what came before has no blank line). */
  private scanFrom = 0;
  private body: Uint8Array | undefined;
  private received = 0;
  private result: ParseResult | undefined;

  constructor(private readonly limits: ParseLimits) {}

  push(chunk: Uint8Array): ParseResult {
    if (this.result) return this.result;
    let rest = chunk;
    if (!this.head) {
      this.buffered = concat(this.buffered, chunk);
      // A client may send empty lines before the request line (RFC 9112, 2.2).
      if (this.scanFrom === 0) this.buffered = this.buffered.subarray(leadingNewlines(this.buffered));
      const end = this.findHeadEnd();
      if (end === undefined) {
        return this.buffered.length > this.limits.maxHeaderBytes ? this.headTooLarge() : { state: 'incomplete' };
      }
      if (end.bodyStart > this.limits.maxHeaderBytes) return this.headTooLarge();
      const parsed = parseHead(utf8Decode(this.buffered.subarray(0, end.headEnd)), this.limits);
      if ('status' in parsed) return this.refuse(parsed.status, parsed.reason);
      this.head = parsed;
      this.body = new Uint8Array(parsed.contentLength);
      rest = this.buffered.subarray(end.bodyStart);
      this.buffered = new Uint8Array(0);
    }
    const body = this.body as Uint8Array;
    const take = Math.min(rest.length, body.length - this.received);
    body.set(rest.subarray(0, take), this.received);
    this.received += take;
    if (this.received < body.length) return { state: 'incomplete' };
    this.result = { state: 'complete', head: this.head, body };
    return this.result;
  }

  /** Finds the blank line that ends the head (CRLF CRLF, or bare LFs). */
  private findHeadEnd(): { headEnd: number; bodyStart: number } | undefined {
    const b = this.buffered;
    for (let i = this.scanFrom; i < b.length; i++) {
      if (b[i] !== LF) continue;
      if (i + 1 >= b.length || (b[i + 1] === CR && i + 2 >= b.length)) {
        this.scanFrom = i; // the next chunk decides
        return undefined;
      }
      if (b[i + 1] === LF) return { headEnd: i + 1, bodyStart: i + 2 };
      if (b[i + 1] === CR && b[i + 2] === LF) return { headEnd: i + 1, bodyStart: i + 3 };
    }
    this.scanFrom = b.length;
    return undefined;
  }

  private headTooLarge(): ParseResult {
    return this.refuse(431, `request line and headers exceed ${this.limits.maxHeaderBytes} bytes`);
  }

  private refuse(status: RefusalStatus, reason: string): ParseResult {
    this.buffered = new Uint8Array(0);
    this.result = { state: 'refused', status, reason };
    return this.result;
  }
}

/** Splits a request target into its raw path and raw query (neither decoded). */
export function splitTarget(target: string): { path: string; query: string } {
  let rest = target;
  const scheme = /^https?:\/\/[^/?#]*/i.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length) || '/';
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const question = rest.indexOf('?');
  return question < 0 ? { path: rest, query: '' } : { path: rest.slice(0, question), query: rest.slice(question + 1) };
}

function parseHead(text: string, limits: ParseLimits): RequestHead | { status: RefusalStatus; reason: string } {
  const bad = (reason: string) => ({ status: 400 as const, reason });
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines[lines.length - 1] === '') lines.pop();
  const requestLine = lines.shift() ?? '';
  const m = REQUEST_LINE.exec(requestLine);
  if (!m || CONTROL.test(requestLine)) return bad('malformed request line');
  const [, method = '', target = '', major, minor] = m;
  if (!TOKEN.test(method)) return bad('malformed method');
  if (/[\x00-\x20\x7f]/.test(target)) return bad('malformed request target');
  if (!(target.startsWith('/') || /^https?:\/\//i.test(target) || (target === '*' && method === 'OPTIONS'))) {
    return bad('request target must be a path (/...) or an absolute http URL');
  }
  if (major !== '1') return { status: 505, reason: `HTTP/${major}.${minor} is not supported (HTTP/1.0 and 1.1 are)` };
  const version = minor === '0' ? '1.0' : '1.1';

  const headers: Record<string, string> = {};
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t')) return bad('folded header lines are not allowed');
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) return bad('malformed header line');
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (CONTROL.test(value)) return bad(`control character in header ${name}`);
    const key = name.toLowerCase();
    const previous = Object.prototype.hasOwnProperty.call(headers, key) ? headers[key] : undefined;
    if (key === 'host' && previous !== undefined) return bad('more than one Host header');
    // defineProperty, not assignment: a header named __proto__ must stay a header.
    Object.defineProperty(headers, key, {
      value: previous === undefined ? value : `${previous}, ${value}`,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (version === '1.1' && headers.host === undefined) return bad('an HTTP/1.1 request needs a Host header');

  // Any transfer coding means a body we cannot measure beforehand: ask for a length.
  if (headers['transfer-encoding'] !== undefined) {
    return { status: 411, reason: `Transfer-Encoding ${headers['transfer-encoding']} is not supported: send Content-Length` };
  }
  let contentLength = 0;
  if (headers['content-length'] !== undefined) {
    const values = headers['content-length'].split(',').map((v) => v.trim());
    if (!values.every((v) => /^\d+$/.test(v) && v === values[0])) return bad('malformed Content-Length');
    contentLength = Number(values[0]);
    if (contentLength > limits.maxBodyBytes) {
      return { status: 413, reason: `body of ${values[0]} bytes exceeds ${limits.maxBodyBytes} bytes` };
    }
  }
  return {
    method,
    target,
    version,
    headers,
    contentLength,
    expectsContinue: version === '1.1' && contentLength > 0 && headers.expect?.toLowerCase() === '100-continue',
  };
}

function leadingNewlines(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && (bytes[i] === CR || bytes[i] === LF)) i++;
  return i;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
