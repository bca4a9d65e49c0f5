/**
 * Names in UCI: what libuci accepts for packages, section names, option names and
 * section types, and the names it generates for anonymous sections.
 *
 * libuci works on C strings in the "C" locale, so every check here is per UTF-8 byte:
 * a non-ASCII character is never alphanumeric and never "printable".
 */

/** UTF-8 bytes of a string (lone surrogates become U+FFFD). QuickJS has no TextEncoder. */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}

/**
 * Decodes UTF-8 bytes[start, end). The parser only cuts byte runs at ASCII characters,
 * so sequences are whole; anything malformed still decodes (as U+FFFD) rather than throw.
 */
export function utf8Decode(bytes: ArrayLike<number>, start = 0, end = bytes.length): string {
  let out = '';
  let units: number[] = [];
  const at = (k: number): number => (k < end ? (bytes[k] ?? 0) : 0);
  const cont = (k: number): boolean => (at(k) & 0xc0) === 0x80;
  for (let i = start; i < end;) {
    const b = at(i);
    let cp = 0xfffd;
    let len = 1;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b < 0xe0 && cont(i + 1)) {
      cp = ((b & 0x1f) << 6) | (at(i + 1) & 0x3f);
      len = 2;
    } else if (b >= 0xe0 && b < 0xf0 && cont(i + 1) && cont(i + 2)) {
      cp = ((b & 0x0f) << 12) | ((at(i + 1) & 0x3f) << 6) | (at(i + 2) & 0x3f);
      len = 3;
      if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
    } else if (b >= 0xf0 && b < 0xf5 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      cp = ((b & 0x07) << 18) | ((at(i + 1) & 0x3f) << 12) | ((at(i + 2) & 0x3f) << 6) | (at(i + 3) & 0x3f);
      len = 4;
      if (cp < 0x10000 || cp > 0x10ffff) cp = 0xfffd;
    }
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      units.push(cp);
    }
    if (units.length > 4096) {
      out += String.fromCharCode(...units);
      units = [];
    }
  }
  return out + String.fromCharCode(...units);
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * libuci's uci_validate_str: never empty; alphanumerics and `_` always pass, `-` passes
 * in package names, and anything else only in "non-name" strings (types, package paths)
 * when it is printable ASCII without space.
 */
export function validateStr(text: string, name: boolean, pkg: boolean): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isAlnum(c) || c === 0x5f) continue;
    if (c === 0x2d && pkg) continue;
    if (name || c < 33 || c > 126) return false;
  }
  return true;
}

/** Section and option names: `[A-Za-z0-9_]+`. */
export function validateName(text: string): boolean {
  return validateStr(text, true, false);
}

/** Section types: printable ASCII without space. */
export function validateType(text: string): boolean {
  return validateStr(text, false, false);
}

/** Config (package) names as uci_validate_package checks them on lookups. */
export function validatePackage(text: string): boolean {
  return validateStr(text, false, true);
}

/** Package names on a `package` line of a config file: names plus `-`. */
export function validatePackageKeyword(text: string): boolean {
  return validateStr(text, true, true);
}

/**
 * D. J. Bernstein's hash as libuci computes it: `char` is signed on x86, so bytes of
 * non-ASCII characters enter as negative numbers; the result is kept to 31 bits.
 * Pass `undefined` to start a new hash.
 */
export function djbHash(hash: number | undefined, text: string): number {
  let h = hash === undefined ? 5381 : hash;
  for (const b of utf8Encode(text)) {
    const signed = b > 127 ? b - 256 : b;
    h = (Math.imul(h, 33) + signed) >>> 0;
  }
  return (h & 0x7fffffff) >>> 0;
}

/**
 * The name libuci gives an anonymous section: `cfg` + the package's section counter
 * (every section ever allocated in it, this one included) as 2+ hex digits + 16 bits of a
 * hash over the type, then option names and string values. libuci names a section when it
 * is created, before it has options, so callers usually pass none.
 */
export function anonymousSectionName(
  counter: number,
  type: string,
  options: ReadonlyArray<readonly [string, string | readonly string[]]> = [],
): string {
  let hash = djbHash(undefined, type);
  for (const [name, value] of options) {
    hash = djbHash(hash, name);
    if (typeof value === 'string') hash = djbHash(hash, value);
  }
  return `cfg${counter.toString(16).padStart(2, '0')}${(hash % 65536).toString(16).padStart(4, '0')}`;
}
