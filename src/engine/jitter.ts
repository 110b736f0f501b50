/**
 * Seeded step-time jitter: a mean-one lognormal factor, clamped so one unlucky draw cannot stall
 * the simulation. sigma 0 turns it off (the default for `simulate`).
 */
export function createJitter(sigma: number, nextGaussian: () => number): () => number {
  if (sigma <= 0) return () => 1;
  const mu = (-sigma * sigma) / 2; // E[exp(N(mu, sigma²))] = 1
  return () => Math.min(3, Math.max(1 / 3, Math.exp(mu + sigma * nextGaussian())));
}
