#!/usr/bin/env node
// Usage: node core/scripts/gen-config.mjs <schema.json> <out-dir> [--type Name] [--check]
// The repository's front end to the SDK's generator (sdk/build/gen-config.mjs).
import { genConfig } from '../../sdk/build/gen-config.mjs';

const args = process.argv.slice(2);
const check = args.includes('--check');
const typeIndex = args.indexOf('--type');
const typeName = typeIndex >= 0 ? args[typeIndex + 1] : 'Config';
const [schemaPath, outDir] = args.filter((a, i) => !a.startsWith('--') && (typeIndex < 0 || i !== typeIndex + 1));
if (!schemaPath || !outDir) {
  console.error('usage: gen-config.mjs <schema.json> <out-dir> [--type Name] [--check]');
  process.exit(2);
}
// Core's own config imports its types from core itself; plugins from the SDK.
const typesModule = outDir.replace(/\/+$/, '').endsWith('core/src/generated') ? '@wrtkit/core' : '@wrtkit/sdk';
const changed = await genConfig({ schemaPath, outDir, typeName, check, typesModule });
if (check && changed.length > 0) {
  console.error(`generated config code is out of date, run gen-config: ${changed.join(', ')}`);
  process.exit(1);
}
