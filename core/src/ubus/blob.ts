/**
 * The blob_attr layer of libubox (blob.h), which every ubus message and every blobmsg
 * value is built from. An attribute is a 4-byte big-endian header followed by a payload:
 *
 *   bit 31      extended (a blobmsg attribute: a name header follows)
 *   bits 24-30  id (a UBUS_ATTR_* number, or a blobmsg type)
 *   bits 0-23   raw length, INCLUDING the 4-byte header, EXCLUDING trailing padding
 *
 * Attributes follow each other at 4-byte aligned offsets, padding is zero. A nested
 * attribute's length covers its children including the padding after its last child
 * (libubox grows a container by each child's padded length), so containers are always
 * aligned and a child's padded end never passes its container's end.
 *
 * Input comes from a socket: every length is checked against its container before use,
 * so a malformed blob raises a WrtkitError instead of reading out of bounds or looping.
 */
import { ErrorCodes, WrtkitError } from '../errors.js';

export const BLOB_HDR_LEN = 4;
export const BLOB_ATTR_EXTENDED = 0x80000000;
export const BLOB_ATTR_ID_MAX = 0x7f;
export const BLOB_ATTR_LEN_MASK = 0x00ffffff;

/** The length an attribute occupies in its container: raw length rounded up to 4. */
export function blobPadLen(rawLen: number): number {
  return (rawLen + 3) & ~3;
}

/** A decoding failure: the bytes are not what libubox would have produced. */
export function protocolError(message: string, details?: Record<string, unknown>): WrtkitError {
  return new WrtkitError(ErrorCodes.UBUS_PROTOCOL, message, details === undefined ? {} : { details });
}

/** An encoding failure: the value cannot be put on the wire. */
export function encodeError(message: string, details?: Record<string, unknown>): WrtkitError {
  return new WrtkitError(ErrorCodes.INVALID_ARGUMENT, message, details === undefined ? {} : { details });
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** One attribute as found in a buffer. `data` is a view into that buffer (copy what you keep). */
export interface BlobAttr {
  id: number;
  extended: boolean;
  /** The payload: header and trailing padding excluded. */
  data: Uint8Array;
  /** Header + payload, as in the length field. */
  rawLen: number;
}

/**
 * The attributes packed in `bytes` (a container's payload, or a whole blob body). Every
 * attribute must fit, padding included, and the attributes must use up the bytes
 * exactly: libubox stops silently at the first bad length, we refuse, because a
 * truncated view of a message is worse than none.
 */
export function readBlobAttrs(bytes: Uint8Array, what = 'blob'): BlobAttr[] {
  const view = viewOf(bytes);
  const attrs: BlobAttr[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const left = bytes.length - offset;
    if (left < BLOB_HDR_LEN) throw protocolError(`${what}: ${left} stray byte(s) after the last attribute`, { offset });
    const idLen = view.getUint32(offset);
    const rawLen = idLen & BLOB_ATTR_LEN_MASK;
    if (rawLen < BLOB_HDR_LEN) throw protocolError(`${what}: attribute length ${rawLen} is shorter than its header`, { offset });
    // Each step advances by at least 4 bytes, so the loop ends.
    if (blobPadLen(rawLen) > left) {
      throw protocolError(`${what}: attribute of ${rawLen} bytes overruns its container (${left} left)`, { offset });
    }
    attrs.push({
      id: (idLen >>> 24) & BLOB_ATTR_ID_MAX,
      extended: (idLen & BLOB_ATTR_EXTENDED) !== 0,
      data: bytes.subarray(offset + BLOB_HDR_LEN, offset + rawLen),
      rawLen,
    });
    offset += blobPadLen(rawLen);
  }
  return attrs;
}

/**
 * Builds blobs the way libubox's blob_buf does: attributes are opened, filled and closed,
 * and closing writes the length back into the header and zero-pads to 4. Nesting is just
 * closing in reverse order, since a container's length is everything written since it
 * was opened (children already padded). The buffer doubles as needed.
 *
 * `buf`, `view` and `pos` are open to the encoders of this package, which write scalars
 * in place after `reserve` (one call per attribute instead of one per field). They rely
 * on what every method keeps true: the bytes from `pos` on are zero (buffers start
 * zeroed and nothing is written past `pos`), so padding needs no writing.
 */
export class BlobWriter {
  /** @internal */
  buf: Uint8Array;
  /** @internal A view of `buf`, replaced with it. */
  view: DataView;
  /** @internal Bytes written so far. */
  pos = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(Math.max(16, initialSize));
    this.view = viewOf(this.buf);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Opens an attribute; returns the token `end` needs. */
  begin(id: number, extended = false): number {
    if (!Number.isInteger(id) || id < 0 || id > BLOB_ATTR_ID_MAX) throw encodeError(`blob attribute id ${id} is not 0..127`);
    const start = this.pos;
    this.u32(((extended ? BLOB_ATTR_EXTENDED : 0) | (id << 24)) >>> 0);
    return start;
  }

  /** Closes the attribute opened at `start`: its length is everything since, then padding. */
  end(start: number): void {
    const rawLen = this.pos - start;
    if (rawLen > BLOB_ATTR_LEN_MASK) throw encodeError(`blob attribute of ${rawLen} bytes exceeds the 24-bit length field`);
    this.view.setUint32(start, (this.view.getUint32(start) | rawLen) >>> 0);
    this.zeros(blobPadLen(rawLen) - rawLen);
  }

  /** A whole attribute with the given payload. */
  put(id: number, payload: Uint8Array, extended = false): void {
    const start = this.begin(id, extended);
    this.bytes(payload);
    this.end(start);
  }

  u8(value: number): void {
    this.reserve(1);
    this.buf[this.pos++] = value & 0xff;
  }

  u16(value: number): void {
    this.reserve(2);
    this.view.setUint16(this.pos, value & 0xffff);
    this.pos += 2;
  }

  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.pos, value >>> 0);
    this.pos += 4;
  }

  /** 64-bit two's complement; the caller checks the range. */
  u64(value: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, value));
    this.pos += 8;
  }

  f64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  zeros(count: number): void {
    this.reserve(count);
    this.buf.fill(0, this.pos, this.pos + count);
    this.pos += count;
  }

  /** Overwrites a 32-bit field written earlier (message header fields). */
  patchU32(offset: number, value: number): void {
    this.view.setUint32(offset, value >>> 0);
  }

  /** The bytes written, in an array of their own. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** Makes room for `count` more bytes at `pos`, growing the buffer geometrically. */
  reserve(count: number): void {
    if (this.pos + count <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + count) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = viewOf(next);
  }
}

