import type { UciContext, UciPackage } from '../uci/index.js';

/** Read-only view of UCI for plugins: the committed state of any package. */
export interface UciReader {
  /** The committed package, or undefined when /etc/config/<name> does not exist. */
  get(packageName: string): UciPackage | undefined;
}

export function createUciReader(context: UciContext): UciReader {
  return {
    get(packageName) {
      return context.loadCommitted(packageName);
    },
  };
}
