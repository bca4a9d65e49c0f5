// Types for sdk/build/plugin.mjs (plain ESM: the `wrtkit build` command, scripts/build.mjs, tests).

/** The manifest.json written beside the bundles (PluginManifest of @wrtkit/sdk, loosely). */
export interface BuiltManifest {
  name: string;
  version: string;
  apiVersion: string;
  entry: string;
  /** Command name → bundle file (`voucher.js`). */
  commands?: Record<string, string>;
  [field: string]: unknown;
}

/** A bundle written to disk: its path, size and gzipped size in bytes. */
export interface BundleResult {
  file: string;
  size: number;
  gzip: number;
}

export interface BuildOptions {
  minify?: boolean;
  onWarning?: (message: string) => void;
}

export function bundleTo(input: string, file: string, options?: BuildOptions & { plugins?: unknown[] }): Promise<BundleResult>;

/** The built manifest for a package.json with a "wrtkit" field; throws on an invalid command name. */
export function manifestFor(pkg: {
  name: string;
  version: string;
  description?: string;
  wrtkit?: Record<string, unknown>;
}): BuiltManifest;

/** Builds `<out>/<name>/index.js`, one `<command>.js` per command, and manifest.json. */
export function buildPlugin(
  dir: string,
  out: string,
  options?: BuildOptions,
): Promise<BundleResult & { manifest: BuiltManifest; dir: string; commands: Record<string, BundleResult> }>;
