import { ErrorCodes, WrtkitError, messageOf } from '../errors.js';
import { type PluginManifest, checkManifest } from '../plugin/manifest.js';
import { type CommandDefinition, isCommandDefinition } from '../plugin/command.js';
import type { Platform } from '../platform/platform.js';
import { join } from '../util/path.js';

/** A command an installed plugin provides, as its manifest says (no code loaded yet). */
export interface InstalledCommand {
  name: string;
  plugin: string;
  /** The command's bundle. */
  file: string;
}

/**
 * The commands of the plugins installed in pluginDir, sorted by name. Only manifests are
 * read; a plugin whose manifest is broken offers none (`wrtkit plugins` and the host's
 * log say what is wrong with it).
 */
export function findPluginCommands(platform: Platform, pluginDir: string): InstalledCommand[] {
  const found: InstalledCommand[] = [];
  for (const entry of platform.fs.list(pluginDir)) {
    if (entry.kind !== 'directory' && entry.kind !== 'symlink') continue;
    const dir = join(pluginDir, entry.name);
    let manifest: PluginManifest;
    try {
      const text = platform.fs.tryReadText(join(dir, 'manifest.json'));
      if (text === undefined) continue;
      manifest = checkManifest(JSON.parse(text), join(dir, 'manifest.json'));
    } catch {
      continue;
    }
    for (const [name, file] of Object.entries(manifest.commands ?? {})) {
      found.push({ name, plugin: manifest.name, file: join(dir, file) });
    }
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.plugin < b.plugin ? -1 : 1));
}

/**
 * Imports a command's bundle; its default export must be the defineCommand() result for
 * the name its manifest gives. Throws WRTKIT_ERR_PLUGIN_LOAD otherwise.
 */
export async function loadCommand(platform: Platform, command: InstalledCommand): Promise<CommandDefinition> {
  const fail = (message: string, cause?: unknown) =>
    new WrtkitError(ErrorCodes.PLUGIN_LOAD, `plugin ${command.plugin}: command ${command.name}: ${message}`, {
      plugin: command.plugin,
      ...(cause !== undefined ? { cause } : {}),
      details: { command: command.name, file: command.file },
    });
  let module: { default?: unknown };
  try {
    module = (await platform.importModule(command.file)) as { default?: unknown };
  } catch (error) {
    throw fail(`cannot load ${command.file}: ${messageOf(error)}`, error);
  }
  const definition = module.default;
  if (!isCommandDefinition(definition)) throw fail(`${command.file} does not export a defineCommand() result as default`);
  if (definition.name !== command.name) {
    throw fail(`${command.file} defines command ${definition.name}, but the manifest names it ${command.name}`);
  }
  return definition;
}

/**
 * The "Plugin commands" part of `wrtkit --help`: each command with its summary and
 * plugin. Loads every command's module (for the summary); one that does not load is
 * listed with the reason.
 */
export async function describePluginCommands(platform: Platform, commands: readonly InstalledCommand[]): Promise<string> {
  if (commands.length === 0) return '';
  const lines: string[] = [];
  for (const command of commands) {
    let summary: string;
    try {
      summary = `${(await loadCommand(platform, command)).summary} (${command.plugin})`;
    } catch (error) {
      summary = `(${messageOf(error)})`;
    }
    lines.push(`  ${command.name.padEnd(28)} ${summary}`);
  }
  return `\nPlugin commands:\n${lines.join('\n')}\n`;
}
