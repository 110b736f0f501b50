/**
 * A small seeded pseudo-random source, dependency-free so the engine (jitter) and the content
 * layer (text, lengths, logprobs) can share it. Not cryptographic: it only has to be fast,
 * well-spread and reproducible across Node versions, which `Math.random` is not.
 */

/** A deterministic stream of random values; every method advances the stream. */
export interface Random {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1). */
  nextFloat(): number;
  /** Uniform integer in [0, n); `n` must be a positive integer below 2^32. */
  nextInt(n: number): number;
  /** Standard normal deviate (mean 0, standard deviation 1). */
  normal(): number;
  /** Log-normal deviate: `exp(mu + sigma * normal())`; its median is `exp(mu)`. */
  lognormal(mu: number, sigma: number): number;
}

/** One part of a seed: numbers (any finite value), strings and integer arrays hash distinctly. */
export type SeedPart = number | string | readonly number[];

const TWO_POW_32 = 0x1_0000_0000;

/**
 * Creates a mulberry32 generator. The 32-bit seed is first passed through `hashSeed` so nearby
 * seeds (0, 1, 2…) start from unrelated states.
 */
export function createRandom(seed: number): Random {
  return new Mulberry32(hashSeed(seed));
}

/** A class (several random streams are created per request): methods on the prototype, not closures per stream. */
class Mulberry32 implements Random {
  private state: number;
  private spareNormal: number | undefined;

  constructor(state: number) {
    this.state = state;
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    const state = this.state;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }

  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) {
      throw new RangeError(`nextInt needs a positive integer bound, got ${n}`);
    }
    return Math.floor(this.nextFloat() * n);
  }

  normal(): number {
    if (this.spareNormal !== undefined) {
      const value = this.spareNormal;
      this.spareNormal = undefined;
      return value;
    }
    // Box–Muller; 1 - u keeps the logarithm's argument in (0, 1].
    const radius = Math.sqrt(-2 * Math.log(1 - this.nextFloat()));
    const angle = 2 * Math.PI * this.nextFloat();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  lognormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal());
  }
}

/**
 * Hashes any number of parts into one unsigned 32-bit seed (MurmurHash3-style mixing). Each part
 * is tagged with its kind, so `hashSeed(97)`, `hashSeed('a')` and `hashSeed([97])` differ, and the
 * order of parts matters.
 */
export function hashSeed(...parts: readonly SeedPart[]): number {
  // The mixing state is module-level (hashing never re-enters itself): a closure per call was a
  // visible allocation on every request.
  h = 0x9747b28c ^ parts.length;
  for (const part of parts) {
    if (typeof part === 'string') {
      mix(1);
      mix(part.length);
      for (let i = 0; i < part.length; i++) mix(part.charCodeAt(i));
    } else if (typeof part === 'number') {
      mix(2);
      mixNumber(part);
    } else {
      mix(3);
      mix(part.length);
      for (const value of part) mixNumber(value);
    }
  }
  // fmix32: final avalanche so every input bit affects every output bit. The KV cache's block
  // hash (src/engine/kv-cache/block-hash.ts) keeps its own copy of this mixer: src/engine/ imports
  // nothing from the rest of src/ (tests/unit/layering.test.ts).
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** hashSeed's running state. */
let h = 0;

function mix(word: number): void {
  let k = Math.imul(word | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
}

const float64View = new Float64Array(1);
const float64Words = new Uint32Array(float64View.buffer);

function mixNumber(value: number): void {
  if (value >>> 0 === value) {
    // The common case (token ids, seeds): the words the general branch below computes, directly.
    mix(value);
    mix(0);
    return;
  }
  if (Number.isSafeInteger(value)) {
    // Low and high 32 bits, so seeds above 2^32 (and negative ones) stay distinct.
    mix(value % TWO_POW_32);
    mix(Math.floor(value / TWO_POW_32));
    return;
  }
  float64View[0] = value;
  mix(float64Words[0] ?? 0);
  mix((float64Words[1] ?? 0) ^ 0x5f5f5f5f);
}
