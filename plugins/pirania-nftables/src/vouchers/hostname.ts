import type { UciReader } from '@wrtkit/sdk';
import type { StoreFs } from './store.js';

/**
 * This node's name, for author_node: the kernel's (what Pirania's utils.hostname reads),
 * else system.@system[0].hostname, else ''. Never throws: a voucher without an author is
 * better than no voucher.
 */
export function readHostname(fs: Pick<StoreFs, 'tryReadText'>, uci?: UciReader): string {
  try {
    const kernel = fs.tryReadText('/proc/sys/kernel/hostname')?.trim();
    if (kernel) return kernel;
  } catch {
    // not Linux, or not readable: try UCI
  }
  try {
    const value = uci?.get('system')?.ofType('system')[0]?.get('hostname');
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  } catch {
    // no system config
  }
  return '';
}
