import satisfies from 'semver/functions/satisfies.js';
import { ErrorCodes, WrtkitError, messageOf } from '../errors.js';
import type { Platform } from '../platform/platform.js';
import { join } from '../util/path.js';
import { HOST_API_VERSION } from '../version.js';
import { type PluginDefinition, isPluginDefinition } from './define.js';
import { type PluginManifest, checkManifest } from './manifest.js';

/** A plugin ready to be ordered and started: its manifest and its code. */
export interface LoadedPlugin {
  manifest: PluginManifest;
  definition: PluginDefinition;
  /** Where it came from (a directory, or "in-process"). */
  origin: string;
}

export interface LoadResult {
  loaded: LoadedPlugin[];
  /** Plugins that could not be loaded, each with a coded error naming it. */
  problems: WrtkitError[];
}

/**
 * Checks a definition against its manifest and the host: the names, versions and
 * dependencies must agree (the manifest is what packaging and the loader trust before
 * running code; the definition is what runs), and the host API must be in range.
 */
export function checkDefinition(definition: PluginDefinition, manifest: PluginManifest, origin: string): void {
  const mismatches: string[] = [];
  if (definition.name !== manifest.name) mismatches.push(`name ${definition.name} vs ${manifest.name}`);
  if (definition.version !== manifest.version) mismatches.push(`version ${definition.version} vs ${manifest.version}`);
  if (definition.apiVersion !== manifest.apiVersion)
    mismatches.push(`apiVersion ${definition.apiVersion} vs ${manifest.apiVersion}`);
  const a = JSON.stringify(Object.entries(definition.dependencies ?? {}).sort());
  const b = JSON.stringify(Object.entries(manifest.dependencies ?? {}).sort());
  if (a !== b) mismatches.push(`dependencies ${a} vs ${b}`);
  if (mismatches.length > 0) {
    throw new WrtkitError(
      ErrorCodes.MANIFEST_MISMATCH,
      `plugin ${manifest.name} (${origin}): code and manifest disagree: ${mismatches.join('; ')}`,
      {
        plugin: manifest.name,
        details: { mismatches },
      },
    );
  }
  if (!satisfies(HOST_API_VERSION, manifest.apiVersion, { includePrerelease: true })) {
    throw new WrtkitError(
      ErrorCodes.API_VERSION,
      `plugin ${manifest.name} needs host API ${manifest.apiVersion}, this host provides ${HOST_API_VERSION}`,
      { plugin: manifest.name, details: { wanted: manifest.apiVersion, provided: HOST_API_VERSION } },
    );
  }
}

/** The manifest that an in-process definition implies (tests, the SDK harness). */
export function manifestOf(definition: PluginDefinition, extra: Partial<PluginManifest> = {}): PluginManifest {
  const manifest: PluginManifest = {
    name: definition.name,
    version: definition.version,
    apiVersion: definition.apiVersion,
    ...extra,
  };
  if (definition.dependencies) manifest.dependencies = { ...definition.dependencies };
  return manifest;
}

/**
 * Loads every plugin installed under pluginDir: `<dir>/<name>/manifest.json` and the
 * bundle it names. Each broken plugin is reported on its own; the rest load.
 */
export async function loadInstalledPlugins(platform: Platform, pluginDir: string): Promise<LoadResult> {
  const loaded: LoadedPlugin[] = [];
  const problems: WrtkitError[] = [];
  for (const entry of platform.fs.list(pluginDir)) {
    if (entry.kind !== 'directory' && entry.kind !== 'symlink') continue;
    const dir = join(pluginDir, entry.name);
    const manifestPath = join(dir, 'manifest.json');
    try {
      const text = platform.fs.tryReadText(manifestPath);
      if (text === undefined) continue; // not a plugin folder
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new WrtkitError(ErrorCodes.MANIFEST_INVALID, `invalid plugin manifest ${manifestPath}: ${messageOf(error)}`, {
          plugin: entry.name,
        });
      }
      const manifest = checkManifest(parsed, manifestPath);
      if (manifest.name !== entry.name) {
        throw new WrtkitError(
          ErrorCodes.MANIFEST_MISMATCH,
          `plugin folder ${entry.name} holds a manifest named ${manifest.name}`,
          {
            plugin: manifest.name,
          },
        );
      }
      const entryPath = join(dir, manifest.entry ?? 'index.js');
      let module: { default?: unknown };
      try {
        module = (await platform.importModule(entryPath)) as { default?: unknown };
      } catch (error) {
        throw new WrtkitError(ErrorCodes.PLUGIN_LOAD, `plugin ${manifest.name}: cannot load ${entryPath}: ${messageOf(error)}`, {
          plugin: manifest.name,
          cause: error,
        });
      }
      if (!isPluginDefinition(module.default)) {
        throw new WrtkitError(
          ErrorCodes.PLUGIN_LOAD,
          `plugin ${manifest.name}: ${entryPath} does not export a definePlugin() result as default`,
          {
            plugin: manifest.name,
          },
        );
      }
      checkDefinition(module.default, manifest, dir);
      loaded.push({ manifest, definition: module.default, origin: dir });
    } catch (error) {
      problems.push(
        error instanceof WrtkitError
          ? error
          : new WrtkitError(ErrorCodes.PLUGIN_LOAD, `plugin ${entry.name}: ${messageOf(error)}`, {
              plugin: entry.name,
              cause: error,
            }),
      );
    }
  }
  return { loaded, problems };
}
