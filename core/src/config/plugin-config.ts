import { ErrorCodes, WrtkitError, messageOf } from '../errors.js';
import type { PluginDefinition } from '../plugin/define.js';
import type { UciContext } from '../uci/index.js';
import { type ConfigIssue, type ConfigResult, validateConfig } from './validate.js';

/**
 * A plugin's config: /etc/config/<package> read through UCI (committed state), shaped by
 * its schema, validated by its generated validator. The package is the plugin's name
 * unless its manifest names another (`"config": "pirania"` keeps a deployed config
 * file). A file that does not parse is an invalid config like any other, reported with
 * the parser's line and byte.
 */
export function loadPluginConfig(uci: UciContext, definition: PluginDefinition, configPackage = definition.name): ConfigResult<unknown> {
  const name = configPackage;
  const plugin = definition.name;
  const invalid = (issue: ConfigIssue, cause?: unknown): ConfigResult<unknown> => ({
    ok: false,
    issues: [issue],
    error: new WrtkitError(ErrorCodes.CONFIG_INVALID, `invalid config: ${issue.uciPath}: ${issue.message} (${issue.rule})`, {
      plugin,
      uciPath: issue.uciPath,
      ...(cause !== undefined ? { cause } : {}),
      details: { issues: [issue] },
    }),
  });
  let pkg;
  try {
    pkg = uci.loadCommitted(name);
  } catch (error) {
    return invalid({ uciPath: name, rule: 'syntax', message: messageOf(error) }, error);
  }
  const { configSchema, validateConfig: validator } = definition;
  if (!configSchema) return { ok: true, config: {} };
  if (!validator) {
    return invalid({
      uciPath: name,
      rule: 'validator',
      message: 'the plugin has a configSchema but no generated validateConfig (run gen-config)',
    });
  }
  return validateConfig(name, pkg, configSchema, validator, plugin);
}
