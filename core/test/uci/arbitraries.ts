/** fast-check generators for UCI packages and edits (shared by the property tests). */
import fc from 'fast-check';
import { UciPackage, type UciValue } from '../../src/uci/index.js';

const SPECIALS = ["'", '"', '\\', '#', '\n', '\t', ' ', ';', '\r', '$', '=', '.', "'\\''", '\\\n', '\r\n'];

/** One "character" of a value: quotes, backslashes, comment signs, whitespace, any Unicode. */
const valueChar = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(...SPECIALS) },
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.constantFrom('ü', 'ß', '–', '日本', '😀', 'é') },
  )
  .filter((c) => !c.includes('\0'));

export const valueArb = fc.string({ unit: valueChar, maxLength: 12 });
export const nonEmptyValueArb = fc.string({ unit: valueChar, minLength: 1, maxLength: 12 });
export const optionNameArb = fc.stringMatching(/^[A-Za-z0-9_]{1,8}$/);
/** Named sections never look like generated names. */
export const sectionNameArb = fc.stringMatching(/^[a-z][A-Za-z0-9_]{0,7}$/).filter((n) => !n.startsWith('cfg'));
export const typeArb = fc.oneof(
  fc.constantFrom('rule', 'zone', 'interface', 'wifi-iface', 'defaults', 'led'),
  fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,8}$/),
);
export const packageNameArb = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/);

/** A value uci can store: a non-empty string, or a non-empty list (items may be empty). */
export const uciValueArb: fc.Arbitrary<UciValue> = fc.oneof(nonEmptyValueArb, fc.array(valueArb, { minLength: 1, maxLength: 4 }));

export interface SectionSpec {
  type: string;
  name: string | undefined;
  options: Array<[string, UciValue]>;
}

export const sectionSpecArb: fc.Arbitrary<SectionSpec> = fc.record({
  type: typeArb,
  name: fc.option(sectionNameArb, { nil: undefined }),
  options: fc.array(fc.tuple(optionNameArb, uciValueArb), { maxLength: 5 }),
});

/** Builds a package the way uci would have: sections added in order. */
export function buildPackage(name: string, specs: readonly SectionSpec[]): UciPackage {
  const pkg = new UciPackage(name);
  for (const spec of specs) {
    if (spec.name !== undefined && pkg.section(spec.name)) continue;
    const s = pkg.addSection(spec.type, spec.name);
    for (const [option, value] of spec.options) s.set(option, value);
  }
  return pkg;
}

export const packageArb = (name?: string): fc.Arbitrary<UciPackage> =>
  fc
    .tuple(name === undefined ? packageNameArb : fc.constant(name), fc.array(sectionSpecArb, { maxLength: 6 }))
    .map(([n, specs]) => buildPackage(n, specs));

/** Edits a host plugin might make to a loaded package. */
export type Edit =
  | { kind: 'set'; section: number; option: string; value: UciValue }
  | { kind: 'deleteOption'; section: number; option: number }
  | { kind: 'addSection'; spec: SectionSpec }
  | { kind: 'removeSection'; section: number }
  | { kind: 'move'; section: number; to: number }
  | { kind: 'rename'; section: number; name: string }
  | { kind: 'retype'; section: number; type: string };

export const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), section: fc.nat(), option: optionNameArb, value: uciValueArb }),
  fc.record({ kind: fc.constant('deleteOption' as const), section: fc.nat(), option: fc.nat() }),
  fc.record({ kind: fc.constant('addSection' as const), spec: sectionSpecArb }),
  fc.record({ kind: fc.constant('removeSection' as const), section: fc.nat() }),
  fc.record({ kind: fc.constant('move' as const), section: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('rename' as const), section: fc.nat(), name: sectionNameArb }),
  fc.record({ kind: fc.constant('retype' as const), section: fc.nat(), type: typeArb }),
);

export function applyEdits(pkg: UciPackage, edits: readonly Edit[]): void {
  for (const e of edits) {
    const sections = pkg.sections;
    const pick = (i: number) => (sections.length === 0 ? undefined : sections[i % sections.length]);
    switch (e.kind) {
      case 'set':
        pick(e.section)?.set(e.option, e.value);
        break;
      case 'deleteOption': {
        const s = pick(e.section);
        const opts = s?.options() ?? [];
        if (s && opts.length > 0) s.delete((opts[e.option % opts.length] as [string, UciValue])[0]);
        break;
      }
      case 'addSection':
        if (e.spec.name === undefined || !pkg.section(e.spec.name)) {
          const s = pkg.addSection(e.spec.type, e.spec.name);
          for (const [option, value] of e.spec.options) s.set(option, value);
        }
        break;
      case 'removeSection': {
        const s = pick(e.section);
        if (s) pkg.removeSection(s);
        break;
      }
      case 'move': {
        const s = pick(e.section);
        if (s) pkg.moveSection(s, e.to % (sections.length + 1));
        break;
      }
      case 'rename': {
        const s = pick(e.section);
        if (s && !pkg.section(e.name)) pkg.renameSection(s.name, e.name);
        break;
      }
      case 'retype': {
        const s = pick(e.section);
        if (s) s.type = e.type;
        break;
      }
    }
  }
}

/** A package as plain data, for deep equality. */
export function snapshot(pkg: UciPackage): unknown {
  return {
    name: pkg.name,
    sections: pkg.sections.map((s) => ({ type: s.type, name: s.name, anonymous: s.anonymous, options: s.options() })),
  };
}
