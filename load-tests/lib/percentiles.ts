/**
 * Percentile helpers for the load-test scripts. Nearest-rank percentiles, the same definition as
 * the `simulate` report, so measured and predicted distributions are comparable.
 */

/** Summary of a sample, in the sample's own unit. */
export interface Summary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentile `p` (0–100) of ascending `sorted` values; 0 for an empty sample. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Mean and nearest-rank percentiles of `values` (any order); all zero for an empty sample. */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return {
    count: n,
    mean: n === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / n,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: n === 0 ? 0 : sorted[n - 1]!,
  };
}

/** Signed relative error of `measured` against `predicted`, as a fraction (0.05 = 5 %). */
export function relativeError(measured: number, predicted: number): number {
  return predicted === 0 ? (measured === 0 ? 0 : Infinity) : (measured - predicted) / predicted;
}
