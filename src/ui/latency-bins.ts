/**
 * The latency histogram the live page and the `simulate --html` report share: log-spaced bins,
 * four per octave from 0.25 ms (bin i covers [0.25·2^(i/4), 0.25·2^((i+1)/4)) ms), so one bin is
 * ±9 % wide anywhere from a fraction of a millisecond to minutes. Fixed bins add and merge by
 * summing, which is what a rolling minute and a timeline whose buckets merge need.
 */

export const LATENCY_BINS = 80;
const MIN_MS = 0.25;
const PER_OCTAVE = 4;

/** The bin of a latency in ms (below the first bound: bin 0; beyond the last: the last bin). */
export function latencyBin(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.floor(Math.log2(ms / MIN_MS) * PER_OCTAVE);
  return i < LATENCY_BINS ? i : LATENCY_BINS - 1;
}

/** Each bin's upper bound in ms, for the page to label and to read percentiles from. */
export function latencyBinBounds(): number[] {
  return Array.from({ length: LATENCY_BINS }, (_, i) => MIN_MS * 2 ** ((i + 1) / PER_OCTAVE));
}

/**
 * The `q` quantile (0–1) of the counts, as the geometric middle of the bin it falls in (within
 * ±9 %); null when there is nothing counted.
 */
export function binQuantile(counts: ArrayLike<number>, q: number, offset = 0): number | null {
  let total = 0;
  for (let i = 0; i < LATENCY_BINS; i++) total += counts[offset + i]!;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < LATENCY_BINS; i++) {
    seen += counts[offset + i]!;
    if (seen >= rank && counts[offset + i]! > 0) return MIN_MS * 2 ** ((i + 0.5) / PER_OCTAVE);
  }
  return MIN_MS * 2 ** ((LATENCY_BINS - 0.5) / PER_OCTAVE);
}
