// Summary statistics of a benchmark's runs: the median with the spread (min–max) of a handful of
// runs, and nearest-rank percentiles of many samples (freshness). Pure, so they are unit-tested.

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many values the figure is of. */
  n: number;
}

/**
 * Median and min–max of the finite values; null when there are none. For an even count the
 * lower middle value is taken: a figure never looks better for being the mean of two.
 * `higherIsBetter: false` (RSS, CPU, seconds) takes the upper middle instead, for the same reason.
 */
export function spread(values: readonly (number | null | undefined)[], higherIsBetter = true): Spread | null {
  const xs = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = higherIsBetter ? Math.floor((xs.length - 1) / 2) : Math.ceil((xs.length - 1) / 2);
  return { median: xs[mid]!, min: xs[0]!, max: xs.at(-1)!, n: xs.length };
}

/**
 * Nearest-rank percentile (p in 0–100): the smallest value with at least p % of the values at or
 * below it. `values` need not be sorted. Throws on an empty list or a p outside 0–100.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0–100, got ${p}`);
  const xs = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * xs.length));
  return xs[rank - 1]!;
}

/** "median (min–max)" with `digits` decimals after dividing by `scale`; "—" for no figure. */
export function formatSpread(s: Spread | null, digits = 0, scale = 1): string {
  if (!s) return '—';
  const f = (x: number) => (x / scale).toFixed(digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** ours ÷ theirs of two medians, or null when either is missing or theirs is zero. */
export function ratio(ours: Spread | null, theirs: Spread | null): number | null {
  if (!ours || !theirs || theirs.median === 0) return null;
  return ours.median / theirs.median;
}
