import {
  AsyncParallelBailHook,
  AsyncParallelHook,
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  AsyncSeriesLoopHook,
  AsyncSeriesWaterfallHook,
  SyncBailHook,
  SyncHook,
  SyncLoopHook,
  SyncWaterfallHook,
} from 'tapable';
import type { Clock } from '../clock/clock.js';
import { ErrorCodes, WrtkitError, messageOf } from '../errors.js';
import { withTimeout } from '../util/timeout.js';

/**
 * How a plugin's function is put on a tapable hook. Every tap goes through here, so that
 * a plugin that throws or hangs is reported and switched off while the host and the
 * other plugins carry on (rollup's PluginDriver wraps plugin errors the same way).
 */

export type HookKind =
  | 'sync'
  | 'sync-bail'
  | 'sync-waterfall'
  | 'sync-loop'
  | 'async-series'
  | 'async-parallel'
  | 'async-series-bail'
  | 'async-parallel-bail'
  | 'async-series-waterfall'
  | 'async-series-loop';

/** Structural view of a tapable hook, enough to tap and call it. */
export interface AnyHook {
  readonly name: string | undefined;
  tap(options: string | { name: string; stage?: number; before?: string }, fn: (...args: never[]) => unknown): void;
  promise(...args: never[]): Promise<unknown>;
  constructor: unknown;
}

const KINDS: Array<[unknown, HookKind]> = [
  [SyncHook, 'sync'],
  [SyncBailHook, 'sync-bail'],
  [SyncWaterfallHook, 'sync-waterfall'],
  [SyncLoopHook, 'sync-loop'],
  [AsyncSeriesHook, 'async-series'],
  [AsyncParallelHook, 'async-parallel'],
  [AsyncSeriesBailHook, 'async-series-bail'],
  [AsyncParallelBailHook, 'async-parallel-bail'],
  [AsyncSeriesWaterfallHook, 'async-series-waterfall'],
  [AsyncSeriesLoopHook, 'async-series-loop'],
];

/** tapable sets `hook.constructor` to the factory, which tells the kind. */
export function hookKind(hook: AnyHook): HookKind {
  for (const [factory, kind] of KINDS) if (hook.constructor === factory) return kind;
  throw new WrtkitError(ErrorCodes.HOOK_NOT_CALLABLE, `${hook.name ?? 'hook'} is not a tapable hook`);
}

export function isAsyncKind(kind: HookKind): boolean {
  return kind.startsWith('async');
}

export function isWaterfallKind(kind: HookKind): boolean {
  return kind.endsWith('waterfall');
}

/** What the guard needs to know about the plugin that owns a tap. */
export interface TapOwner {
  readonly name: string;
  readonly clock: Clock;
  /** Default time limit for one tap call. */
  readonly hookTimeoutMs: number;
  /** Taps from an older generation (before a retry) or of a failed plugin pass through. */
  isLive(generation: number): boolean;
  /** Time spent and outcome, for `wrtkit plugins`. */
  recordCall(hook: string, ms: number, failed: boolean): void;
  /** Reports the failure and switches the plugin off (with a retry later). */
  fail(error: WrtkitError): void;
}

export interface GuardOptions {
  hookName: string;
  kind: HookKind;
  generation: number;
  timeoutMs?: number;
}

/** Copies a waterfall value so a failing tap's half-made changes are thrown away. */
export function cloneValue<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    const withClone = value as unknown as { clone?: () => T };
    if (typeof withClone.clone === 'function') return withClone.clone();
    return JSON.parse(JSON.stringify(value)) as T;
  }
  return value;
}

function hookError(owner: TapOwner, hookName: string, cause: unknown): WrtkitError {
  if (cause instanceof WrtkitError && cause.code === ErrorCodes.HOOK_TIMEOUT) return cause;
  const code = cause instanceof WrtkitError ? ` (${cause.code})` : '';
  return new WrtkitError(ErrorCodes.HOOK_FAILED, `plugin ${owner.name} failed in hook ${hookName}: ${messageOf(cause)}${code}`, {
    plugin: owner.name,
    hook: hookName,
    cause,
  });
}

/**
 * Wraps fn for the hook. Failure results: undefined for plain and bail hooks (the next
 * tap runs), the unchanged input for waterfalls (the plugin's contribution is dropped).
 */
export function guardTap(
  owner: TapOwner,
  fn: (...args: unknown[]) => unknown,
  options: GuardOptions,
): (...args: unknown[]) => unknown {
  const { hookName, kind, generation } = options;
  const waterfall = isWaterfallKind(kind);
  const timeoutMs = options.timeoutMs ?? owner.hookTimeoutMs;

  if (!isAsyncKind(kind)) {
    // Synchronous hooks cannot be timed out (a loop that never yields blocks any
    // JavaScript engine); they are still isolated from throwing.
    return (...args: unknown[]) => {
      if (!owner.isLive(generation)) return waterfall ? args[0] : undefined;
      const callArgs = waterfall ? [cloneValue(args[0]), ...args.slice(1)] : args;
      const started = owner.clock.monotonic();
      try {
        const result = fn(...callArgs);
        owner.recordCall(hookName, owner.clock.monotonic() - started, false);
        return waterfall && result === undefined ? callArgs[0] : result;
      } catch (error) {
        owner.recordCall(hookName, owner.clock.monotonic() - started, true);
        owner.fail(hookError(owner, hookName, error));
        return waterfall ? args[0] : undefined;
      }
    };
  }

  const timeoutError = () =>
    new WrtkitError(ErrorCodes.HOOK_TIMEOUT, `plugin ${owner.name} did not finish hook ${hookName} within ${timeoutMs} ms`, {
      plugin: owner.name,
      hook: hookName,
      details: { timeoutMs },
    });

  return async (...args: unknown[]) => {
    if (!owner.isLive(generation)) return waterfall ? args[0] : undefined;
    const callArgs = waterfall ? [cloneValue(args[0]), ...args.slice(1)] : args;
    const started = owner.clock.monotonic();
    try {
      let result = fn(...callArgs);
      // Only a returned promise can hang without blocking everything, so only a promise
      // gets a time limit; a tap that returns at once costs no promise of our own.
      if (isThenable(result)) result = await withTimeout(owner.clock, Promise.resolve(result), timeoutMs, timeoutError);
      owner.recordCall(hookName, owner.clock.monotonic() - started, false);
      // A waterfall tap that mutates its draft and returns nothing keeps the draft.
      return waterfall && result === undefined ? callArgs[0] : result;
    } catch (error) {
      owner.recordCall(hookName, owner.clock.monotonic() - started, true);
      owner.fail(hookError(owner, hookName, error));
      return waterfall ? args[0] : undefined;
    }
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
