/**
 * Seeded step-time jitter: a mean-one lognormal factor, clamped so one unlucky draw cannot stall
 * the simulation. sigma 0 turns it off (the default for `simulate`).
 */
export function createJitter(sigma: number, nextGaussian: () => number): () => number {
  if (sigma <= 0) return () => 1;
  const mu = (-sigma * sigma) / 2; // E[exp(N(mu, sigma²))] = 1
  return () => Math.min(3, Math.max(1 / 3, Math.exp(mu + sigma * nextGaussian())));
}

/** Jitter whose sigma can change at run time (PATCH /admin/config); call it like `createJitter`'s. */
export interface AdjustableJitter {
  (): number;
  readonly sigma: number;
  setSigma(sigma: number): void;
}

export function createAdjustableJitter(sigma: number, nextGaussian: () => number): AdjustableJitter {
  let current = sigma;
  let draw = createJitter(sigma, nextGaussian);
  const jitter = (() => draw()) as AdjustableJitter;
  Object.defineProperty(jitter, 'sigma', { get: () => current });
  jitter.setSigma = (s: number) => {
    if (!(s >= 0)) throw new RangeError('jitter sigma must be >= 0');
    current = s;
    draw = createJitter(s, nextGaussian);
  };
  return jitter;
}
