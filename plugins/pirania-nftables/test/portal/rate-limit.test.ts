import { describe, expect, it } from 'vitest';
import { CodeAttemptLimiter, type CodeAttemptLimits } from '../../src/portal/rate-limit.js';

function setup(limits: CodeAttemptLimits = { perClient: 5, global: 50, windowS: 300 }) {
  const clock = { t: 1_000_000, now: () => clock.t };
  return { clock, limiter: new CodeAttemptLimiter(limits, clock) };
}

const A = 'aa:aa:aa:aa:aa:01';
const B = 'aa:aa:aa:aa:aa:02';

describe('CodeAttemptLimiter', () => {
  it('allows a device 5 wrong codes per window, then says how long to wait', () => {
    const { clock, limiter } = setup();
    for (let i = 0; i < 5; i++) {
      expect(limiter.check(A)).toEqual({ ok: true });
      limiter.failure(A);
      clock.t += 10_000;
    }
    // first failure at t0, now t0 + 50 s: it leaves the window at t0 + 300 s
    expect(limiter.check(A)).toEqual({ ok: false, retryAfterS: 250, scope: 'client' });
    expect(limiter.check(B)).toEqual({ ok: true });
    clock.t += 249_000;
    expect(limiter.check(A)).toMatchObject({ ok: false, retryAfterS: 1 });
    clock.t += 1_000;
    expect(limiter.check(A)).toEqual({ ok: true }); // the oldest left the window: one more try
    limiter.failure(A);
    expect(limiter.check(A)).toEqual({ ok: false, retryAfterS: 10, scope: 'client' });
  });

  it('counts MACs case-insensitively', () => {
    const { limiter } = setup({ perClient: 1, global: 50, windowS: 60 });
    limiter.failure(A.toUpperCase());
    expect(limiter.check(A)).toMatchObject({ ok: false, scope: 'client' });
  });

  it('pauses everyone once all devices together reach the global limit', () => {
    const { clock, limiter } = setup({ perClient: 5, global: 6, windowS: 300 });
    for (let i = 0; i < 6; i++) {
      limiter.failure(`aa:aa:aa:aa:bb:${String(i).padStart(2, '0')}`);
      clock.t += 1_000;
    }
    expect(limiter.check(B)).toEqual({ ok: false, retryAfterS: 294, scope: 'global' });
    clock.t += 294_000;
    expect(limiter.check(B)).toEqual({ ok: true });
  });

  it('a right code clears only that device', () => {
    const { limiter } = setup({ perClient: 2, global: 3, windowS: 300 });
    limiter.failure(A);
    limiter.failure(A);
    limiter.failure(B);
    limiter.failure(B);
    expect(limiter.check(A)).toMatchObject({ ok: false, scope: 'client' });
    limiter.success(A);
    expect(limiter.check(B)).toMatchObject({ ok: false, scope: 'client' });
    // A's own count is gone, but the global one (4 ≥ 3) still holds
    expect(limiter.check(A)).toMatchObject({ ok: false, scope: 'global' });
    expect(limiter.globalCount()).toBe(3);
  });

  it('keeps bounded memory under a flood of made-up MACs, forgetting the oldest', () => {
    const { clock, limiter } = setup({ perClient: 3, global: 100, windowS: 300, maxClients: 50 });
    limiter.failure(A);
    limiter.failure(A);
    limiter.failure(A);
    for (let i = 0; i < 10_000; i++) {
      limiter.failure(
        `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
      );
    }
    expect(limiter.size).toBe(50);
    expect(limiter.globalCount()).toBe(100);
    // A was the oldest: forgotten (the global limit still stops everyone)
    expect(limiter.check(A)).toMatchObject({ ok: false, scope: 'global' });
    clock.t += 300_000;
    expect(limiter.check(A)).toEqual({ ok: true });
  });

  it('uses the monotonic clock when there is one, and survives the wall clock going back', () => {
    const clock = { wall: 5_000_000, mono: 100, now: () => clock.wall, monotonic: () => clock.mono };
    const limiter = new CodeAttemptLimiter({ perClient: 1, global: 10, windowS: 60 }, clock);
    limiter.failure(A);
    clock.wall = 0; // NTP correction: ignored
    expect(limiter.check(A)).toEqual({ ok: false, retryAfterS: 60, scope: 'client' });
    const wallOnly = setup({ perClient: 1, global: 10, windowS: 60 });
    wallOnly.limiter.failure(A);
    wallOnly.clock.t -= 3_600_000; // back an hour: the retry never exceeds the window
    expect(wallOnly.limiter.check(A)).toEqual({ ok: true });
  });

  it('takes new limits', () => {
    const { limiter } = setup({ perClient: 5, global: 50, windowS: 300 });
    for (let i = 0; i < 3; i++) limiter.failure(A);
    expect(limiter.check(A)).toEqual({ ok: true });
    limiter.configure({ perClient: 2, global: 50, windowS: 300 });
    expect(limiter.check(A)).toMatchObject({ ok: false, scope: 'client' });
  });
});
