// Types for scripts/bundles.mjs (plain ESM: scripts/build.mjs, firmware-build).

export interface BundleReportRow {
  /** `wrtkit (host + CLI)`, `plugin <name>`, `plugin <name>: <command>`. */
  name: string;
  file: string;
  /** Bytes, and gzipped bytes. */
  size: number;
  gzip: number;
}

export function repoPluginDirs(): string[];
export function buildBundles(options: {
  out: string;
  pluginDirs?: string[];
  minify?: boolean;
  onWarning?: (message: string) => void;
}): Promise<BundleReportRow[]>;
