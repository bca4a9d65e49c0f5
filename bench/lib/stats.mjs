// Small statistics for noisy machines: medians and spreads, never means (one descheduled
// run on 2 shared cores would drag a mean anywhere).

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Lowest and highest sample, to show how far a median could be trusted. */
export function range(values) {
  return { min: Math.min(...values), max: Math.max(...values) };
}

/** Median absolute deviation relative to the median (0.05 = typical run within 5 %). */
export function relativeSpread(values) {
  const m = median(values);
  return m === 0 ? 0 : median(values.map((v) => Math.abs(v - m))) / m;
}
