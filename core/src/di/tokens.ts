/**
 * Injection tokens. `Symbol.for` keys make a token identical in every bundle, so a plugin
 * built separately from the host still resolves the host's services.
 *
 * Root container (one per host): Platform, Clock, HostLogger, Uci, HostInfo.
 * Each plugin's child container adds: PluginName, Logger, Config, State, Processes,
 * Hooks, PluginContext — scoped to that plugin, so plugins never see each other's.
 */
export const Tokens = Object.freeze({
  Platform: Symbol.for('wrtkit.Platform'),
  Clock: Symbol.for('wrtkit.Clock'),
  HostLogger: Symbol.for('wrtkit.HostLogger'),
  Uci: Symbol.for('wrtkit.Uci'),
  HostInfo: Symbol.for('wrtkit.HostInfo'),
  PluginName: Symbol.for('wrtkit.PluginName'),
  Logger: Symbol.for('wrtkit.Logger'),
  Config: Symbol.for('wrtkit.Config'),
  State: Symbol.for('wrtkit.State'),
  Processes: Symbol.for('wrtkit.Processes'),
  Hooks: Symbol.for('wrtkit.Hooks'),
  PluginContext: Symbol.for('wrtkit.PluginContext'),
});

export type TokenName = keyof typeof Tokens;
