/**
 * A rule's verdict from its probe rounds, with hysteresis both ways: an online rule goes
 * offline after `offlineThreshold` failed rounds in a row, an offline rule comes back
 * after `onlineThreshold` good rounds in a row. Upstream DynaPoint only had the first
 * (it came back on the first good round, which is `onlineThreshold: 1`, our default).
 * Pure: the caller feeds rounds and the time; nothing here waits or probes.
 */

export type RuleState = 'online' | 'offline';

export interface Thresholds {
  offlineThreshold: number;
  onlineThreshold: number;
}

export interface Verdict {
  state: RuleState;
  /** Wall-clock ms when this state began. */
  since: number;
  /** Failed rounds in a row (0 after a good one). */
  failedRounds: number;
  /** Good rounds in a row (0 after a failed one). */
  goodRounds: number;
  rounds: number;
  switches: number;
}

export function initialVerdict(state: RuleState, now: number): Verdict {
  return { state, since: now, failedRounds: 0, goodRounds: 0, rounds: 0, switches: 0 };
}

/**
 * The verdict after one more round. `switched` tells whether the state changed with this
 * round: exactly when the counter in the other direction reaches its threshold.
 */
export function nextVerdict(
  v: Verdict,
  roundOnline: boolean,
  t: Thresholds,
  now: number,
): { verdict: Verdict; switched: boolean } {
  const failedRounds = roundOnline ? 0 : v.failedRounds + 1;
  const goodRounds = roundOnline ? v.goodRounds + 1 : 0;
  const rounds = v.rounds + 1;
  let state = v.state;
  if (state === 'online' && failedRounds >= t.offlineThreshold) state = 'offline';
  else if (state === 'offline' && goodRounds >= t.onlineThreshold) state = 'online';
  const switched = state !== v.state;
  return {
    verdict: {
      state,
      since: switched ? now : v.since,
      failedRounds,
      goodRounds,
      rounds,
      switches: v.switches + (switched ? 1 : 0),
    },
    switched,
  };
}
