import type { DependencyContainer } from 'tsyringe';
import type { Cancel, Clock } from '../clock/clock.js';
import type { ConfigIssue } from '../config/validate.js';
import { type SerializedError, WrtkitError, serializeError } from '../errors.js';
import type { ViewOwner, RecordedTaps } from '../hooks/view.js';
import type { PluginDefinition, Teardown } from '../plugin/define.js';
import type { PluginManifest } from '../plugin/manifest.js';
import type { StateStore } from '../state/store.js';

/**
 * - loaded: code and manifest are fine, not started yet
 * - starting / running: setup is running / done
 * - failed: setup or a tap failed; a retry is scheduled
 * - disabled: switched off (by config, or after too many failures) until a reload
 * - config-invalid: never had a valid config, so never started; a reload retries
 * - refused: cannot start at all (dependency, manifest, API version) — fix and restart
 * - stopped: the host shut it down
 */
export type PluginState = 'loaded' | 'starting' | 'running' | 'failed' | 'disabled' | 'config-invalid' | 'refused' | 'stopped';

export interface HookStats {
  calls: number;
  failures: number;
  totalMs: number;
  maxMs: number;
}

/** What `wrtkit plugins` shows for each plugin. */
export interface PluginStatus {
  name: string;
  version: string;
  state: PluginState;
  generation: number;
  failures: number;
  nextRetryInMs?: number;
  errors: SerializedError[];
  configIssues: ConfigIssue[];
  hooks: Record<string, HookStats>;
  hookTimeMs: number;
}

const MAX_ERRORS_KEPT = 10;

/** The host's record of one plugin; also the owner its hook taps report to. */
export class PluginRuntime implements ViewOwner {
  state: PluginState = 'loaded';
  generation = 0;
  /** Consecutive failures, for the retry backoff. */
  failures = 0;
  retryCancel: Cancel | undefined;
  retryAt: number | undefined;
  /** The last valid config (what the plugin runs with). */
  config: unknown = undefined;
  configIssues: ConfigIssue[] = [];
  container: DependencyContainer | undefined;
  store: StateStore | undefined;
  recorded: RecordedTaps = new Map();
  teardowns: Teardown[] = [];
  readonly errors: SerializedError[] = [];
  private readonly stats = new Map<string, HookStats>();
  private accepting = false;

  constructor(
    readonly definition: PluginDefinition,
    readonly manifest: PluginManifest,
    readonly clock: Clock,
    private readonly settings: { hookTimeoutMs: () => number },
    private readonly onFailure: (plugin: PluginRuntime, error: WrtkitError) => void,
  ) {}

  get name(): string {
    return this.definition.name;
  }

  get version(): string {
    return this.definition.version;
  }

  get hookTimeoutMs(): number {
    return this.settings.hookTimeoutMs();
  }

  get dependencies(): readonly string[] {
    return Object.keys(this.definition.dependencies ?? {});
  }

  isLive(generation: number): boolean {
    return generation === this.generation && (this.state === 'running' || this.state === 'starting');
  }

  acceptingTaps(): boolean {
    return this.accepting;
  }

  setAcceptingTaps(value: boolean): void {
    this.accepting = value;
  }

  mayWriteUci(pkg: string): boolean {
    return this.manifest.permissions?.uci?.includes(pkg) ?? false;
  }

  recordCall(hook: string, ms: number, failed: boolean): void {
    const stats = this.stats.get(hook) ?? { calls: 0, failures: 0, totalMs: 0, maxMs: 0 };
    stats.calls++;
    if (failed) stats.failures++;
    stats.totalMs += ms;
    stats.maxMs = Math.max(stats.maxMs, ms);
    this.stats.set(hook, stats);
  }

  fail(error: WrtkitError): void {
    this.onFailure(this, error);
  }

  recordError(error: unknown): void {
    this.errors.push({ ...serializeError(error), at: this.clock.now() } as SerializedError);
    if (this.errors.length > MAX_ERRORS_KEPT) this.errors.splice(0, this.errors.length - MAX_ERRORS_KEPT);
  }

  /** Starts a new generation: earlier taps go quiet, earlier lifecycle taps are forgotten. */
  nextGeneration(): number {
    this.generation++;
    this.recorded = new Map();
    this.teardowns = [];
    return this.generation;
  }

  status(): PluginStatus {
    const hooks: Record<string, HookStats> = {};
    let hookTimeMs = 0;
    for (const [name, stats] of this.stats) {
      hooks[name] = { ...stats, totalMs: round(stats.totalMs), maxMs: round(stats.maxMs) };
      hookTimeMs += stats.totalMs;
    }
    const out: PluginStatus = {
      name: this.name,
      version: this.version,
      state: this.state,
      generation: this.generation,
      failures: this.failures,
      errors: [...this.errors],
      configIssues: [...this.configIssues],
      hooks,
      hookTimeMs: round(hookTimeMs),
    };
    if (this.retryAt !== undefined) out.nextRetryInMs = Math.max(0, Math.round(this.retryAt - this.clock.monotonic()));
    return out;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
