// Entry point of the wrtkit bundle, the same file on QuickJS and Node.js.
// reflect-metadata is loaded here once, before anything uses tsyringe's decorators.
import 'reflect-metadata';
import * as tapable from 'tapable';
import * as tsyringe from 'tsyringe';
import { runCli } from './cli/cli.js';
import * as core from './index.js';
import { loadPlatform } from './platform/detect.js';
import { installRuntime } from './runtime/bridge.js';

// @wrtkit/sdk, as plugins import it: core's API plus tapable's hooks and tsyringe's
// decorators (sdk/src/index.ts lists the same names).
const sdk = { ...core, ...tapable, inject: tsyringe.inject, injectable: tsyringe.injectable, singleton: tsyringe.singleton };
installRuntime({ '@wrtkit/sdk': sdk, '@wrtkit/core': core, tsyringe, tapable });

// No top-level await on purpose: on QuickJS 2025-04-26, once the main module has awaited
// a dynamic import at top level, promise jobs only run when an os event (timer, fd,
// signal) arrives, which stalls every await in the host.
async function main(): Promise<void> {
  const platform = await loadPlatform();
  try {
    platform.exit(await runCli(platform, platform.args));
  } catch (error) {
    platform.stdio.writeStderr(`wrtkit: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    platform.exit(1);
  }
}

void main();
