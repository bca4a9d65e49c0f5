import type { PluginContext } from '@wrtkit/sdk';
import { parseVoucher, sameVoucher, serializeVoucher } from './codec.js';
import type { Voucher } from './voucher.js';

/** The file operations the store needs: `ctx.platform.fs` on the router, the Node platform's in tests. */
export type StoreFs = Pick<
  PluginContext['platform']['fs'],
  'readText' | 'tryReadText' | 'writeAtomic' | 'list' | 'remove' | 'mkdirp' | 'exists'
>;

/** A file in the store that did not load; it is left on disk for a human to look at. */
export interface LoadProblem {
  file: string;
  reason: string;
}

export interface LoadResult {
  /** Sorted by id. */
  vouchers: Voucher[];
  problems: LoadProblem[];
}

export function joinPath(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, '')}/${name}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Pirania's store: a directory with one `<id>.json` per voucher. One file per voucher
 * means a write touches only what changed (flash wear) and a replica can ship single
 * vouchers. Every write goes through writeAtomic (temporary file, fsync, rename), so a
 * power cut or kill -9 leaves the old or the new voucher, never half of one.
 */
export class VoucherStore {
  readonly dir: string;

  constructor(
    private readonly fs: StoreFs,
    dbPath: string,
  ) {
    this.dir = dbPath.replace(/\/+$/, '') || '/';
  }

  fileOf(id: string): string {
    return joinPath(this.dir, `${id}.json`);
  }

  /**
   * Every voucher in the directory. A file that is not JSON, not a voucher, or named
   * after another id is skipped and reported, never deleted: one bad file must not take
   * the portal down, and it may be the only copy of someone's voucher. Names starting
   * with a dot are not vouchers: writeAtomic's temporary files (`.<name>.<pid>.tmp`) and
   * the store's own bookkeeping (`.pruned.json`).
   */
  load(): LoadResult {
    const vouchers: Voucher[] = [];
    const problems: LoadProblem[] = [];
    let entries: ReturnType<StoreFs['list']>;
    try {
      entries = this.fs.list(this.dir);
    } catch (error) {
      return { vouchers, problems: [{ file: this.dir, reason: describe(error) }] };
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || !entry.name.endsWith('.json')) continue;
      if (entry.kind !== 'file' && entry.kind !== 'symlink') continue;
      const file = joinPath(this.dir, entry.name);
      let text: string;
      try {
        text = this.fs.readText(file);
      } catch (error) {
        problems.push({ file, reason: describe(error) });
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        problems.push({ file, reason: 'invalid JSON' });
        continue;
      }
      const parsed = parseVoucher(json);
      if (parsed.error !== undefined) {
        problems.push({ file, reason: parsed.error });
        continue;
      }
      // We write a voucher to <id>.json; one living under another name would be doubled.
      if (`${parsed.voucher.id}.json` !== entry.name) {
        problems.push({ file, reason: `holds voucher ${parsed.voucher.id}, expected in ${parsed.voucher.id}.json` });
        continue;
      }
      vouchers.push(parsed.voucher);
    }
    vouchers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { vouchers, problems };
  }

  /** The voucher in its file, or undefined when missing or unreadable. */
  read(id: string): Voucher | undefined {
    try {
      const text = this.fs.tryReadText(this.fileOf(id));
      return text === undefined ? undefined : parseVoucher(JSON.parse(text)).voucher;
    } catch {
      return undefined;
    }
  }

  /**
   * Writes the voucher unless its file already holds it (compared as vouchers, so a file
   * Pirania wrote with other spacing or key order is not rewritten for nothing). Returns
   * whether it wrote.
   */
  write(voucher: Voucher): boolean {
    const current = this.read(voucher.id);
    if (current !== undefined && sameVoucher(current, voucher)) return false;
    this.fs.mkdirp(this.dir);
    this.fs.writeAtomic(this.fileOf(voucher.id), serializeVoucher(voucher));
    return true;
  }

  remove(id: string): void {
    this.fs.remove(this.fileOf(id));
  }
}
