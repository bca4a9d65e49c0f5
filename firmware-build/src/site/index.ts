/**
 * The site file: read it, check all of it before anything is built (`wrtkit build
 * --check` stops here), and turn its community settings into the first-boot script.
 */
import { formatErrors, sortErrors } from './errors.js';
import { readSiteFile } from './load.js';
import { availablePlugins } from './plugins.js';
import type { PluginInfo, Site, SiteError, SitePlugin } from './types.js';
import { validateSite } from './validate.js';

export { availablePlugins } from './plugins.js';
export { baseSiteSchema, composeSiteSchema, coreSchema } from './schema.js';
export { parseSite, readSiteFile, type Position, type SiteSource } from './load.js';
export { chosenPlugins, validateSite } from './validate.js';
export { formatErrors, formatPath, sortErrors } from './errors.js';
export { packageManager, type PackageManager } from './release.js';
export { MARKER_DIR, UCI_DEFAULTS_PATH, uciDefaults, type UciDefaults } from './uci-defaults.js';
export type * from './types.js';

export interface LoadedSite {
  /** The site, when it has no error. */
  site?: Site;
  /** Every error, sorted by path; empty when the site is valid. */
  errors: SiteError[];
  /** The plugins the repository offers (what the site was checked against). */
  plugins: PluginInfo[];
}

/** A valid site's data as the Site type has it: `plugins` always there, an empty plugin entry as {}. */
function normalize(data: Record<string, unknown>): Site {
  const plugins: Record<string, SitePlugin> = {};
  for (const [name, entry] of Object.entries((data.plugins ?? {}) as Record<string, SitePlugin | null>))
    plugins[name] = entry ?? {};
  return { ...(data as unknown as Site), plugins };
}

/**
 * Reads, composes the schema for and validates a site file against the plugins under
 * repoRoot. Never throws for a bad file: everything wrong with it is in `errors`.
 */
export async function loadSite(file: string, repoRoot: string): Promise<LoadedSite> {
  const plugins = availablePlugins(repoRoot);
  const source = await readSiteFile(file);
  if (source.errors.length > 0) return { errors: sortErrors(source.errors), plugins };
  const errors = validateSite(source.data, plugins, source.locate);
  if (errors.length > 0) return { errors, plugins };
  return { site: normalize(source.data as Record<string, unknown>), errors, plugins };
}

/** loadSite's errors as `wrtkit build --check` prints them. */
export function formatSiteErrors(file: string, errors: readonly SiteError[]): string {
  if (errors.length === 0) return `${file}: no errors`;
  return `${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}\n${formatErrors(errors, file)}`;
}
