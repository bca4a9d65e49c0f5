/**
 * The site file as the rest of firmware-build sees it once it is valid, and what the
 * repository's plugins tell the build about themselves. The shapes follow
 * firmware-build/schema/site.schema.json; its descriptions are the documentation.
 */

/** A JSON Schema, loosely: the keywords this code reads, anything else kept. */
export type JsonSchema = {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  [keyword: string]: unknown;
};

/** An option's value in a UCI section: a string, number or boolean option, or a list. */
export type UciOptionValue = string | number | boolean | Array<string | number | boolean>;

/** One UCI section's options; `.name` names a section of a list (else it is anonymous). */
export type UciSectionObject = { '.name'?: string } & Record<string, UciOptionValue | undefined>;

/**
 * A UCI package as a plugin's schema.json shapes it: per section type, one section (an
 * object) or every section of that type (a list).
 */
export type UciConfigObject = Record<string, UciSectionObject | UciSectionObject[]>;

export interface SiteTarget {
  /** `ath79/generic`, `x86/64`. */
  target: string;
  profiles: string[];
  packages?: string[];
  /** Firmware partition per profile, KiB (IMAGE_SIZE), for the flash budget. */
  flash_kib?: Record<string, number>;
}

export interface Community {
  name: string;
  hostname_prefix?: string;
  /** POSIX TZ string. */
  timezone?: string;
  /** IANA zone name (LuCI). */
  zonename?: string;
  ntp_servers?: string[];
}

export interface SitePlugin {
  config?: UciConfigObject;
}

export interface Feed {
  url: string;
  keys: string[];
}

/** A valid site file. `plugins` is always there (`{}` when the file has none). */
export interface Site {
  release: string;
  targets: SiteTarget[];
  community: Community;
  plugins: Record<string, SitePlugin>;
  /** Defaults for /etc/config/wrtkit. */
  host?: UciConfigObject;
  packages?: string[];
  feed?: Feed;
}

/** One thing wrong with a site file. */
export interface SiteError {
  /** Where, in the file's own terms: `plugins.offload.config.offload.mode`, `targets[0].profiles`; '' for the whole file. */
  path: string;
  message: string;
  /**
   * What was broken: the JSON Schema keyword (`enum`, `type`, `required`, ...) or one of
   * the checks beyond the schema: `syntax` (YAML/JSON), `file`, `plugin` (unknown
   * plugin), `dependency` (a plugin another one needs), `unique`, `key`.
   */
  rule: string;
  /** 1-based position in the file, when it is known. */
  line?: number;
  column?: number;
}

/** A plugin this repository offers (a `plugins/*` or `examples/plugins/*` dir whose package.json has `wrtkit`). */
export interface PluginInfo {
  /** wrtkit.name: what the site file calls it. */
  name: string;
  /** The npm package name, e.g. `@wrtkit/plugin-offload`. */
  packageName: string;
  version: string;
  /** Absolute directory. */
  dir: string;
  /** Directory relative to the repository root, e.g. `plugins/offload`. */
  source: string;
  description: string;
  /** The UCI package it reads (wrtkit.config, else its name): /etc/config/<config>. */
  config: string;
  /** Its schema.json (the JSON Schema of its UCI package), when it has one. */
  schema?: JsonSchema;
  /** Plugins it needs (wrtkit.dependencies): name → version range. */
  dependencies: Record<string, string>;
  /** wrtkit.openwrt: the OpenWrt package's depends (with OpenWrt's `+`), title, ... */
  openwrt?: { depends?: string[]; title?: string; [key: string]: unknown };
  /** Whether it has an OpenWrt recipe (an `openwrt/` dir). */
  recipe: boolean;
  /** From examples/plugins rather than plugins. */
  example: boolean;
}
