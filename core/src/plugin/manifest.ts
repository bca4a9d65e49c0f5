import semverValid from 'semver/functions/valid.js';
import validRange from 'semver/ranges/valid.js';
import { ErrorCodes, WrtkitError } from '../errors.js';
import { type ArgsSchema, formatArgsErrors, validateArgs } from '../schema/args.js';
import { COMMAND_NAME_PATTERN } from './command.js';

/**
 * The manifest installed beside each plugin bundle (`<plugin dir>/<name>/manifest.json`).
 * It is the `wrtkit` field of the plugin's package.json plus name and version, written
 * by the build; the host reads it before loading any code, so a broken or incompatible
 * plugin is refused without running it.
 */
export interface PluginManifest {
  name: string;
  version: string;
  apiVersion: string;
  description?: string;
  /** Bundle file, relative to the manifest (default index.js). */
  entry?: string;
  dependencies?: Record<string, string>;
  /** The UCI package of the plugin's config, when it is not the plugin's name. */
  config?: string;
  /** Top-level object names the plugin serves besides its own (names deployments use). */
  objects?: string[];
  permissions?: PluginPermissions;
  /** OpenWrt packaging: package dependencies such as "+nftables". */
  openwrt?: { depends?: string[]; section?: string; title?: string };
  /** Native parts shipped with the plugin (C programs, eBPF objects, nft files). */
  native?: string[];
  /**
   * CLI commands the plugin adds (`wrtkit voucher`): command name → bundle file, relative
   * to the manifest. In package.json the files are the TypeScript sources; the build
   * bundles each to `<command>.js` beside index.js.
   */
  commands?: Record<string, string>;
}

export interface PluginPermissions {
  /** UCI packages the plugin composes (writes). Every package may be read. */
  uci?: string[];
  /** Programs the plugin may run, by name (on PATH) or absolute path. */
  exec?: string[];
  /** ubus objects/methods the plugin calls (`object.method`, `object.*`). */
  ubus?: string[];
}

export const PLUGIN_NAME_PATTERN = '^[a-z][a-z0-9-]{0,31}$';

/** A bundle file relative to the manifest (entry, commands). */
const BUNDLE_FILE_PATTERN = '^[^/][^\\0]*\\.m?js$';

const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

export const manifestSchema: ArgsSchema = {
  type: 'object',
  required: ['name', 'version', 'apiVersion'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: PLUGIN_NAME_PATTERN },
    version: { type: 'string', minLength: 1 },
    apiVersion: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    entry: { type: 'string', pattern: BUNDLE_FILE_PATTERN },
    dependencies: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
    config: { type: 'string', pattern: '^[a-zA-Z0-9_-]+$' },
    objects: { type: 'array', items: { type: 'string', pattern: '^[a-zA-Z0-9_-]+(\\.[a-zA-Z0-9_-]+)*$' } },
    permissions: {
      type: 'object',
      additionalProperties: false,
      properties: { uci: stringList, exec: stringList, ubus: stringList },
    },
    openwrt: {
      type: 'object',
      additionalProperties: false,
      properties: { depends: stringList, section: { type: 'string' }, title: { type: 'string' } },
    },
    native: stringList,
    commands: { type: 'object', additionalProperties: { type: 'string', pattern: BUNDLE_FILE_PATTERN } },
  },
};

/** Checks a parsed manifest; throws WRTKIT_ERR_MANIFEST_INVALID naming every problem. */
export function checkManifest(value: unknown, where: string): PluginManifest {
  const errors = validateArgs(manifestSchema, value);
  const manifest = value as PluginManifest;
  if (errors.length === 0) {
    if (!semverValid(manifest.version)) errors.push({ path: '/version', rule: 'semver', message: 'must be a semver version' });
    if (!validRange(manifest.apiVersion)) errors.push({ path: '/apiVersion', rule: 'semver', message: 'must be a semver range' });
    for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
      if (!new RegExp(PLUGIN_NAME_PATTERN).test(dep))
        errors.push({ path: `/dependencies/${dep}`, rule: 'pattern', message: 'is not a plugin name' });
      if (!validRange(range)) errors.push({ path: `/dependencies/${dep}`, rule: 'semver', message: 'must be a semver range' });
    }
    for (const [command, file] of Object.entries(manifest.commands ?? {})) {
      if (!new RegExp(COMMAND_NAME_PATTERN).test(command)) {
        errors.push({
          path: `/commands/${command}`,
          rule: 'pattern',
          message: 'is not a command name (1-32 lower-case letters, digits, - and _, a letter first)',
        });
      }
      if (file === (manifest.entry ?? 'index.js'))
        errors.push({ path: `/commands/${command}`, rule: 'entry', message: 'is the plugin entry, not a command' });
    }
  }
  if (errors.length > 0) {
    const name = typeof (value as { name?: unknown })?.name === 'string' ? (value as { name: string }).name : undefined;
    throw new WrtkitError(ErrorCodes.MANIFEST_INVALID, `invalid plugin manifest ${where}: ${formatArgsErrors(errors)}`, {
      ...(name ? { plugin: name } : {}),
      details: { errors, where },
    });
  }
  return manifest;
}
