/**
 * Chained block hashing for the prefix cache (vLLM `hash_block_tokens`): a full block's key
 * depends on its parent block's key and its own token ids, so block k matches only when every
 * earlier block matches too. The first block's parent is a seed made from the model and the
 * request's `cache_salt`, which isolates models and tenants.
 *
 * Keys are non-negative integers below 2^53 so Maps key on numbers, not strings. They are built
 * from two independent 32-bit lanes (a MurmurHash3 round and an xxHash32 round): non-
 * cryptographic and fast, which suits a simulator; the chance of any collision among 1 million
 * cached blocks is about n²/2^54 ≈ 6e-5.
 */

/** Marks "no hash": never a valid key (keys are ≥ 0). */
export const NO_HASH = -1;

const TWO_POW_32 = 4294967296;
const HI_MASK = 0x1fffff; // 21 bits: hi * 2^32 + lo stays below 2^53
const M1 = 0xcc9e2d51;
const M2 = 0x1b873593;
const X1 = 0x9e3779b1;
const X2 = 0x85ebca77;

function murmurRound(h: number, k: number): number {
  k = Math.imul(k, M1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, M2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function xxRound(acc: number, k: number): number {
  acc = (acc + Math.imul(k, X2)) | 0;
  acc = (acc << 13) | (acc >>> 19);
  return Math.imul(acc, X1);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function combine(lo: number, hi: number): number {
  return (hi & HI_MASK) * TWO_POW_32 + lo;
}

/**
 * Key of the block `tokenIds[start, start + blockSize)` whose parent has key `parentHash`
 * (a key from this module or a seed from {@link prefixSeed}). Token ids are taken as 32-bit
 * integers; the caller guarantees the block is full. Cost: O(blockSize).
 */
export function hashBlockTokens(
  parentHash: number,
  tokenIds: readonly number[],
  start: number,
  blockSize: number,
): number {
  const parentLo = parentHash >>> 0;
  const parentHi = Math.floor(parentHash / TWO_POW_32) | 0;
  let a = murmurRound(murmurRound(0x2f1a5c3d, parentLo), parentHi);
  let b = xxRound(xxRound(0x61c88647 ^ parentHi, parentLo), parentHi);
  const end = start + blockSize;
  // murmurRound and xxRound written out: until the JIT has optimized this loop (a good part of a
  // sub-second `simulate`), two calls per token cost more than the arithmetic.
  for (let i = start; i < end; i++) {
    const t = tokenIds[i]! | 0;
    let k = Math.imul(t, M1);
    k = (k << 15) | (k >>> 17);
    a ^= Math.imul(k, M2);
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    b = (b + Math.imul(t, X2)) | 0;
    b = Math.imul((b << 13) | (b >>> 19), X1);
  }
  return combine(fmix(a ^ blockSize), fmix(b + blockSize));
}

/**
 * What partitions the prefix cache beside the model: the request's `cache_salt` and its LoRA
 * adapter, as one string for {@link prefixSeed} (undefined: neither). vLLM puts the adapter's name
 * in every block's extra keys and the salt in the first block's
 * (`generate_block_hash_extra_keys`, vllm/v1/core/kv_cache_utils.py); since keys chain, mixing
 * both into the first block's parent isolates the same prefixes. A LoRA partition starts with
 * \u0001 so that only a salt written to imitate one (starting `\u0001lora\u0001`) could meet it.
 */
export function cachePartition(cacheSalt?: string, loraName?: string): string | undefined {
  if (loraName === undefined) return cacheSalt || undefined;
  return `\u0001lora\u0001${loraName}\u0001${cacheSalt ?? ''}`;
}

/**
 * The parent key of a sequence's first block: a hash of the model key and the cache salt
 * (`undefined` and `''` are the same salt). Cost: O(string lengths); callers may memoize it.
 */
export function prefixSeed(modelKey: string, cacheSalt?: string): number {
  let a = 0x7f4a7c15;
  let b = 0x165667b1;
  const text = cacheSalt ? `${modelKey}\u0000${cacheSalt}` : modelKey;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = murmurRound(a, c);
    b = xxRound(b, c);
  }
  return combine(fmix(a ^ text.length), fmix(b + text.length));
}
