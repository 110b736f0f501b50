/**
 * A conversation's block keys extended turn by turn (src/engine/prompt-blocks.ts) must be the keys
 * of the whole prompt hashed afresh, and a replica's cache given them must find what it finds
 * hashing the prompt itself.
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/util/random.js';
import { prefixSeed } from '../../src/engine/kv-cache/block-hash.js';
import { createKvCacheManager } from '../../src/engine/kv-cache/kv-cache-manager.js';
import {
  createGrowingPromptBlockKeys,
  createPromptBlockKeys,
  knownBlockKeys,
} from '../../src/engine/prompt-blocks.js';

const MODEL = 'meta/llama-3.1-8b-instruct';

describe('growing prompt block keys', () => {
  it('equal the keys of each whole prompt, whatever each turn appends', () => {
    const rng = createRandom(3);
    const fresh = createPromptBlockKeys(MODEL, 16);
    const growing = createGrowingPromptBlockKeys(MODEL, 16);
    const prompt: number[] = [];
    const known: number[] = [];
    for (let turn = 0; turn < 12; turn++) {
      // Lengths around block boundaries: 0, 1, 15, 16, 17 … tokens appended.
      const n = [0, 1, 15, 16, 17, 40][turn % 6]!;
      for (let i = 0; i < n; i++) prompt.push(rng.nextInt(128_000));
      const keys = growing(known, prompt);
      expect(keys).toEqual(fresh(prompt));
      // The returned array is the prompt's own: it does not grow with `known`.
      const copy = keys.slice();
      for (let i = 0; i < 33; i++) prompt.push(rng.nextInt(128_000));
      growing(known, prompt);
      expect(keys).toEqual(copy);
    }
  });

  it('reach a cache lookup only under the seed and block size they were made with', () => {
    const growing = createGrowingPromptBlockKeys(MODEL, 16);
    const prompt = Array.from({ length: 100 }, (_, i) => i + 1);
    const same = prompt.slice(); // the same tokens, no keys known for this array
    const keys = growing([], prompt);
    expect(knownBlockKeys(prompt, 12345, 16)).toBeUndefined(); // another seed (a cache salt)
    expect(knownBlockKeys(same, 12345, 16)).toBeUndefined();
    const cache = createKvCacheManager({
      blockSize: 16,
      gpuBlocks: 64,
      hostBlocks: 0,
      eviction: 'lru',
      enableReuse: true,
      modelKey: MODEL,
    });
    cache.admit(1, same, same.length);
    cache.cacheBlocks(1, same, same.length);
    // Looked up with its known keys, the prompt finds what its tokens hashed afresh find.
    expect(cache.peekPrefix(prompt)).toEqual(cache.peekPrefix(same));
    expect(cache.peekPrefix(prompt).gpuTokens).toBe(keys.length * 16);
    expect(cache.peekPrefix(prompt, 'tenant-a')).toEqual({ gpuTokens: 0, hostTokens: 0 });
    // The lookup does take the known keys: wrong ones known for an array find nothing.
    const wrong = same.slice();
    growing([1, 2, 3, 4, 5, 6], wrong);
    expect(cache.peekPrefix(wrong)).toEqual({ gpuTokens: 0, hostTokens: 0 });
    // Known under the model's seed and block size only.
    expect(knownBlockKeys(prompt, prefixSeed(MODEL), 16)).toEqual(keys);
    expect(knownBlockKeys(prompt, prefixSeed(MODEL), 32)).toBeUndefined();
  });
});
