/**
 * UTF-8 in plain JavaScript. QuickJS has no TextEncoder/TextDecoder, and the qjs
 * platform moves bytes (pipes, files, later sockets) that must become strings and back.
 *
 * Behaviour follows the WHATWG Encoding Standard, so results match TextEncoder and
 * `new TextDecoder('utf-8', { ignoreBOM: true })` on Node: lone surrogates encode as
 * U+FFFD, and every maximal invalid subsequence decodes to one U+FFFD. A leading BOM is
 * kept (process output and files are passed through, not interpreted).
 */

const REPLACEMENT = 0xfffd;
/** Code units per String.fromCharCode call: large spreads overflow the stack. */
const FLUSH_UNITS = 8192;
/** Bytes per String.fromCharCode.apply call (QuickJS allows at most 65534 arguments). */
const APPLY_BYTES = 32768;
/** Below this, the native fast path costs more than it saves. */
const FAST_MIN_BYTES = 64;

/** Number of bytes `text` takes in UTF-8. */
export function utf8ByteLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3; // BMP, or a lone surrogate that becomes U+FFFD (3 bytes)
  }
  return n;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Encodes a string; lone surrogates become U+FFFD. The result owns its whole buffer. */
export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(utf8ByteLength(text));
  let p = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
      continue;
    }
    if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && isLowSurrogate(next)) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        out[p++] = 0xf0 | (cp >> 18);
        out[p++] = 0x80 | ((cp >> 12) & 0x3f);
        out[p++] = 0x80 | ((cp >> 6) & 0x3f);
        out[p++] = 0x80 | (cp & 0x3f);
        i++;
        continue;
      }
      c = REPLACEMENT;
    }
    out[p++] = 0xe0 | (c >> 12);
    out[p++] = 0x80 | ((c >> 6) & 0x3f);
    out[p++] = 0x80 | (c & 0x3f);
  }
  return out;
}

/**
 * Incremental decoder for byte streams (pipes deliver chunks that may split a
 * multi-byte character). `write` returns the text complete so far; `end` flushes an
 * unfinished sequence as U+FFFD and resets the decoder.
 */
export class Utf8StreamDecoder {
  private codePoint = 0;
  private bytesSeen = 0;
  private bytesNeeded = 0;
  private lower = 0x80;
  private upper = 0xbf;

  write(bytes: Uint8Array): string {
    if (this.bytesNeeded === 0 && bytes.length >= FAST_MIN_BYTES) {
      // Cut before a multi-byte character left incomplete at the end of the chunk.
      let end = bytes.length;
      for (let k = 1; k <= 3 && k <= bytes.length; k++) {
        const b = bytes[end - k] as number;
        if (b < 0x80) break;
        if (b >= 0xc0) {
          if ((b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) > k) end -= k;
          break;
        }
      }
      const text = fastDecode(bytes, end);
      if (text !== undefined) return end === bytes.length ? text : text + this.decodeSlowly(bytes.subarray(end));
    }
    return this.decodeSlowly(bytes);
  }

  /** The WHATWG decoder, byte by byte (invalid input, chunk edges, small chunks). */
  private decodeSlowly(bytes: Uint8Array): string {
    const parts: string[] = [];
    let units: number[] = [];
    const emit = (cp: number): void => {
      if (cp > 0xffff) {
        const v = cp - 0x10000;
        units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
      } else units.push(cp);
      if (units.length >= FLUSH_UNITS) {
        parts.push(String.fromCharCode.apply(null, units));
        units = [];
      }
    };
    const n = bytes.length;
    let i = 0;
    while (i < n) {
      const byte = bytes[i] as number;
      if (this.bytesNeeded === 0) {
        i++;
        if (byte < 0x80) {
          // ASCII is the common case (command output, UCI): skip the closure.
          units.push(byte);
          if (units.length >= FLUSH_UNITS) {
            parts.push(String.fromCharCode.apply(null, units));
            units = [];
          }
        } else if (byte >= 0xc2 && byte <= 0xdf) {
          this.bytesNeeded = 1;
          this.codePoint = byte & 0x1f;
        } else if (byte >= 0xe0 && byte <= 0xef) {
          // E0 and ED narrow the next byte's range: no overlongs, no surrogates.
          if (byte === 0xe0) this.lower = 0xa0;
          if (byte === 0xed) this.upper = 0x9f;
          this.bytesNeeded = 2;
          this.codePoint = byte & 0x0f;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          // F0 and F4 keep the result within U+10000..U+10FFFF.
          if (byte === 0xf0) this.lower = 0x90;
          if (byte === 0xf4) this.upper = 0x8f;
          this.bytesNeeded = 3;
          this.codePoint = byte & 0x07;
        } else emit(REPLACEMENT);
        continue;
      }
      if (byte < this.lower || byte > this.upper) {
        // The sequence so far is one invalid subpart; the byte is looked at again as a
        // possible start (not consumed).
        this.reset();
        emit(REPLACEMENT);
        continue;
      }
      i++;
      this.lower = 0x80;
      this.upper = 0xbf;
      this.codePoint = (this.codePoint << 6) | (byte & 0x3f);
      if (++this.bytesSeen === this.bytesNeeded) {
        const cp = this.codePoint;
        this.reset();
        emit(cp);
      }
    }
    if (units.length > 0) parts.push(String.fromCharCode.apply(null, units));
    return parts.length === 1 ? (parts[0] as string) : parts.join('');
  }

  end(): string {
    if (this.bytesNeeded === 0) return '';
    this.reset();
    return String.fromCharCode(REPLACEMENT);
  }

  private reset(): void {
    this.codePoint = 0;
    this.bytesSeen = 0;
    this.bytesNeeded = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }
}

/**
 * Decodes bytes[0..end) with native string functions, or returns undefined when they
 * are not valid UTF-8. A byte-by-byte loop costs ~150 ns/byte on QuickJS (3 s for
 * 20 MB of command output); this path takes ~0.2 s for the same. Bytes become a
 * Latin-1 string (String.fromCharCode), escape() turns bytes >= 0x80 (and ASCII
 * punctuation) into %XX, and decodeURIComponent() decodes those as UTF-8, throwing on
 * anything invalid (overlongs, encoded surrogates, truncation).
 */
function fastDecode(bytes: Uint8Array, end: number): string | undefined {
  const parts: string[] = [];
  for (let i = 0; i < end; i += APPLY_BYTES) {
    parts.push(String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + APPLY_BYTES)) as unknown as number[]));
  }
  const latin1 = parts.length === 1 ? (parts[0] as string) : parts.join('');
  // No ASCII-only shortcut: a regex scan for high bytes costs more than escape() does.
  try {
    return decodeURIComponent(escape(latin1));
  } catch {
    return undefined;
  }
}

/** Decodes a complete byte sequence; invalid sequences become U+FFFD. */
export function utf8Decode(bytes: Uint8Array): string {
  const decoder = new Utf8StreamDecoder();
  return decoder.write(bytes) + decoder.end();
}