// ---- UTF-8 on the hot paths ----------------------------------------------------------------
//
// core/src/util/utf8.ts decodes with a byte-by-byte state machine (plus a native path for
// long input) and encodes into a new array: right for streams, costly for the many short
// names and strings of a blobmsg table, above all on QuickJS (no TextEncoder/TextDecoder,
// tens of ns per interpreted operation). Here strings are written straight into the
// writer's buffer, and read through native string functions: the bytes as a Latin-1
// string (one String.fromCharCode per message, then substring per field), which
// escape() + decodeURIComponent() decode as strict UTF-8.

/**
 * Writes `text` as UTF-8 at `at` (room for text.length * 3 bytes is the caller's), lone
 * surrogates as U+FFFD, exactly as utf8Encode; returns the end.
 */
export function writeUtf8(buf: Uint8Array, at: number, text: string): number {
  let p = at;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
      continue;
    }
    if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        buf[p++] = 0xf0 | (cp >> 18);
        buf[p++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[p++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[p++] = 0x80 | (cp & 0x3f);
        i++;
        continue;
      }
      c = 0xfffd;
    }
    buf[p++] = 0xe0 | (c >> 12);
    buf[p++] = 0x80 | ((c >> 6) & 0x3f);
    buf[p++] = 0x80 | (c & 0x3f);
  }
  return p;
}

/** Bytes per String.fromCharCode.apply call: QuickJS takes at most 65535 arguments, V8 slows down past a few thousand. */
const LATIN1_CHUNK = 4096;

/** bytes[start..end) as a string of one char per byte (U+0000..U+00FF). */
export function latin1Of(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= LATIN1_CHUNK) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let out = '';
  for (let i = start; i < end; i += LATIN1_CHUNK) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + LATIN1_CHUNK)) as unknown as number[]);
  }
  return out;
}

/**
 * A Latin-1 string of bytes read as strict UTF-8: the text, or undefined when the bytes
 * are not valid UTF-8 (what utf8Decode would turn into U+FFFD, so that utf8Encode of its
 * result would not give the bytes back). escape() keeps ASCII letters, digits and
 * `@*_+-./` as they are, so most names need no decoding at all; anything else is %XX,
 * which decodeURIComponent decodes as UTF-8, refusing overlongs, surrogates, code points
 * above U+10FFFF and truncated sequences, as the Encoding Standard does.
 */
export function utf8OfLatin1(latin1: string): string | undefined {
  const escaped = escape(latin1);
  if (escaped === latin1) return latin1;
  try {
    return decodeURIComponent(escaped);
  } catch {
    return undefined;
  }
}

/** bytes[start..end) as strict UTF-8 (see utf8OfLatin1), or undefined. */
export function utf8Strict(bytes: Uint8Array, start: number, end: number): string | undefined {
  return start === end ? '' : utf8OfLatin1(latin1Of(bytes, start, end));
}
