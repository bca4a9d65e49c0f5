import type { Cancel, Clock } from './clock.js';

interface Scheduled {
  id: number;
  at: number;
  fn: () => void;
  every?: number;
}

/**
 * A clock that only moves when told to. `advance(ms)` runs every timer that falls due,
 * in time order, letting promise callbacks settle between timers so async code driven
 * by timers behaves as it would in real time.
 */
export class FakeClock implements Clock {
  private current: number;
  private mono = 0;
  private nextId = 1;
  private queue: Scheduled[] = [];

  constructor(startWallMs = Date.UTC(2026, 0, 1)) {
    this.current = startWallMs;
  }

  now(): number {
    return this.current;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimeout(fn: () => void, ms: number): Cancel {
    return this.schedule(fn, Math.max(0, ms));
  }

  setInterval(fn: () => void, ms: number): Cancel {
    return this.schedule(fn, Math.max(1, ms), Math.max(1, ms));
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Number of timers waiting. */
  pending(): number {
    return this.queue.length;
  }

  /** Moves time forward by ms, running due timers in order. */
  async advance(ms: number): Promise<void> {
    const target = this.mono + ms;
    for (;;) {
      await settle();
      this.queue.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.queue[0];
      if (!next || next.at > target) break;
      this.queue.shift();
      this.moveTo(next.at);
      if (next.every !== undefined) this.queue.push({ ...next, at: next.at + next.every });
      next.fn();
    }
    this.moveTo(target);
    await settle();
  }

  private moveTo(mono: number): void {
    this.current += mono - this.mono;
    this.mono = mono;
  }

  private schedule(fn: () => void, ms: number, every?: number): Cancel {
    const id = this.nextId++;
    const entry: Scheduled = { id, at: this.mono + ms, fn };
    if (every !== undefined) entry.every = every;
    this.queue.push(entry);
    return () => {
      this.queue = this.queue.filter((s) => s.id !== id);
    };
  }
}

/** Lets queued promise callbacks run (several rounds, for chained awaits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
