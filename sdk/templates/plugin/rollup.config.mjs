// Optional: `npx rollup -c` (or `npx rollup -c -w` to rebuild on change) makes what
// `npx wrtkit build` makes, build/<name>/index.js + manifest.json, from the SDK's own
// rollup pieces. `wrtkit build` needs no config file; keep this one only if you want
// rollup's command line.
import { readFileSync } from 'node:fs';

const sdk = (file) => import(new URL(`build/${file}`, import.meta.resolve('@wrtkit/sdk/package.json')).href);
const { wrtkitPlugins, isExternal, outputOptions } = await sdk('rollup-plugins.mjs');
const { runtimeBridge } = await sdk('runtime-bridge.mjs');
const { manifestFor } = await sdk('plugin.mjs');

// The manifest the host reads before it loads any code: package.json's "wrtkit" field.
const manifest = manifestFor(JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')));

export default {
  input: 'src/index.ts',
  external: isExternal, // node:*, qjs's std/os: the engine's own
  plugins: [
    runtimeBridge(), // @wrtkit/sdk, tsyringe, tapable come from the host, never bundled
    ...wrtkitPlugins({ minify: true }),
    {
      name: 'wrtkit-manifest',
      generateBundle() {
        this.emitFile({ type: 'asset', fileName: 'manifest.json', source: `${JSON.stringify(manifest, null, 2)}\n` });
      },
    },
  ],
  onwarn(warning, warn) {
    // On the router nothing but the engine's built-ins is there to resolve an import.
    if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(warning.message);
    if (warning.code !== 'CIRCULAR_DEPENDENCY' && warning.code !== 'THIS_IS_UNDEFINED') warn(warning);
  },
  output: { ...outputOptions, dir: `build/${manifest.name}`, entryFileNames: 'index.js' },
};
