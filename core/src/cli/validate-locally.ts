import { loadPluginConfig } from '../config/plugin-config.js';
import type { ConfigIssue } from '../config/validate.js';
import { loadHostSettings } from '../host/host-config.js';
import { loadInstalledPlugins } from '../plugin/load.js';
import type { Platform } from '../platform/platform.js';
import { UciContext } from '../uci/index.js';

export interface ValidationLine {
  plugin: string;
  ok: boolean;
  issues: ConfigIssue[];
}

/**
 * `wrtkit config validate` without a running host: reads /etc/config and the installed
 * plugins' validators, and says what a reload would accept. Plugins are loaded (their
 * module code runs) but never set up.
 */
export async function validateLocally(
  platform: Platform,
  configDir: string,
  pluginDirOverride?: string,
): Promise<ValidationLine[]> {
  const uci = new UciContext(platform.fs, { confdir: configDir });
  const settings = loadHostSettings(uci, undefined);
  const lines: ValidationLine[] = [{ plugin: 'wrtkit', ok: settings.issues.length === 0, issues: settings.issues }];
  const { loaded, problems } = await loadInstalledPlugins(platform, pluginDirOverride ?? settings.pluginDir);
  for (const { definition, manifest } of loaded) {
    const result = loadPluginConfig(uci, definition, manifest.config);
    lines.push({ plugin: definition.name, ok: result.ok, issues: result.ok ? [] : result.issues });
  }
  for (const problem of problems) {
    lines.push({
      plugin: problem.plugin ?? '?',
      ok: false,
      issues: [{ uciPath: problem.plugin ?? '?', rule: problem.code, message: problem.message }],
    });
  }
  return lines;
}
