import type { Cancel, Clock } from '../clock/clock.js';
import { ErrorCodes, WrtkitError, messageOf } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { FileSystem } from '../platform/platform.js';
import { dirname } from '../util/path.js';

/**
 * A plugin's persistent state: a JSON object in one file, written atomically
 * (temp + fsync + rename) and in batches. Routers store it on flash that wears with every
 * erase, so many set() calls within `flushDelayMs` become one write; shutdown flushes.
 */
export interface StateStore {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  keys(): string[];
  /** Writes pending changes now. */
  flush(): void;
}

export interface FileStateStoreOptions {
  fs: FileSystem;
  clock: Clock;
  log: Logger;
  /** The JSON file holding the state. */
  path: string;
  /** How long changes may wait before they are written (batching). */
  flushDelayMs: number;
}

export class FileStateStore implements StateStore {
  private data: Record<string, unknown>;
  private dirty = false;
  private pending: Cancel | undefined;
  /** Number of file writes so far (for tests and the benchmark). */
  writes = 0;

  constructor(private readonly options: FileStateStoreOptions) {
    this.data = this.load();
  }

  get<T = unknown>(key: string): T | undefined {
    const value = this.data[key];
    // Callers get a copy: mutating it must not change the state without set().
    return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as T);
  }

  set(key: string, value: unknown): void {
    if (value === undefined) return this.delete(key);
    let encoded: string;
    try {
      encoded = JSON.stringify(value);
    } catch (error) {
      throw new WrtkitError(ErrorCodes.STATE_WRITE, `state ${key} is not JSON-serialisable: ${messageOf(error)}`);
    }
    this.data[key] = JSON.parse(encoded);
    this.markDirty();
  }

  delete(key: string): void {
    if (!(key in this.data)) return;
    delete this.data[key];
    this.markDirty();
  }

  keys(): string[] {
    return Object.keys(this.data);
  }

  flush(): void {
    this.pending?.();
    this.pending = undefined;
    if (!this.dirty) return;
    const { fs, path, log } = this.options;
    try {
      fs.mkdirp(dirname(path));
      fs.writeAtomic(path, `${JSON.stringify(this.data, null, 1)}\n`, { mode: 0o600 });
      this.dirty = false;
      this.writes++;
    } catch (error) {
      // Keep the data dirty: the next flush tries again, nothing is lost in memory.
      log.error('cannot write state', { path, error: messageOf(error), code: ErrorCodes.STATE_WRITE });
      this.schedule();
    }
  }

  private markDirty(): void {
    this.dirty = true;
    if (!this.pending) this.schedule();
  }

  private schedule(): void {
    this.pending = this.options.clock.setTimeout(() => {
      this.pending = undefined;
      this.flush();
    }, this.options.flushDelayMs);
  }

  private load(): Record<string, unknown> {
    const { fs, path, log, clock } = this.options;
    const text = fs.tryReadText(path);
    if (text === undefined) return {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
      throw new Error('not a JSON object');
    } catch (error) {
      // Never throw away what we cannot read: move it aside for a human to look at.
      const aside = `${path}.corrupt-${clock.now()}`;
      try {
        fs.rename(path, aside);
      } catch {
        // if even the rename fails, the file stays where it is and we start empty
      }
      log.error('state file is unreadable; moved aside, starting empty', { path, aside, error: messageOf(error) });
      return {};
    }
  }
}
