// Rollup plugin for plugin bundles: imports of the modules the host shares
// (@wrtkit/sdk, @wrtkit/core, tsyringe, tapable) resolve to the host's copies, published on a
// global by the host before it loads plugins (core/src/runtime/bridge.ts). A plugin
// bundle therefore carries none of them, and tsyringe's decorator registry, tapable's
// hook classes and core's error classes are the host's own.
const PREFIX = '\0wrtkit-runtime:';
export const BRIDGED = ['@wrtkit/sdk', '@wrtkit/core', 'tsyringe', 'tapable'];

export function runtimeBridge() {
  return {
    name: 'wrtkit-runtime-bridge',
    resolveId(source) {
      if (BRIDGED.includes(source)) return { id: PREFIX + source, syntheticNamedExports: '__exports' };
      if (source === 'reflect-metadata') return { id: `${PREFIX}reflect-metadata` };
      return null;
    },
    load(id) {
      if (!id.startsWith(PREFIX)) return null;
      const name = id.slice(PREFIX.length);
      // The host loads reflect-metadata once at its entry point; plugins must not again.
      if (name === 'reflect-metadata') return 'export {};';
      return [
        `const runtime = globalThis[Symbol.for('wrtkit.runtime.v1')];`,
        `if (!runtime) throw new Error('this is a wrtkit plugin: load it through the wrtkit host (runtime ${name} missing)');`,
        `export const __exports = runtime[${JSON.stringify(name)}];`,
        `export default __exports.default;`,
      ].join('\n');
    },
  };
}
