/**
 * diffPackages(before, after): the staged changes (uci set/add_list/del_list/delete/
 * rename/reorder, as delta entries) that turn `before` into `after` when applied to it
 * with libuci's semantics, e.g. through UciContext.applyChanges then commit. The host
 * uses it to apply composed config once, and to see that nothing changed.
 *
 * Sections are matched by name, so `after` should be derived from `before` (a clone
 * that was edited): anonymous sections keep their generated names that way. Section
 * order is restored with reorder; option order, which has no uci command, by deleting
 * and re-adding the options that are out of place. An option whose value is '' or an
 * empty list cannot be staged (uci drops it) and counts as absent.
 */
import { applyDelta, type UciDelta } from './delta.js';
import { uciInvalid } from './errors.js';
import type { UciOptionEntry, UciPackage, UciSection, UciValue } from './model.js';

/** One staged change (the host's name for a delta entry). */
export type UciChange = UciDelta;

function present(value: UciValue): boolean {
  return typeof value === 'string' ? value !== '' : value.length > 0;
}

function sameValue(a: UciValue, b: UciValue): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function startsWith(list: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= list.length && prefix.every((v, i) => v === list[i]);
}

/** Changes to add an option afresh (it goes last). */
function addOption(section: string, option: string, value: UciValue): UciDelta[] {
  if (typeof value === 'string') return [{ cmd: 'change', section, option, value }];
  return value.map((item) => ({ cmd: 'list-add', section, option, value: item }));
}

/**
 * Changes that turn the option's value into `to` without moving it, or undefined when
 * that is impossible (then it is deleted and added again at the end).
 */
function updateInPlace(section: string, option: string, from: UciValue, to: UciValue): UciDelta[] | undefined {
  if (sameValue(from, to)) return [];
  // uci set replaces a string or a list by a string where it stands.
  if (typeof to === 'string') return [{ cmd: 'change', section, option, value: to }];
  if (Array.isArray(from)) {
    // del_list drops every copy of a value, the list stays in place even when emptied;
    // add_list appends.
    const kept = new Set(to);
    const removed = [...new Set(from.filter((v) => !kept.has(v)))];
    const filtered = from.filter((v) => kept.has(v));
    if (startsWith(to, filtered)) {
      return [
        ...removed.map((value): UciDelta => ({ cmd: 'list-del', section, option, value })),
        ...to.slice(filtered.length).map((value): UciDelta => ({ cmd: 'list-add', section, option, value })),
      ];
    }
  } else if (to.length >= 2 && to[0] === from) {
    // add_list on a string turns it into a list in place.
    return to.slice(1).map((value) => ({ cmd: 'list-add', section, option, value }));
  }
  if (to.length >= 2 && to[0] !== '') {
    // Set the first item (a string, in place), then add_list makes it a list.
    return [
      { cmd: 'change', section, option, value: to[0] as string },
      ...to.slice(1).map((value): UciDelta => ({ cmd: 'list-add', section, option, value })),
    ];
  }
  return undefined;
}

function diffOptions(name: string, before: UciSection, after: UciSection): UciDelta[] {
  const out: UciDelta[] = [];
  const wanted = after.entries.filter((e) => present(e.value));
  const wantedByName = new Map(wanted.map((e) => [e.name, e]));
  const plans = new Map<string, UciDelta[]>();
  for (const e of before.entries) {
    const target = wantedByName.get(e.name);
    if (!target) {
      out.push({ cmd: 'remove', section: name, option: e.name });
      continue;
    }
    const plan = updateInPlace(name, e.name, e.value, target.value);
    if (plan) plans.set(e.name, plan);
  }
  // Options that can stay where they are, in their current order...
  const staying = before.entries.filter((e) => plans.has(e.name)).map((e) => e.name);
  // ...keep their place as long as they are the leading options of the wanted order.
  let k = 0;
  while (k < wanted.length && k < staying.length && (wanted[k] as UciOptionEntry).name === staying[k]) k++;
  for (let i = 0; i < k; i++) out.push(...(plans.get((wanted[i] as UciOptionEntry).name) ?? []));
  for (const e of wanted.slice(k)) {
    if (before.has(e.name)) out.push({ cmd: 'remove', section: name, option: e.name });
    out.push(...addOption(name, e.name, e.value));
  }
  return out;
}

export function diffPackages(before: UciPackage, after: UciPackage): UciChange[] {
  const seen = new Set<string>();
  for (const s of after.sections) {
    if (seen.has(s.name)) throw uciInvalid(`duplicate UCI section name ${after.name}.${s.name}`);
    seen.add(s.name);
  }
  const out: UciDelta[] = [];
  const kept = new Map<string, UciSection>();
  for (const s of before.sections) {
    const target = after.section(s.name);
    // A named section cannot become anonymous in place: it is deleted and added anew.
    if (!target || kept.has(s.name) || (target.anonymous && !s.anonymous)) {
      out.push({ cmd: 'remove', section: s.name });
    } else {
      kept.set(s.name, s);
    }
  }
  const order = before.sections.filter((s) => kept.get(s.name) === s).map((s) => s.name);
  for (const a of after.sections) {
    const b = kept.get(a.name);
    if (!b) {
      out.push({ cmd: a.anonymous ? 'add' : 'change', section: a.name, value: a.type });
      order.push(a.name);
      for (const e of a.entries) if (present(e.value)) out.push(...addOption(a.name, e.name, e.value));
      continue;
    }
    if (b.type !== a.type) out.push({ cmd: 'change', section: a.name, value: a.type });
    // rename to its own name: the section keeps its name but is written with it.
    if (b.anonymous && !a.anonymous) out.push({ cmd: 'rename', section: a.name, value: a.name });
    out.push(...diffOptions(a.name, b, a));
  }
  after.sections.forEach((a, i) => {
    if (order[i] === a.name) return;
    order.splice(order.indexOf(a.name), 1);
    order.splice(i, 0, a.name);
    out.push({ cmd: 'reorder', section: a.name, value: String(i) });
  });
  return out;
}

/** Applies changes to a package in memory (as uci would on load); throws when one does not apply. */
export function applyChanges(pkg: UciPackage, changes: readonly UciChange[]): void {
  for (const d of changes) applyDelta(pkg, d);
}
