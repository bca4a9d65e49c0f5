/**
 * The first-boot script that carries the community's settings into a node's UCI config:
 * /etc/uci-defaults/90-wrtkit-site. OpenWrt sources each uci-defaults script once at boot
 * and deletes it when it exits 0. It sets, per UCI package, what the site file sets and
 * nothing else (the packages' own /etc/config files keep their defaults), in the order
 * the site file gives; packages are system, wrtkit, then the plugins by name.
 *
 * Once per device: a uci-defaults script is in the image, so after a sysupgrade that keeps
 * the config it runs again. Setting the site's values then would undo the user's changes
 * (LibreMesh layers its defaults under the user's for the same reason). So each package's
 * block leaves a marker, and a package with a marker is left alone; the build must keep
 * the marker directory across sysupgrades (`keep`, for /lib/upgrade/keep.d). A package
 * new in a later firmware has no marker yet and gets its defaults on its first boot.
 */
import { ErrorCodes, WrtkitError } from '@wrtkit/core';
import { coreSchema } from './schema.js';
import type { JsonSchema, PluginInfo, Site, UciConfigObject, UciOptionValue, UciSectionObject } from './types.js';

export interface UciDefaults {
  /** Where the script goes in the image. */
  path: string;
  script: string;
  /** The UCI packages the script sets, in its order (system, wrtkit, plugins' configs). */
  configs: string[];
  /** Paths a sysupgrade must keep (e.g. listed in /lib/upgrade/keep.d/wrtkit-site), so the markers survive with the config. */
  keep: string[];
}

export const UCI_DEFAULTS_PATH = '/etc/uci-defaults/90-wrtkit-site';
export const MARKER_DIR = '/etc/wrtkit/site-defaults';
const CONF_DIR = '/etc/config';

/** As core/src/uci/delta.ts quoteUciValue (not exported by @wrtkit/core): single quotes, `'` as `'\''`; uci batch reads it like a config file. */
function quote(value: string): string {
  return `'${value.split("'").join("'\\''")}'`;
}

// Stricter than libuci where the names end up in shell words unquoted.
const PACKAGE_NAME = /^[A-Za-z0-9_-]+$/;
const NAME = /^[A-Za-z0-9_]+$/;

function invalid(message: string, uciPath?: string): WrtkitError {
  return new WrtkitError(ErrorCodes.CONFIG_INVALID, `uci-defaults: ${message}`, uciPath === undefined ? {} : { uciPath });
}

function checkName(name: string, pattern: RegExp, what: string, uciPath: string): string {
  if (!pattern.test(name)) throw invalid(`${what} ${JSON.stringify(name)} is not a valid UCI name`, uciPath);
  return name;
}

/** An option's value as UCI writes it: booleans as 0/1, as OpenWrt does. */
function uciString(value: unknown, uciPath: string): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`${value} is not a number UCI can hold`, uciPath);
    return String(value);
  }
  if (typeof value === 'string') {
    if (value.includes('\0')) throw invalid('a value cannot contain NUL', uciPath);
    return value;
  }
  throw invalid(`${JSON.stringify(value)} is not an option value (string, number, boolean or a list of them)`, uciPath);
}

/** A block of the script: one UCI package, set once (its marker). */
interface Block {
  config: string;
  comment: string;
  /** Shell lines run before the batch (sections that must exist or go). */
  shell: string[];
  /** uci batch commands, `commit` included. */
  batch: string[];
}

/** `config <type> '<name>'` at the start of a section's description names its section (core's and the plugins' schemas say so). */
function sectionNameOf(type: string, schema: JsonSchema | undefined): string {
  const match = /^config (\S+) '([A-Za-z0-9_]+)'/.exec(schema?.description ?? '');
  return match && match[1] === type ? (match[2] as string) : 'main';
}

function optionLines(ref: string, options: UciSectionObject, freshSection: boolean): string[] {
  const lines: string[] = [];
  for (const [option, value] of Object.entries(options)) {
    if (option === '.name' || value === undefined) continue;
    const path = `${ref}.${checkName(option, NAME, 'option', `${ref}.${option}`)}`;
    if (Array.isArray(value)) {
      // The site's list replaces the package's.
      if (!freshSection) lines.push(`delete ${path}`);
      for (const item of value) lines.push(`add_list ${path}=${quote(uciString(item, path))}`);
    } else {
      lines.push(`set ${path}=${quote(uciString(value as UciOptionValue, path))}`);
    }
  }
  return lines;
}

/**
 * A UCI package from its site object: an object is the first section of its type (the one
 * wrtkit reads; created when missing), a list replaces every section of its type.
 */
function configBlock(config: string, object: UciConfigObject, schema: JsonSchema | undefined, comment: string): Block {
  checkName(config, PACKAGE_NAME, 'package', config);
  const block: Block = { config, comment, shell: [], batch: [] };
  for (const [type, value] of Object.entries(object)) {
    checkName(type, NAME, 'section type', `${config}.${type}`);
    if (Array.isArray(value)) {
      block.shell.push(`wrtkit_clear ${config} ${type}`);
      for (const section of value) {
        let ref: string;
        if (section['.name'] !== undefined) {
          const name = checkName(section['.name'], NAME, 'section name', `${config}.${section['.name']}`);
          block.batch.push(`set ${config}.${name}=${type}`);
          ref = `${config}.${name}`;
        } else {
          block.batch.push(`add ${config} ${type}`);
          ref = `${config}.@${type}[-1]`;
        }
        block.batch.push(...optionLines(ref, section, true));
      }
    } else {
      block.shell.push(`wrtkit_section ${config} ${type} ${sectionNameOf(type, schema?.properties?.[type])}`);
      block.batch.push(...optionLines(`${config}.@${type}[0]`, value, false));
    }
  }
  block.batch.push(`commit ${config}`);
  return block;
}

