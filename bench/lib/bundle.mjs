// Bundles a bench's TypeScript entry (test lab modules, plugin sources) into one ES
// module under .cache/bench and imports it — a fresh build every run, so a bench measures
// this checkout. Shared by bench/pirania, bench/dynapoint, bench/offload and bench/mptcp.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/**
 * entry → outfile, imported. `define` replaces expressions at build time (a lab module
 * that finds the repository from `import.meta.dirname` needs its source's directory).
 */
export async function bundleAndImport(entry, outfile, { define } = {}) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    ...(define ? { define } : {}),
    // sdk/src/lab also exports the Chromium helper, which imports playwright-core: never
    // bundled (no browser here); resolved from node_modules only if something called it
    external: ['playwright-core'],
    // CommonJS dependencies of the SDK (tapable) call require() for Node built-ins
    banner: {
      js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);",
    },
  });
  return import(pathToFileURL(outfile).href);
}
