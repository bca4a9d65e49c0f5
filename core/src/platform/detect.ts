/**
 * Picks the Platform for the engine we run on. Both implementations are loaded with a
 * dynamic import so one bundle serves both engines: each module imports its engine's
 * built-ins lazily, inside its factory, and is only evaluated on its own engine.
 */
import type { Platform } from './platform.js';

export async function loadPlatform(): Promise<Platform> {
  // Read through globalThis: `process` is not a global on QuickJS.
  const proc = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  if (typeof proc?.versions?.node === 'string') {
    const { createNodePlatform } = await import('./node/index.js');
    return createNodePlatform();
  }
  const { createQjsPlatform } = await import('./qjs/index.js');
  return createQjsPlatform();
}
