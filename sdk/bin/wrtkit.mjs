#!/usr/bin/env node
// The `wrtkit` command of @wrtkit/sdk: the plugin author's commands, and everything else
// handed to the wrtkit host CLI the SDK ships (dist/host/wrtkit.js), so `npx wrtkit run`
// runs a built plugin in a real host.
//
//   wrtkit new-plugin <name> [--dir <path>] [--sdk <version or path>]
//   wrtkit gen-config [--check]          schema.json → src/generated (types + validator)
//   wrtkit build [--out build] [--no-minify]
//   wrtkit build <site.yaml> [--check] …  firmware: packages, feeds, images (firmware-build/)
//   wrtkit keys new [--out keys]           a usign key pair for signing a feed
//   wrtkit <host command> ...           run, status, plugins, call, config validate, uci, ubusd, acl
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [command, ...args] = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};

async function main() {
  switch (command) {
    case 'new-plugin': {
      const { scaffoldPlugin } = await import('../build/scaffold.mjs');
      const name = args.find((a, i) => !a.startsWith('--') && !['--dir', '--sdk'].includes(args[i - 1]));
      if (!name) return usage('wrtkit new-plugin <name> [--dir <path>] [--sdk <version or path>]');
      const dir = path.resolve(option('--dir', name));
      await scaffoldPlugin({ name, dir, sdk: option('--sdk', undefined) });
      return 0;
    }
    case 'gen-config': {
      const { genConfig } = await import('../build/gen-config.mjs');
      const check = args.includes('--check');
      const changed = await genConfig({ schemaPath: path.resolve('schema.json'), outDir: path.resolve('src/generated'), check });
      if (check && changed.length > 0) {
        console.error(`wrtkit: generated config code is out of date (run wrtkit gen-config): ${changed.join(', ')}`);
        return 1;
      }
      for (const file of changed) console.log(`wrote ${path.relative(process.cwd(), file)}`);
      return 0;
    }
    case 'keys':
    case 'build': {
      // `wrtkit build <site file>` and `wrtkit keys new`: the firmware builder, inside the
      // wrtkit repository (firmware-build/); `wrtkit build` alone builds the plugin here.
      const firmware = path.join(here, '../../firmware-build/bin/firmware.mjs');
      const siteFile = args.find((a) => /\.(ya?ml|json)$/.test(a));
      if (command === 'keys' || siteFile || args.includes('--check')) {
        if (!fs.existsSync(firmware))
          return usage('firmware builds run inside the wrtkit repository (firmware-build/ is not here)');
        process.argv = [process.argv[0], firmware, command, ...args];
        await import(pathToFileURL(firmware).href);
        return undefined;
      }
      const { buildPlugin } = await import('../build/plugin.mjs');
      const out = path.resolve(option('--out', 'build'));
      const built = await buildPlugin(process.cwd(), out, {
        minify: !args.includes('--no-minify'),
        onWarning: (m) => console.warn(`warning: ${m}`),
      });
      console.log(
        `${path.relative(process.cwd(), built.dir)}/index.js  ${(built.size / 1024).toFixed(1)} KiB (gzip ${(built.gzip / 1024).toFixed(1)} KiB)`,
      );
      return 0;
    }
    default: {
      // Everything else is the host's CLI, from the host bundle the SDK ships
      // (or, inside the wrtkit repository, the one `make build` made).
      const candidates = [path.join(here, '../dist/host/wrtkit.js'), path.join(here, '../../build/wrtkit.js')];
      const host = candidates.find((c) => fs.existsSync(c));
      if (!host) return usage('the wrtkit host bundle is missing (inside the wrtkit repository: run `make build`)');
      await import(pathToFileURL(host).href);
      return undefined;
    }
  }
}

function usage(text) {
  console.error(`wrtkit: ${text}`);
  return 2;
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error) => {
    console.error(`wrtkit: ${error?.message ?? error}`);
    process.exitCode = 1;
  },
);
