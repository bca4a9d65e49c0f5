import { describe, expect, it } from 'vitest';
import { type RuleState, type Thresholds, initialVerdict, nextVerdict } from '../src/verdict.js';

/** Feeds rounds ('+' good, '-' failed) and returns the state after each. */
function run(start: RuleState, rounds: string, t: Thresholds): string {
  let v = initialVerdict(start, 0);
  let out = '';
  [...rounds].forEach((r, i) => {
    const next = nextVerdict(v, r === '+', t, i + 1);
    v = next.verdict;
    out += next.switched ? (v.state === 'online' ? 'U' : 'D') : v.state === 'online' ? 'u' : 'd';
  });
  return out;
}

describe('verdict: hysteresis both ways', () => {
  const upstream = { offlineThreshold: 3, onlineThreshold: 1 };
  it('goes offline after exactly offline_threshold failed rounds in a row, back on the first good one (upstream)', () => {
    expect(run('online', '---', upstream)).toBe('uuD');
    expect(run('online', '--+---+', upstream)).toBe('uuuuuDU');
  });
  it('a single flapping round never switches', () => {
    expect(run('online', '+-+-+-+-', upstream)).toBe('uuuuuuuu');
    expect(run('offline', '-+-+-+', { offlineThreshold: 3, onlineThreshold: 2 })).toBe('dddddd');
  });
  it('online_threshold good rounds in a row bring it back', () => {
    expect(run('offline', '++', { offlineThreshold: 3, onlineThreshold: 2 })).toBe('dU');
    expect(run('offline', '+-++', { offlineThreshold: 3, onlineThreshold: 2 })).toBe('dddU');
  });
  it('counts rounds and switches, and when the state began', () => {
    let v = initialVerdict('online', 100);
    for (let i = 1; i <= 3; i++) v = nextVerdict(v, false, upstream, 100 + i).verdict;
    expect(v).toMatchObject({ state: 'offline', since: 103, rounds: 3, switches: 1, failedRounds: 3, goodRounds: 0 });
    v = nextVerdict(v, false, upstream, 104).verdict;
    expect(v).toMatchObject({ state: 'offline', since: 103, failedRounds: 4 });
  });
});
