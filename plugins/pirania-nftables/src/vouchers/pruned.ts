import { joinPath, type StoreFs } from './store.js';

/**
 * The ids this node pruned lately, and when. Without it a replica that has not pruned
 * yet (it was offline, or its clock is behind) would hand a pruned voucher back and it
 * would live again; remote vouchers with these ids are refused. An entry is dropped
 * after twice the prune period: by then every replica has pruned the voucher too.
 *
 * The file is `<db_path>/.pruned.json`: hidden, so Pirania's `*.json` glob and our
 * loader do not take it for a voucher, and a voucher id (no dots) cannot collide with it.
 */
export class PrunedIds {
  readonly file: string;
  private readonly entries = new Map<string, number>();
  /** Why the file could not be read, when it could not; the record then starts empty. */
  readonly problem: string | undefined;

  constructor(
    private readonly fs: StoreFs,
    dir: string,
  ) {
    this.file = joinPath(dir, '.pruned.json');
    let problem: string | undefined;
    try {
      const text = fs.tryReadText(this.file);
      if (text !== undefined) {
        const json: unknown = JSON.parse(text);
        if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
        for (const [id, at] of Object.entries(json as Record<string, unknown>)) {
          if (typeof at === 'number' && Number.isFinite(at)) this.entries.set(id, at);
        }
      }
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    this.problem = problem;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  ids(): ReadonlySet<string> {
    return new Set(this.entries.keys());
  }

  /**
   * Records ids pruned at `now` and forgets entries older than `keepForS`; writes the
   * file (atomically) only when something changed.
   */
  record(ids: readonly string[], now: number, keepForS: number): void {
    let changed = false;
    for (const id of ids) {
      if (this.entries.get(id) !== now) {
        this.entries.set(id, now);
        changed = true;
      }
    }
    for (const [id, at] of this.entries) {
      if (at < now - keepForS) {
        this.entries.delete(id);
        changed = true;
      }
    }
    if (!changed) return;
    const out: Record<string, number> = {};
    for (const id of [...this.entries.keys()].sort()) out[id] = this.entries.get(id) as number;
    this.fs.mkdirp(this.file.slice(0, this.file.lastIndexOf('/')) || '/');
    this.fs.writeAtomic(this.file, JSON.stringify(out));
  }
}
