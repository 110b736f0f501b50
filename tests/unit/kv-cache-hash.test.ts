import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashBlockTokens, prefixSeed } from '../../src/engine/kv-cache/block-hash.js';
import { createPrefixStats } from '../../src/engine/kv-cache/prefix-stats.js';

describe('block hashing', () => {
  it('gives the same non-negative integer key below 2^53 for the same parent and tokens', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 16, maxLength: 16 }),
        (tokens) => {
          const seed = prefixSeed('meta/llama-3.1-8b-instruct');
          const h = hashBlockTokens(seed, tokens, 0, 16);
          expect(Number.isSafeInteger(h)).toBe(true);
          expect(h).toBeGreaterThanOrEqual(0);
          expect(hashBlockTokens(seed, [...tokens], 0, 16)).toBe(h);
        },
      ),
      { numRuns: 200, seed: 1 },
    );
  });

  it('reads only the block at `start`', () => {
    const seed = prefixSeed('m');
    expect(hashBlockTokens(seed, [9, 9, 1, 2, 3, 4, 9], 2, 4)).toBe(
      hashBlockTokens(seed, [1, 2, 3, 4], 0, 4),
    );
  });

  it('changes when the parent, any token, the model or the salt changes', () => {
    const seed = prefixSeed('m');
    const h = hashBlockTokens(seed, [1, 2, 3, 4], 0, 4);
    expect(hashBlockTokens(h, [1, 2, 3, 4], 0, 4)).not.toBe(h);
    expect(hashBlockTokens(seed, [1, 2, 3, 5], 0, 4)).not.toBe(h);
    expect(hashBlockTokens(seed, [2, 1, 3, 4], 0, 4)).not.toBe(h);
    expect(hashBlockTokens(prefixSeed('m2'), [1, 2, 3, 4], 0, 4)).not.toBe(h);
    expect(prefixSeed('m', 'a')).not.toBe(prefixSeed('m', 'b'));
    expect(prefixSeed('m', '')).toBe(prefixSeed('m'));
  });

  it('has no collision among 200,000 distinct chained blocks', () => {
    const seen = new Set<number>();
    const tokens = new Array<number>(16).fill(0);
    let parent = prefixSeed('m');
    for (let i = 0; i < 200_000; i++) {
      tokens[i % 16] = i; // neighbouring blocks differ in one token
      parent = i % 1000 === 0 ? prefixSeed('m') : parent;
      const h = hashBlockTokens(parent, tokens, 0, 16);
      seen.add(h);
      parent = h;
    }
    expect(seen.size).toBe(200_000);
  });
});

describe('shared prefix table', () => {
  it('counts hits per first block and keeps the longest reuse', () => {
    const stats = createPrefixStats(4, 4);
    stats.record(1, 2, [1, 2, 3, 4, 5]);
    stats.record(1, 5, [1, 2, 3, 4, 5]);
    stats.record(2, 1, [7, 7, 7, 7]);
    expect(stats.top(10)).toEqual([
      { blocks: 5, tokens: 20, hits: 2, firstTokenIds: [1, 2, 3, 4] },
      { blocks: 1, tokens: 4, hits: 1, firstTokenIds: [7, 7, 7, 7] },
    ]);
  });

  it('replaces the least hit prefix when full, which inherits its count (Space-Saving)', () => {
    const stats = createPrefixStats(2, 1);
    stats.record(1, 1, [1]);
    stats.record(1, 1, [1]);
    stats.record(2, 1, [2]);
    stats.record(3, 1, [3]);
    expect(stats.top(10)).toEqual([
      { blocks: 1, tokens: 1, hits: 2, firstTokenIds: [1] },
      { blocks: 1, tokens: 1, hits: 2, firstTokenIds: [3] },
    ]);
  });
});
