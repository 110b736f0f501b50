/**
 * Request arrival schedules. A fixed request rate is a Poisson process (exponential gaps), seeded
 * so that two runs send the same schedule — what `vllm bench serve --request-rate` and AIPerf's
 * `--request-rate` do by default.
 */
import { createRandom, type Random } from '../../src/util/random.js';

/** An exponential deviate with the given mean (inverse-CDF sampling). */
export function exponential(rng: Random, mean: number): number {
  // 1 - u is in (0, 1], so the logarithm is finite.
  return -Math.log(1 - rng.nextFloat()) * mean;
}

/**
 * Send times (ms from the start, ascending, first > 0) of `count` Poisson arrivals at
 * `ratePerS` requests per second, from `seed`.
 */
export function poissonArrivalsMs(ratePerS: number, count: number, seed: number): number[] {
  if (!(ratePerS > 0)) throw new RangeError(`request rate must be > 0, got ${ratePerS}`);
  const rng = createRandom(seed);
  const meanGapMs = 1000 / ratePerS;
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    t += exponential(rng, meanGapMs);
    out.push(t);
  }
  return out;
}
