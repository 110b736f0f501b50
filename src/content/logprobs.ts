/**
 * Seeded, plausible log-probabilities for generated tokens. Nothing is sampled from a real
 * distribution: the chosen token is made the most likely one, with a confidence drawn per position,
 * and the alternatives share part of the remaining probability mass in decreasing order.
 */
import { createRandom, hashSeed } from '../util/random.js';

export interface TokenLogprob {
  /** Natural log of the chosen token's probability; < 0. */
  readonly logprob: number;
  /** `topN` entries, most likely first; `top[0]` is the chosen token with the same logprob. */
  readonly top: readonly { readonly id: number; readonly logprob: number }[];
}

/**
 * Alternatives are drawn from the low ids of the vocabulary, which byte-level BPE assigns to the
 * most frequent pieces (common words and punctuation), so they look like real competitors.
 * Ids 256–19,999 are ordinary tokens in every supported tokenizer family.
 */
const ALTERNATIVE_ID_FLOOR = 256;
const ALTERNATIVE_ID_SPAN = 19_744;
/** Share of the remaining mass that all alternatives together take (the rest is the long tail). */
const ALTERNATIVES_MASS = 0.85;

/**
 * Logprobs of `tokenId` generated at `position` (0-based) of the output of a request seeded
 * `seed`, with `topN` (0–20) top alternatives. Deterministic in all four arguments.
 */
export function tokenLogprob(seed: number, position: number, tokenId: number, topN: number): TokenLogprob {
  const rng = createRandom(hashSeed(seed, position, tokenId));
  // Most generated tokens are near-certain; some are coin flips among a few candidates.
  const uncertainty = rng.nextFloat() ** 3;
  const chosen = 0.999 - 0.45 * uncertainty;
  const logprob = Math.log(chosen);
  const top: { id: number; logprob: number }[] = [];
  if (topN <= 0) return { logprob, top };
  top.push({ id: tokenId, logprob });

  const count = Math.floor(topN) - 1;
  // Decreasing weights w_k = r^k normalised: every alternative is below the chosen token, since
  // the first takes at most (1 - chosen) ≤ 0.451 < 0.549 ≤ chosen.
  const ratio = 0.3 + 0.5 * rng.nextFloat();
  let weightSum = 0;
  for (let k = 0; k < count; k++) weightSum += ratio ** k;
  const used = new Set([tokenId]);
  for (let k = 0; k < count; k++) {
    let id = ALTERNATIVE_ID_FLOOR + rng.nextInt(ALTERNATIVE_ID_SPAN);
    while (used.has(id)) id = ALTERNATIVE_ID_FLOOR + rng.nextInt(ALTERNATIVE_ID_SPAN);
    used.add(id);
    const probability = ((1 - chosen) * ALTERNATIVES_MASS * ratio ** k) / weightSum;
    top.push({ id, logprob: Math.log(probability) });
  }
  return { logprob, top };
}
