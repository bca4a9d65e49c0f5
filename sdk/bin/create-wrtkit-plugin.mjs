#!/usr/bin/env node
// `npm create wrtkit-plugin <name>`: a new plugin workspace, as `wrtkit new-plugin` makes it.
import path from 'node:path';
import { scaffoldPlugin } from '../build/scaffold.mjs';

const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith('--'));
if (!name) {
  console.error('usage: npm create wrtkit-plugin <name>');
  process.exit(2);
}
const sdkIndex = args.indexOf('--sdk');
await scaffoldPlugin({ name, dir: path.resolve(name), sdk: sdkIndex >= 0 ? args[sdkIndex + 1] : undefined });
