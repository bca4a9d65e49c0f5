/**
 * What the site file's JSON Schema cannot say: relations between its parts. Each check
 * copes with data the schema rejected (it is run anyway, so every error is listed at once).
 */
import type { PathSegments } from './load.js';
import { packageManager } from './release.js';
import type { PluginInfo } from './types.js';

export interface Issue {
  segments: PathSegments;
  rule: string;
  message: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A chosen plugin needs the plugins its package.json lists under wrtkit.dependencies. */
function checkDependencies(chosen: Record<string, unknown>, plugins: readonly PluginInfo[]): Issue[] {
  const issues: Issue[] = [];
  const byName = new Map(plugins.map((p) => [p.name, p]));
  for (const name of Object.keys(chosen)) {
    for (const [needed, range] of Object.entries(byName.get(name)?.dependencies ?? {})) {
      if (needed in chosen) continue;
      issues.push({
        segments: ['plugins', name],
        rule: 'dependency',
        message: `needs plugin ${needed} (${range}), which the site does not choose`,
      });
    }
  }
  return issues;
}

/** One entry per target: a second one would build the same images twice. */
function checkTargets(targets: unknown[]): Issue[] {
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  targets.forEach((entry, i) => {
    if (!isObject(entry) || typeof entry.target !== 'string') return;
    // a flash size for a profile the target does not build is a typo that would leave the
    // real profile unchecked
    if (isObject(entry.flash_kib) && Array.isArray(entry.profiles)) {
      for (const profile of Object.keys(entry.flash_kib)) {
        if (!entry.profiles.includes(profile))
          issues.push({
            segments: ['targets', i, 'flash_kib', profile],
            rule: 'profile',
            message: `${profile} is not one of this target's profiles (${entry.profiles.join(', ')})`,
          });
      }
    }
    const first = seen.get(entry.target);
    if (first === undefined) seen.set(entry.target, i);
    else
      issues.push({
        segments: ['targets', i, 'target'],
        rule: 'unique',
        message: `${entry.target} is already targets[${first}]`,
      });
  });
  return issues;
}

const PEM = /^-----BEGIN PUBLIC KEY-----/;
const USIGN = /^RW/;

/** opkg checks feeds with usign keys, apk with PEM keys: a key of the other kind can never verify. */
function checkKeys(release: unknown, keys: unknown[]): Issue[] {
  if (typeof release !== 'string') return [];
  const { manager } = packageManager(release);
  const wrong = manager === 'opkg' ? PEM : USIGN;
  const wanted = manager === 'opkg' ? 'usign keys (RW…)' : 'PEM public keys (-----BEGIN PUBLIC KEY-----)';
  const issues: Issue[] = [];
  keys.forEach((key, i) => {
    if (typeof key === 'string' && wrong.test(key)) {
      issues.push({
        segments: ['feed', 'keys', i],
        rule: 'key',
        message: `OpenWrt ${release} uses ${manager}, which needs ${wanted}`,
      });
    }
  });
  return issues;
}

/** Sections of a list must have distinct `.name`s: uci would merge them into one. */
function checkSectionNames(config: Record<string, unknown>, at: PathSegments): Issue[] {
  const issues: Issue[] = [];
  for (const [type, sections] of Object.entries(config)) {
    if (!Array.isArray(sections)) continue;
    const seen = new Map<string, number>();
    sections.forEach((section, i) => {
      if (!isObject(section) || typeof section['.name'] !== 'string') return;
      const name = section['.name'];
      const first = seen.get(name);
      if (first === undefined) seen.set(name, i);
      else issues.push({ segments: [...at, type, i, '.name'], rule: 'unique', message: `${name} is already ${type}[${first}]` });
    });
  }
  return issues;
}

/** Every relation check on (possibly invalid) site data. */
export function checkSite(data: unknown, plugins: readonly PluginInfo[]): Issue[] {
  if (!isObject(data)) return [];
  const issues: Issue[] = [];
  if (isObject(data.plugins)) {
    issues.push(...checkDependencies(data.plugins, plugins));
    for (const [name, entry] of Object.entries(data.plugins)) {
      if (isObject(entry) && isObject(entry.config)) issues.push(...checkSectionNames(entry.config, ['plugins', name, 'config']));
    }
  }
  if (isObject(data.host)) issues.push(...checkSectionNames(data.host, ['host']));
  if (Array.isArray(data.targets)) issues.push(...checkTargets(data.targets));
  if (isObject(data.feed) && Array.isArray(data.feed.keys)) issues.push(...checkKeys(data.release, data.feed.keys));
  return issues;
}
