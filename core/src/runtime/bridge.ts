/**
 * Plugins are separate bundles, but they must share the host's copy of tsyringe (whose
 * `@injectable` registry is module state), tapable and @wrtkit/core (for `instanceof
 * WrtkitError`). The host publishes its modules on a global key before loading plugins;
 * plugin bundles are built with those imports pointing at it (sdk/build/runtime-bridge.mjs). A versioned key lets a future host serve old plugins side by side.
 */
export const RUNTIME_KEY = Symbol.for('wrtkit.runtime.v1');

export const BRIDGED_MODULES = ['@wrtkit/sdk', '@wrtkit/core', 'tsyringe', 'tapable'] as const;
export type BridgedModule = (typeof BRIDGED_MODULES)[number];

export function installRuntime(modules: Record<BridgedModule, unknown>): void {
  (globalThis as Record<symbol, unknown>)[RUNTIME_KEY] = Object.freeze({ ...modules });
}