/** The community's settings in /etc/config/system (see the site schema's `community`). */
function systemBlock(site: Site): Block {
  const c = site.community;
  const block: Block = { config: 'system', comment: "the community's name, hostnames and time", shell: [], batch: [] };
  if (c.hostname_prefix !== undefined) {
    const prefix = checkName(c.hostname_prefix, PACKAGE_NAME, 'hostname prefix', 'system.@system[0].hostname');
    block.shell.push(
      "# <prefix><MAC>, as Gluon names nodes: the label MAC where the board has one, else eth0's",
      '[ -f /lib/functions/system.sh ] && . /lib/functions/system.sh',
      'mac=',
      'command -v get_mac_label >/dev/null 2>&1 && mac=$(get_mac_label)',
      '[ -n "$mac" ] || mac=$(cat /sys/class/net/eth0/address 2>/dev/null)',
      "mac=$(echo \"$mac\" | tr -d ':' | tr 'ABCDEF' 'abcdef')",
      `uci -q set "system.@system[0].hostname=${prefix}\${mac:-node}"`,
    );
  }
  block.batch.push(`set system.@system[0].description=${quote(uciString(c.name, 'system.@system[0].description'))}`);
  if (c.timezone !== undefined)
    block.batch.push(`set system.@system[0].timezone=${quote(uciString(c.timezone, 'system.@system[0].timezone'))}`);
  if (c.zonename !== undefined)
    block.batch.push(`set system.@system[0].zonename=${quote(uciString(c.zonename, 'system.@system[0].zonename'))}`);
  if (c.ntp_servers !== undefined) {
    block.batch.push('set system.ntp=timeserver', 'delete system.ntp.server');
    for (const server of c.ntp_servers)
      block.batch.push(`add_list system.ntp.server=${quote(uciString(server, 'system.ntp.server'))}`);
  }
  block.batch.push('commit system');
  return block;
}

/** A here-document delimiter no line of the batch equals (multi-line values could). */
function delimiterFor(lines: readonly string[]): string {
  const text = new Set(lines.flatMap((line) => line.split('\n')));
  let delimiter = 'EOF';
  for (let n = 1; text.has(delimiter); n++) delimiter = `EOF${n}`;
  return delimiter;
}

function renderBlock(block: Block): string[] {
  const delimiter = delimiterFor(block.batch);
  return [
    `# ${block.config}: ${block.comment}`,
    `if [ ! -e "$wrtkit_marker_dir/${block.config}" ]; then`,
    ...block.shell.map((line) => `\t${line}`),
    // The here-document is quoted: the shell leaves the values alone, uci reads the quoting.
    // `add` prints the new section's name; nobody reads it at boot.
    `\tuci -q batch >/dev/null <<'${delimiter}'`,
    ...block.batch,
    delimiter,
    `\ttouch "$wrtkit_marker_dir/${block.config}"`,
    'fi',
    '',
  ];
}

const HEADER = (site: Site): string[] => [
  '#!/bin/sh',
  `# Community defaults of ${site.community.name.replace(/[\r\n]/g, ' ')} (OpenWrt ${site.release}), written by`,
  '# wrtkit firmware-build from the site file. Change the site file, not this script.',
  '#',
  '# OpenWrt runs this once at first boot and deletes it (it exits 0). Each UCI package',
  '# below is set once per device: a marker in $wrtkit_marker_dir says it was, and from',
  "# then on the package's config is the user's; a sysupgrade that keeps the config keeps",
  "# the markers, so the user's changes survive.",
  '',
  `wrtkit_conf_dir=${CONF_DIR}`,
  `wrtkit_marker_dir=${MARKER_DIR}`,
  'mkdir -p "$wrtkit_marker_dir"',
  '',
  '# The first section of type $2 in package $1 (the one wrtkit reads), named $3 when the',
  '# package has none.',
  'wrtkit_section() {',
  '\t[ -e "$wrtkit_conf_dir/$1" ] || touch "$wrtkit_conf_dir/$1"',
  '\tuci -q get "$1.@$2[0]" >/dev/null || uci -q set "$1.$3=$2"',
  '}',
  '',
  "# Deletes every section of type $2 in package $1: the site's list replaces them.",
  'wrtkit_clear() {',
  '\t[ -e "$wrtkit_conf_dir/$1" ] || touch "$wrtkit_conf_dir/$1"',
  '\twhile uci -q delete "$1.@$2[0]"; do :; done',
  '}',
  '',
];

/** The uci-defaults script for a valid site; `plugins` as availablePlugins gives them. */
export function uciDefaults(site: Site, plugins: readonly PluginInfo[]): UciDefaults {
  const blocks: Block[] = [systemBlock(site)];
  if (site.host !== undefined && Object.keys(site.host).length > 0) {
    blocks.push(configBlock('wrtkit', site.host, coreSchema(), 'the wrtkit host'));
  }
  const byName = new Map(plugins.map((p) => [p.name, p]));
  for (const name of Object.keys(site.plugins).sort()) {
    const config = site.plugins[name]?.config;
    if (config === undefined || Object.keys(config).length === 0) continue;
    const plugin = byName.get(name);
    if (!plugin) throw new WrtkitError(ErrorCodes.PLUGIN_NOT_FOUND, `uci-defaults: unknown plugin ${name}`, { plugin: name });
    blocks.push(configBlock(plugin.config, config, plugin.schema, `plugin ${name}`));
  }
  const lines = [...HEADER(site), ...blocks.flatMap(renderBlock), 'exit 0', ''];
  return { path: UCI_DEFAULTS_PATH, script: lines.join('\n'), configs: blocks.map((b) => b.config), keep: [`${MARKER_DIR}/`] };
}
