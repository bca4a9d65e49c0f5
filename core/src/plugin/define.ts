import type { DependencyContainer } from 'tsyringe';
import type { Clock } from '../clock/clock.js';
import type { ConfigValidator } from '../config/validate.js';
import type { ConfigEdits } from '../config/edit.js';
import type { JsonSchema } from '../config/uci-json.js';
import type { MethodTable } from '../control/methods.js';
import type { ComposedPackage } from '../hooks/events.js';
import type { HookOffer } from '../hooks/offers.js';
import type { OfferedHooksView, PluginHooks } from '../hooks/view.js';
import type { Logger } from '../log/logger.js';
import type { StateStore } from '../state/store.js';
import type { PluginProcesses } from '../system/processes.js';
import type { UciReader } from '../config/uci-reader.js';
import type { PluginUbus } from '../ubus/scoped.js';
import type { Platform } from '../platform/platform.js';

/** What `setup` may return: undone in reverse order when the plugin stops. */
export type Teardown = () => void | Promise<void>;

/** Everything a plugin receives. The same services are in `container` under Tokens. */
export interface PluginContext<TConfig = unknown> {
  readonly name: string;
  readonly version: string;
  /** This plugin's own child container (register the plugin's classes here). */
  readonly container: DependencyContainer;
  /** The host's hooks, with taps named after this plugin and guarded. */
  readonly hooks: PluginHooks<TConfig>;
  /** Hooks another plugin offers (declare it in `dependencies`), or this plugin's own. */
  hooksOf<T extends object>(offer: HookOffer<T>): OfferedHooksView<T>;
  /** The current, validated config (defaults filled in); replaced on every valid change. */
  readonly config: TConfig;
  readonly log: Logger;
  readonly clock: Clock;
  /** Persistent, batched, atomic state of this plugin. */
  readonly state: StateStore;
  /** Programs listed in the manifest's permissions.exec, argv arrays only. */
  readonly processes: PluginProcesses;
  /**
   * The engine's files, sockets, timers and random bytes, for a plugin's own files and
   * ports (a voucher store, a portal page). Programs go through `processes`, which
   * enforces the manifest; time through `clock`, which tests can run fast.
   */
  readonly platform: Platform;
  /** Read access to any UCI package (committed state). */
  readonly uci: UciReader;
  /** ubus, limited to the manifest's permissions.ubus; listeners end with the plugin. */
  readonly ubus: PluginUbus;
  /**
   * Serves methods as an object named after the plugin: `<plugin>`, or `<plugin>.<name>`,
   * or `<name>` itself when the manifest lists it in `objects`.
   */
  serve(methods: MethodTable, name?: string): void;
  /**
   * Changes the plugin's own UCI package and commits it, as `uci set …; uci commit`
   * would: keys are `<section>.<option>`, values strings, lists as arrays, null deletes.
   * The new config is validated first — an invalid change throws WRTKIT_ERR_CONFIG_INVALID
   * naming the UCI path, and nothing is written. A valid one is then loaded like any
   * reload and reaches `configChanged`. Resolves when that is done (when called from a
   * configChanged tap, it resolves at once and the change follows that reload).
   */
  setConfig(edits: ConfigEdits): Promise<void>;
  /** Asks the host to compose and apply a UCI package again (coalesced, applied once). */
  requestCompose(pkg: ComposedPackage, reason: string): void;
  /** Runs fn when the plugin stops (in reverse order of registration). */
  onTeardown(fn: Teardown): void;
}

export interface PluginDefinition<TConfig = unknown> {
  /** Package-style name: lower case letters, digits and dashes. */
  name: string;
  version: string;
  /** The host API range this plugin is written for, e.g. "^1". */
  apiVersion: string;
  /** Other plugins this one needs, by name, with a version range. */
  dependencies?: Readonly<Record<string, string>>;
  /** JSON Schema of /etc/config/<name> (see docs/plugin-authors.md for the shape). */
  configSchema?: JsonSchema;
  /** The validator generated from configSchema by gen-config (no compiler on the device). */
  validateConfig?: ConfigValidator;
  /** Hooks this plugin offers to others (see defineHooks). */
  offers?: HookOffer<object>;
  setup(ctx: PluginContext<TConfig>): void | Teardown | Promise<void | Teardown>;
}

export const PLUGIN_BRAND = Symbol.for('wrtkit.plugin');

/** Declares a plugin; the result is the default export of the plugin's bundle. */
export function definePlugin<TConfig = unknown>(definition: PluginDefinition<TConfig>): PluginDefinition<TConfig> {
  return Object.freeze({ ...definition, [PLUGIN_BRAND]: true });
}

export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as Record<symbol, unknown>)[PLUGIN_BRAND] === true &&
    typeof (value as PluginDefinition).setup === 'function'
  );
}
