/**
 * Writing packages as text, byte for byte as libuci's uci_export does:
 *
 * - `export` (uci export): a `package <name>` line first;
 * - `commit` (the config file uci commit writes): no package line, so the file starts
 *   with the empty line that precedes every section.
 *
 * Values are always single-quoted with `'` written as `'\''`. Types and names are
 * escaped the same way but the type is not quoted (as libuci does).
 */
import type { UciPackage } from './model.js';

export interface ExportOptions {
  mode?: 'export' | 'commit';
  /** Write generated names of anonymous sections too (uci -n). */
  nameAnonymous?: boolean;
}

function escape(text: string): string {
  return text.split("'").join("'\\''");
}

export function exportUci(pkg: UciPackage, options: ExportOptions = {}): string {
  const parts: string[] = [];
  if ((options.mode ?? 'export') === 'export') parts.push(`package ${escape(pkg.name)}\n`);
  for (const s of pkg.sections) {
    parts.push(`\nconfig ${escape(s.type)}`);
    if (!s.anonymous || options.nameAnonymous) parts.push(` '${escape(s.name)}'`);
    parts.push('\n');
    for (const { name, value } of s.entries) {
      if (typeof value === 'string') {
        parts.push(`\toption ${escape(name)} '${escape(value)}'\n`);
      } else {
        for (const item of value) parts.push(`\tlist ${escape(name)} '${escape(item)}'\n`);
      }
    }
  }
  parts.push('\n');
  return parts.join('');
}
