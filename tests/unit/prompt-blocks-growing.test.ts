/**
 * A conversation's block keys extended turn by turn (src/engine/prompt-blocks.ts) must be the keys
 * of the whole prompt hashed afresh, and a replica's cache given them with a request must find what
 * it finds hashing the prompt itself.
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/util/random.js';
import { createKvCacheManager } from '../../src/engine/kv-cache/kv-cache-manager.js';
import { createGrowingPromptBlockKeys, createPromptBlockKeys } from '../../src/engine/prompt-blocks.js';

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

  it('carried by a request, give the cache lookup what hashing the prompt finds, and are used', () => {
    const growing = createGrowingPromptBlockKeys(MODEL, 16);
    const prompt = Array.from({ length: 100 }, (_, i) => i + 1);
    const keys = growing([], prompt);
    const cache = createKvCacheManager({
      blockSize: 16,
      gpuBlocks: 64,
      hostBlocks: 0,
      eviction: 'lru',
      enableReuse: true,
      modelKey: MODEL,
    });
    cache.admit(1, prompt, prompt.length);
    cache.cacheBlocks(1, prompt, prompt.length);
    cache.free(1);
    // With its keys, all of them or the first few (the rest hashed), the prompt finds its blocks.
    expect(cache.admit(2, prompt, prompt.length, undefined, { blockKeys: keys })?.cachedTokens).toBe(
      keys.length * 16,
    );
    expect(
      cache.admit(3, prompt, prompt.length, undefined, { blockKeys: keys.slice(0, 2) })?.cachedTokens,
    ).toBe(keys.length * 16);
    // The keys are what the lookup reads: wrong ones find nothing.
    expect(cache.admit(4, prompt, prompt.length, undefined, { blockKeys: [1, 2, 3] })?.cachedTokens).toBe(0);
  });

  it('key the prompt blocks the request fills, so the cache does not hash them again', () => {
    const growing = createGrowingPromptBlockKeys(MODEL, 16);
    const prompt = Array.from({ length: 100 }, (_, i) => i + 1);
    const output = Array.from({ length: 40 }, (_, i) => 500 + i);
    const keys = growing([], prompt);
    const options = { blockSize: 16, gpuBlocks: 64, hostBlocks: 0, eviction: 'lru', enableReuse: true };
    const hashing = createKvCacheManager({ ...options, eviction: 'lru', modelKey: MODEL });
    const given = createKvCacheManager({ ...options, eviction: 'lru', modelKey: MODEL });
    hashing.admit(1, prompt, prompt.length + output.length);
    hashing.cacheBlocks(1, prompt, prompt.length + output.length, output);
    given.admit(1, prompt, prompt.length + output.length, undefined, { blockKeys: keys });
    given.cacheBlocks(1, prompt, prompt.length + output.length, output);
    // The same keys, the output's blocks chained after the prompt's.
    expect(given.cachedBlockKeys().gpu).toEqual(hashing.cachedBlockKeys().gpu);
    expect(given.cachedBlockKeys().gpu).toHaveLength(8);
    // They are the keys given, not hashed afresh: made-up ones end up cached as they are.
    const madeUp = keys.map((_, i) => 1000 + i);
    const trusting = createKvCacheManager({ ...options, eviction: 'lru', modelKey: MODEL });
    trusting.admit(1, prompt, prompt.length, undefined, { blockKeys: madeUp });
    trusting.cacheBlocks(1, prompt, prompt.length);
    expect(trusting.cachedBlockKeys().gpu.slice(0, madeUp.length)).toEqual(madeUp);
  });
});
