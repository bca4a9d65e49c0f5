import { ErrorCodes, WrtkitError } from '../errors.js';
import type { PluginDefinition } from '../plugin/define.js';
import { UciPackage, type UciContext, exportUci } from '../uci/index.js';
import { type ConfigResult, validateConfig } from './validate.js';

/** `<section>.<option>` → a value, a list, or null to delete the option. */
export type ConfigEdits = Readonly<Record<string, string | readonly string[] | null>>;

const KEY = /^([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$/;

/**
 * A plugin changing its own UCI package, as `uci set …; uci commit` would (LibreMesh's
 * Pirania sets `pirania.base_config.enabled` from its ubus API, for example). The result
 * is validated with the plugin's schema before anything is written: an invalid change
 * is refused with the UCI path and rule, and the file stays as it was. Named sections
 * only; a missing section is created with the section name as its type, which is how
 * single-section packages (`config base_config 'base_config'`) are written.
 */
export function editPluginConfig(
  uci: UciContext,
  definition: PluginDefinition,
  packageName: string,
  edits: ConfigEdits,
): { changed: boolean; result: ConfigResult<unknown> } {
  const current = uci.loadCommitted(packageName);
  const pkg = current ? current.clone() : new UciPackage(packageName);
  for (const [key, value] of Object.entries(edits)) {
    const m = KEY.exec(key);
    if (!m) {
      throw new WrtkitError(ErrorCodes.INVALID_ARGUMENT, `config key "${key}" must be <section>.<option>`, {
        plugin: definition.name,
        details: { key },
      });
    }
    const [, sectionName, option] = m as unknown as [string, string, string];
    let section = pkg.section(sectionName);
    if (!section) {
      if (value === null) continue;
      section = pkg.addSection(sectionName, sectionName);
    }
    if (value === null) section.delete(option);
    else section.set(option, typeof value === 'string' ? value : [...value]);
  }
  const { configSchema, validateConfig: validator } = definition;
  const result: ConfigResult<unknown> =
    configSchema && validator
      ? validateConfig(packageName, pkg, configSchema, validator, definition.name)
      : { ok: true, config: {} };
  if (!result.ok) throw result.error;
  const before = current ? exportUci(current, { mode: 'commit' }) : undefined;
  const after = exportUci(pkg, { mode: 'commit' });
  if (before === after) return { changed: false, result };
  uci.fs.writeAtomic(uci.configPath(packageName), after);
  return { changed: true, result };
}
