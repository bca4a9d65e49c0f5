import { utf8Decode, utf8Encode } from '../util/utf8.js';

/**
 * Query strings and `application/x-www-form-urlencoded` bodies. Whatever a client sends
 * is decoded without throwing: a captive portal meets every kind of broken client, and
 * decodeURIComponent's URIError on `%zz` or a lone `%E9` would turn a typo into a 500.
 */

/**
 * Percent-decodes text as UTF-8. A `%` without two hex digits after it stays as it is;
 * bytes that are not UTF-8 become U+FFFD. `+` is left alone (it is a space only in forms).
 */
export function percentDecode(text: string): string {
  if (text.indexOf('%') < 0) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const percent = text.indexOf('%', i);
    if (percent < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, percent);
    // A run of escapes decodes as one byte sequence: %C3%A9 is one character.
    const bytes: number[] = [];
    let j = percent;
    while (j + 2 < text.length && text.charCodeAt(j) === 0x25 /* % */) {
      const byte = hexByte(text.charCodeAt(j + 1), text.charCodeAt(j + 2));
      if (byte < 0) break;
      bytes.push(byte);
      j += 3;
    }
    if (bytes.length === 0) {
      out += '%';
      i = percent + 1;
    } else {
      out += utf8Decode(Uint8Array.from(bytes));
      i = j;
    }
  }
  return out;
}

/**
 * Decodes `a=1&b=two+words`: `+` is a space, names and values are percent-decoded, a
 * name without `=` has the value '', the last value wins for repeated names.
 */
export function parseForm(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeFormPart(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeFormPart(pair.slice(eq + 1));
    // defineProperty, not assignment: a field named __proto__ must stay a field.
    Object.defineProperty(fields, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return fields;
}

/** Encodes fields as a form body or query string (`+` for spaces), e.g. for a redirect's Location. */
export function encodeForm(fields: Readonly<Record<string, string>>): string {
  return Object.entries(fields)
    .map(([name, value]) => `${encodeFormPart(name)}=${encodeFormPart(value)}`)
    .join('&');
}

function decodeFormPart(text: string): string {
  return percentDecode(text.indexOf('+') < 0 ? text : text.replace(/\+/g, ' '));
}

/** The bytes the WHATWG urlencoded serializer leaves alone: `*-._`, letters and digits. */
function encodeFormPart(text: string): string {
  let out = '';
  for (const byte of utf8Encode(text)) {
    if (
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      byte === 0x2a ||
      byte === 0x2d ||
      byte === 0x2e ||
      byte === 0x5f
    ) {
      out += String.fromCharCode(byte);
    } else if (byte === 0x20) {
      out += '+';
    } else {
      out += `%${byte < 0x10 ? '0' : ''}${byte.toString(16).toUpperCase()}`;
    }
  }
  return out;
}

/** The byte two hex digits spell, or -1. */
function hexByte(high: number, low: number): number {
  const h = hexValue(high);
  const l = hexValue(low);
  return h < 0 || l < 0 ? -1 : h * 16 + l;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}
