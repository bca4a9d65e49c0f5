import { type ConfigIssue, validateConfig } from '../config/validate.js';
import type { JsonSchema } from '../config/uci-json.js';
import type { HostConfig } from '../generated/config.js';
import validateHostConfig from '../generated/validate-config.js';
import { type ComposedPackage, ComposedPackages } from '../hooks/events.js';
import type { LogLevel, Logger } from '../log/logger.js';
import type { UciContext } from '../uci/index.js';
import type { WirelessSettings } from '../compose/wireless/backend.js';
import schema from '../../schema/wrtkit.schema.json';

/** The host's settings from /etc/config/wrtkit, with defaults filled in. */
export interface HostSettings {
  logLevel: LogLevel;
  pluginDir: string;
  stateDir: string;
  controlSocket: string;
  ubusSocket: string;
  hookTimeoutMs: number;
  setupTimeoutMs: number;
  stateFlushDelayMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  retryLimit: number;
  disable: string[];
  apply: Partial<Record<ComposedPackage, { command?: string[]; enabled: boolean }>>;
  wireless: WirelessSettings;
  /** Problems found in /etc/config/wrtkit (the defaults are used instead). */
  issues: ConfigIssue[];
}

export const hostConfigSchema = schema as JsonSchema;

/**
 * Reads /etc/config/wrtkit. A broken host config must not stop the router: the host logs
 * every issue with its UCI path and runs on defaults.
 */
export function loadHostSettings(uci: UciContext, log: Logger | undefined): HostSettings {
  let config: HostConfig;
  let issues: ConfigIssue[] = [];
  let pkg;
  try {
    pkg = uci.loadCommitted('wrtkit');
  } catch (error) {
    issues = [{ uciPath: 'wrtkit', rule: 'syntax', message: error instanceof Error ? error.message : String(error) }];
  }
  const result =
    issues.length === 0 ? validateConfig<HostConfig>('wrtkit', pkg, hostConfigSchema, validateHostConfig) : undefined;
  if (result?.ok) {
    config = result.config;
  } else {
    if (result && !result.ok) issues = result.issues;
    for (const issue of issues)
      log?.error(`invalid host config: ${issue.uciPath}: ${issue.message} (${issue.rule}); using defaults`);
    const defaults = validateConfig<HostConfig>('wrtkit', undefined, hostConfigSchema, validateHostConfig);
    if (!defaults.ok) throw defaults.error; // the schema's own defaults must validate
    config = defaults.config;
  }
  const main = config.wrtkit;
  const apply: HostSettings['apply'] = {};
  for (const section of config.apply ?? []) {
    const name = section['.name'] as ComposedPackage;
    if (!ComposedPackages.includes(name)) {
      const issue = {
        uciPath: `wrtkit.${name}`,
        rule: 'enum',
        message: `apply sections are named after ${ComposedPackages.join(', ')}`,
      };
      issues.push(issue);
      log?.warn(`host config: ${issue.uciPath}: ${issue.message}`);
      continue;
    }
    apply[name] = { enabled: section.enabled, ...(section.command ? { command: [...section.command] } : {}) };
  }
  return {
    logLevel: main.log_level,
    pluginDir: main.plugin_dir,
    stateDir: main.state_dir,
    controlSocket: main.control_socket,
    ubusSocket: main.ubus_socket,
    hookTimeoutMs: main.hook_timeout,
    setupTimeoutMs: main.setup_timeout,
    stateFlushDelayMs: main.state_flush_delay,
    retryInitialMs: main.retry_initial,
    retryMaxMs: main.retry_max,
    retryLimit: main.retry_limit,
    disable: main.disable,
    apply,
    wireless: {
      backend: main.wireless_backend,
      hostapdConfDir: main.hostapd_conf_dir,
      hostapdCtrlDir: main.hostapd_ctrl_dir,
      hostapdDriver: main.hostapd_driver,
    },
    issues,
  };
}
