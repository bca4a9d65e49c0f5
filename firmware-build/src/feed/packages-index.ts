/**
 * The opkg feed index, as OpenWrt's package/Makefile makes it: scripts/ipkg-make-index.sh
 * writes each package's control with `Filename`, `Size` and `SHA256sum` put before
 * `Description` and a blank line after it (Packages.manifest); the lines of build-only fields
 * are then dropped (`grep -vE '^(Maintainer|LicenseFiles|Source|SourceName|Require|SourceDateEpoch)'`)
 * to give `Packages`, and `gzip -9nc` gives `Packages.gz`.
 */
import { ErrorCodes, WrtkitError } from '@wrtkit/core';
import type { BuiltPackage } from '../model.js';
import { controlFields, descriptionLines } from '../packages/control.js';
import { gzipFixed } from '../packages/ipk.js';

/** The fields package/Makefile keeps out of `Packages` (they stay in the packages' control). */
const DROPPED = /^(Maintainer|LicenseFiles|Source|SourceName|Require|SourceDateEpoch)/;

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One package's stanza of `Packages`, blank line included. */
export function packagesStanza(pkg: BuiltPackage): string {
  // The control's fields as writeIpk wrote them; SourceDateEpoch, the only one that needs
  // more than the spec, is one of the dropped fields.
  const lines = controlFields(pkg.spec, pkg.installedSize)
    .map(([name, value]) => `${name}: ${value}`)
    .filter((line) => !DROPPED.test(line));
  lines.push(`Filename: ${pkg.filename}`, `Size: ${pkg.bytes.length}`, `SHA256sum: ${pkg.sha256}`);
  return lines.map((line) => line + '\n').join('') + descriptionLines(pkg.spec.description) + '\n';
}

/**
 * `Packages` for the .ipk files of one feed directory: stanzas in the order of the file names
 * (ipkg-make-index.sh walks `find | sort`, C locale), "\n" alone for an empty feed.
 */
export function packagesIndex(built: BuiltPackage[]): string {
  const sorted = [...built].sort((a, b) => byteOrder(a.filename, b.filename));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.filename === sorted[i - 1]?.filename) {
      throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `two packages are both ${sorted[i]?.filename ?? ''} in one feed`, {
        details: { reason: 'feed-duplicate', filename: sorted[i]?.filename },
      });
    }
  }
  let text = sorted.length === 0 ? '\n' : sorted.map(packagesStanza).join('');
  // package/Makefile pads the file by two newlines when (64 + size) % 128 is 110 or 111: the
  // usign of older releases computed a wrong SHA-512 for such lengths and would refuse a
  // correct signature. Blank lines mean nothing to opkg.
  const rest = (64 + Buffer.byteLength(text)) % 128;
  if (rest === 110 || rest === 111) text += '\n\n';
  return text;
}

/** `Packages.gz`: `gzip -9nc Packages`. */
export function packagesGz(packages: string): Uint8Array {
  return gzipFixed(new TextEncoder().encode(packages), 9);
}
