/**
 * Site errors in the user's terms: paths as the site file reads (`targets[0].profiles`,
 * `plugins.offload.config.offload.mode`), never JSON pointers, sorted, one per line.
 */
import type { PathSegments } from './load.js';
import type { SiteError } from './types.js';

/** Keys that read well after a dot; anything else is written `["key"]`. */
const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** `['targets', 0, 'profiles']` → `targets[0].profiles`. */
export function formatPath(segments: PathSegments): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

const collator = new Intl.Collator('en', { numeric: true });

/** By path (`targets[2]` before `targets[10]`), then rule; errors about the whole file first. */
export function sortErrors(errors: readonly SiteError[]): SiteError[] {
  return [...errors].sort(
    (a, b) => collator.compare(a.path, b.path) || collator.compare(a.rule, b.rule) || collator.compare(a.message, b.message),
  );
}

/**
 * One line per error: `site.yaml:12:3: plugins.foo: unknown plugin (available: ...)`. The
 * file and position are shown when given and known.
 */
export function formatErrors(errors: readonly SiteError[], file?: string): string {
  return errors
    .map((e) => {
      const where = file === undefined ? '' : e.line === undefined ? `${file}: ` : `${file}:${e.line}:${e.column ?? 1}: `;
      return `${where}${e.path === '' ? '' : `${e.path}: `}${e.message}`;
    })
    .join('\n');
}
