import { FakeClock } from '../../src/clock/fake-clock.js';
import type { WrtkitError } from '../../src/errors.js';
import type { ViewOwner } from '../../src/hooks/view.js';

/** A stand-in plugin owner for hook tests: records failures and calls. */
export function testOwner(name = 'p', options: { uci?: string[]; timeoutMs?: number } = {}) {
  const failures: WrtkitError[] = [];
  const calls: Array<{ hook: string; failed: boolean }> = [];
  let live = true;
  let accepting = true;
  const clock = new FakeClock();
  const owner: ViewOwner & {
    failures: WrtkitError[];
    calls: typeof calls;
    setLive(v: boolean): void;
    setAccepting(v: boolean): void;
  } = {
    name,
    clock,
    generation: 1,
    hookTimeoutMs: options.timeoutMs ?? 1000,
    isLive: (generation) => live && generation === 1,
    recordCall: (hook, _ms, failed) => calls.push({ hook, failed }),
    fail: (error) => {
      failures.push(error);
      live = false;
    },
    acceptingTaps: () => accepting,
    mayWriteUci: (pkg) => (options.uci ?? []).includes(pkg),
    failures,
    calls,
    setLive: (v) => (live = v),
    setAccepting: (v) => (accepting = v),
  };
  return { owner, clock };
}
