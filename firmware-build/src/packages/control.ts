/**
 * The opkg control file of a package, field for field as OpenWrt's include/package-pack.mk
 * writes it (the `Package/<name>/CONTROL` template) and ipkg-build fills in Installed-Size.
 * The feed index (feed/packages-index.ts) reuses the same fields, so the `Packages` stanza
 * and the control inside the .ipk cannot drift apart.
 */
import { ErrorCodes, WrtkitError } from '@wrtkit/core';
import type { PackageSpec } from '../model.js';

/** One `Name: value` line of a control file, in the order it is written. */
export type ControlField = readonly [name: string, value: string];

/**
 * The control fields before Description, in package-pack.mk's order. Fields OpenWrt only
 * writes when set (Depends, Conflicts, License, Section, Maintainer, …) are left out when
 * empty. SourceName (OpenWrt's PKG_NAME) has no counterpart in PackageSpec and is never
 * written; SourceDateEpoch is written when given, as OpenWrt does for every package.
 */
export function controlFields(spec: PackageSpec, installedSize: number, sourceDateEpoch?: number): ControlField[] {
  const fields: ControlField[] = [
    ['Package', spec.name],
    ['Version', spec.version],
  ];
  const add = (name: string, value: string | undefined): void => {
    if (value !== undefined && value.trim() !== '') fields.push([name, value]);
  };
  // package-pack.mk's mergelist: "a, b, c".
  add('Depends', spec.depends.join(', '));
  add('Conflicts', (spec.conflicts ?? []).join(', '));
  add('Source', spec.source);
  add('License', spec.license);
  add('Section', spec.section);
  if (sourceDateEpoch !== undefined) add('SourceDateEpoch', String(sourceDateEpoch));
  add('Maintainer', spec.maintainer);
  fields.push(['Architecture', spec.architecture]);
  fields.push(['Installed-Size', String(installedSize)]);
  return fields;
}

/**
 * The Description field with its continuation lines. package-pack.mk writes
 * `printf "Description: "; echo "$DESCRIPTION" | sed -e 's,^[[:space:]]*, ,g'`: every
 * line, the first included, has its leading blanks replaced by one space. So the first
 * line follows "Description:" after two spaces, and blank lines become " " — exactly what
 * OpenWrt's own Packages files show.
 */
export function descriptionLines(description: string): string {
  const lines = description.trim().split('\n');
  return 'Description: ' + lines.map((line) => ' ' + line.replace(/^\s*/, '')).join('\n') + '\n';
}

/** The whole control file: the fields, then Description. Ends with one newline. */
export function controlText(spec: PackageSpec, installedSize: number, sourceDateEpoch?: number): string {
  const head = controlFields(spec, installedSize, sourceDateEpoch)
    .map(([name, value]) => `${name}: ${value}\n`)
    .join('');
  return head + descriptionLines(spec.description);
}

// ipkg-build accepts [a-zA-Z0-9_.+-] in names; '_' is refused here as well because it is the
// separator of `<name>_<version>_<arch>.ipk` and would make feed file names ambiguous.
const NAME = /^[A-Za-z0-9][A-Za-z0-9.+-]*$/;
// Debian/opkg version characters (the epoch's ':' included); '_' again for the file name.
const VERSION = /^[A-Za-z0-9][A-Za-z0-9.+~:-]*$/;
const ARCH = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

function invalid(spec: PackageSpec, message: string): WrtkitError {
  return new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `package ${JSON.stringify(spec.name)}: ${message}`, {
    details: { package: spec.name, reason: 'package-spec' },
  });
}

/**
 * Refuses what would make a broken control file or an ambiguous feed: a field with a line
 * break would start a new field in opkg's parser, a comma inside one dependency would
 * split it.
 */
export function checkControlFields(spec: PackageSpec): void {
  if (!NAME.test(spec.name)) throw invalid(spec, 'the name may hold only letters, digits and . + -');
  if (!VERSION.test(spec.version)) throw invalid(spec, `version ${JSON.stringify(spec.version)} is not an opkg version`);
  if (!ARCH.test(spec.architecture)) throw invalid(spec, `architecture ${JSON.stringify(spec.architecture)} is not valid`);
  for (const [field, value] of [
    ['source', spec.source],
    ['license', spec.license],
    ['section', spec.section],
    ['maintainer', spec.maintainer],
  ] as const) {
    if (/[\r\n]/.test(value)) throw invalid(spec, `${field} must be one line`);
  }
  for (const dep of [...spec.depends, ...(spec.conflicts ?? [])]) {
    if (dep.trim() === '' || /[,\r\n]/.test(dep)) throw invalid(spec, `dependency ${JSON.stringify(dep)} is not one package`);
  }
  if (spec.description.trim() === '') throw invalid(spec, 'the description is empty');
  if (/\r/.test(spec.description)) throw invalid(spec, 'the description has a carriage return');
}
