import type { TimerHandle, Timers } from '../platform/platform.js';

/**
 * Time as the host and plugins see it. Everything that waits (batched state writes,
 * hook time limits, retry backoff, probe intervals) goes through a Clock, so tests can
 * run hours of router time in milliseconds with FakeClock.
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds; use for durations. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): Cancel;
  setInterval(fn: () => void, ms: number): Cancel;
  /** Resolves after ms (a cancellable sleep is setTimeout). */
  sleep(ms: number): Promise<void>;
}

/** Stops a timer; calling it twice is harmless. */
export type Cancel = () => void;

/** The real clock, on whichever engine's timers the platform offers. */
export class SystemClock implements Clock {
  constructor(private readonly timers: Timers) {}

  now(): number {
    return this.timers.wallMs();
  }

  monotonic(): number {
    return this.timers.monotonicMs();
  }

  setTimeout(fn: () => void, ms: number): Cancel {
    const handle = this.timers.setTimeout(fn, Math.max(0, ms));
    return () => this.timers.clearTimeout(handle);
  }

  setInterval(fn: () => void, ms: number): Cancel {
    // Re-armed timeouts instead of a native interval: qjs has no setInterval in `os`.
    let handle: TimerHandle | undefined;
    let stopped = false;
    const arm = () => {
      handle = this.timers.setTimeout(
        () => {
          if (stopped) return;
          arm();
          fn();
        },
        Math.max(1, ms),
      );
    };
    arm();
    return () => {
      stopped = true;
      if (handle !== undefined) this.timers.clearTimeout(handle);
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.setTimeout(resolve, Math.max(0, ms)));
  }
}
