import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KvCacheOptions } from '../../src/engine/kv-cache/kv-cache-manager.js';
import { createKvCacheManager } from '../../src/engine/kv-cache/kv-cache-manager.js';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function makeCache(overrides: Partial<KvCacheOptions> = {}) {
  return createKvCacheManager({
    blockSize: 4,
    gpuBlocks: 16,
    hostBlocks: 0,
    eviction: 'lru',
    enableReuse: true,
    modelKey: 'meta/llama-3.1-8b-instruct',
    ...overrides,
  });
}

/** Admits, computes the whole token list and frees: the way a finished request leaves the cache. */
function runToCompletion(kv: ReturnType<typeof makeCache>, seqId: number, tokens: number[], salt?: string) {
  const res = kv.admit(seqId, tokens, tokens.length, salt);
  expect(res).not.toBeNull();
  kv.cacheBlocks(seqId, tokens, tokens.length);
  kv.free(seqId);
  return res!;
}

describe('KvCacheManager prefix matching', () => {
  it('hits 8 tokens of a 14-token prompt sharing 10 tokens with a cached one (vLLM doc example)', () => {
    const kv = makeCache();
    runToCompletion(kv, 1, range(0, 14));
    const second = [...range(0, 10), 100, 101, 102, 103];
    expect(kv.peekPrefix(second)).toEqual({ gpuTokens: 8, hostTokens: 0, diskTokens: 0 });
    expect(kv.admit(2, second, 14)).toEqual({ cachedTokens: 8, hostTokens: 0, diskTokens: 0 });
    const s = kv.stats();
    expect(s.queryTokens).toBe(28);
    expect(s.hitTokens).toBe(8);
  });

  it('admitChunk allocates the cached prefix plus at most the budget, like admit with that count', () => {
    const kv = makeCache();
    runToCompletion(kv, 1, range(0, 14));
    const second = [...range(0, 10), ...range(100, 120)]; // 30 tokens, 8 cached
    expect(kv.admitChunk(2, second, 5)).toEqual({ cachedTokens: 8, hostTokens: 0, diskTokens: 0 });
    // 8 cached + 5 new = 13 tokens: 4 blocks, 2 of them shared with sequence 1's cached prefix.
    expect(kv.inspect().sequences.get(2)).toHaveLength(4);
    expect(kv.grow(2, 16)).toBe(true);
    expect(kv.inspect().sequences.get(2)).toHaveLength(4);
    // A budget past the end allocates only up to the last token.
    expect(kv.admitChunk(3, range(200, 210), 1000)).toEqual({
      cachedTokens: 0,
      hostTokens: 0,
      diskTokens: 0,
    });
    expect(kv.inspect().sequences.get(3)).toHaveLength(3);
    expect(kv.stats().hitTokens).toBe(8);
  });

  it('admitChunk admits only when the whole prompt fits, not just the chunk (vLLM scheduler_reserve_full_isl)', () => {
    const kv = makeCache(); // 16 blocks of 4 tokens
    expect(kv.admit(1, range(0, 40), 40)).not.toBeNull(); // 10 blocks pinned, 6 left
    const long = range(500, 540); // 10 blocks
    // Its first 8-token chunk needs 2 blocks, which are there; the whole prompt needs 10, which are not.
    expect(kv.admitChunk(2, long, 8)).toBeNull();
    expect(kv.stats().gpu.inUse).toBe(10);
    expect(kv.stats().queryTokens).toBe(40); // a refused admission counts no query
    kv.free(1);
    expect(kv.admitChunk(2, long, 8)).toEqual({ cachedTokens: 0, hostTokens: 0, diskTokens: 0 });
    expect(kv.inspect().sequences.get(2)).toHaveLength(2); // still only the chunk is allocated
  });

  it("counts a preempted request's re-admission apart, as vLLM's PrefixCacheStats does", () => {
    const kv = makeCache();
    // A request computes 12 tokens, is preempted (freed), and comes back: it finds its own 8.
    kv.admit(1, range(0, 14), 14);
    kv.cacheBlocks(1, range(0, 14), 12);
    kv.free(1);
    expect(kv.admit(1, range(0, 14), 14, undefined, { preempted: true })).toEqual({
      cachedTokens: 12,
      hostTokens: 0,
      diskTokens: 0,
    });
    expect(kv.stats()).toMatchObject({
      queryTokens: 14,
      hitTokens: 0,
      preemptedQueryTokens: 14,
      preemptedHitTokens: 12,
    });
    // Its own blocks are no shared prefix.
    expect(kv.topPrefixes(10)).toEqual([]);
  });

  it('skips the lookup for a request that needs prompt logprobs, and still caches its blocks', () => {
    const kv = makeCache();
    runToCompletion(kv, 1, range(0, 14));
    const before = kv.stats();
    expect(kv.admit(2, range(0, 14), 14, undefined, { skipLookup: true })).toEqual({
      cachedTokens: 0,
      hostTokens: 0,
      diskTokens: 0,
    });
    // Nothing counted, nothing pinned from the cache: a whole new allocation.
    expect(kv.stats()).toMatchObject({ queryTokens: before.queryTokens, hitTokens: before.hitTokens });
    expect(kv.inspect().sequences.get(2)).toHaveLength(4);
    // Its blocks join the cache as they fill (computed over other tokens here: new keys).
    kv.cacheBlocks(2, range(200, 214), 14);
    kv.free(2);
    expect(kv.peekPrefix(range(200, 214))).toEqual({ gpuTokens: 12, hostTokens: 0, diskTokens: 0 });
  });

  it('leaves at least one token to compute when the whole prompt is cached', () => {
    const kv = makeCache();
    runToCompletion(kv, 1, range(0, 16));
    expect(kv.peekPrefix(range(0, 16))).toEqual({ gpuTokens: 12, hostTokens: 0, diskTokens: 0 });
    expect(kv.peekPrefix(range(0, 17))).toEqual({ gpuTokens: 16, hostTokens: 0, diskTokens: 0 });
    expect(kv.peekPrefix([])).toEqual({ gpuTokens: 0, hostTokens: 0, diskTokens: 0 });
  });

  it('matches only whole-chain prefixes: a changed first block hides every later block', () => {
    const kv = makeCache();
    runToCompletion(kv, 1, range(0, 13));
    expect(kv.peekPrefix([99, ...range(1, 13)])).toEqual({ gpuTokens: 0, hostTokens: 0, diskTokens: 0 });
  });

  it('does not share blocks across cache salts or models', () => {
    const kv = makeCache();
    runToCompletion(kv, 1, range(0, 9), 'tenant-a');
    expect(kv.peekPrefix(range(0, 9), 'tenant-a')).toEqual({ gpuTokens: 8, hostTokens: 0, diskTokens: 0 });
    expect(kv.peekPrefix(range(0, 9), 'tenant-b')).toEqual({ gpuTokens: 0, hostTokens: 0, diskTokens: 0 });
    expect(kv.peekPrefix(range(0, 9))).toEqual({ gpuTokens: 0, hostTokens: 0, diskTokens: 0 });
    const other = makeCache({ modelKey: 'meta/llama-3.1-70b-instruct' });
    runToCompletion(other, 1, range(0, 9));
    expect(other.peekPrefix(range(0, 9))).toEqual({ gpuTokens: 8, hostTokens: 0, diskTokens: 0 });
    expect(other.peekPrefix(range(0, 9), 'tenant-a')).toEqual({ gpuTokens: 0, hostTokens: 0, diskTokens: 0 });
  });

  it('peekPrefix changes no counter and pins nothing', () => {
    const kv = makeCache();
    runToCompletion(kv, 1, range(0, 9));
    const before = kv.stats();
    kv.peekPrefix(range(0, 9));
    expect(kv.stats()).toEqual(before);
  });

  it('reuses turn n prompt and answer on turn n+1 of a conversation', () => {
    const kv = makeCache();
    const prompt = range(0, 10);
    expect(kv.admit(1, prompt, 10)).toEqual({ cachedTokens: 0, hostTokens: 0, diskTokens: 0 });
    kv.cacheBlocks(1, prompt, 10);
    // Decode 7 tokens one by one; the last generated token's KV is never computed.
    const tokens = [...prompt];
    for (let t = 0; t < 7; t++) {
      tokens.push(500 + t);
      expect(kv.grow(1, tokens.length)).toBe(true);
      kv.cacheBlocks(1, tokens, tokens.length - 1);
    }
    kv.free(1);
    // Turn 2 resends 17 tokens plus 5 new ones: 16 computed tokens → 4 full blocks hit.
    const turn2 = [...tokens, 900, 901, 902, 903, 904];
    expect(kv.admit(2, turn2, turn2.length)).toEqual({ cachedTokens: 16, hostTokens: 0, diskTokens: 0 });
  });
});

describe('KvCacheManager cacheBlocks over two lists', () => {
  it('keys the blocks of tokenIds + moreTokenIds exactly as of the joined list, wherever they meet', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 40 }),
        fc.nat(),
        (prompt, more, cut) => {
          const joined = [...prompt, ...more];
          const computed = joined.length === 0 ? 0 : cut % (joined.length + 1);
          const keysOf = (mark: (kv: ReturnType<typeof makeCache>) => void) => {
            const kv = makeCache();
            kv.admit(1, joined, Math.max(1, joined.length));
            mark(kv);
            return kv.inspect().hashes;
          };
          expect(keysOf((kv) => kv.cacheBlocks(1, prompt, computed, more))).toEqual(
            keysOf((kv) => kv.cacheBlocks(1, joined, computed)),
          );
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});

describe('KvCacheManager block accounting', () => {
  it('shares the blocks of a common prefix between two running sequences (ref count 2)', () => {
    const kv = makeCache();
    const a = range(0, 10);
    kv.admit(1, a, 10);
    kv.cacheBlocks(1, a, 10);
    const b = [...range(0, 8), 50, 51, 52];
    expect(kv.admit(2, b, 11)).toEqual({ cachedTokens: 8, hostTokens: 0, diskTokens: 0 });
    const snap = kv.inspect();
    const tableA = snap.sequences.get(1)!;
    const tableB = snap.sequences.get(2)!;
    expect(tableB.slice(0, 2)).toEqual(tableA.slice(0, 2));
    expect(snap.refCounts[tableA[0]!]).toBe(2);
    expect(snap.refCounts[tableA[1]!]).toBe(2);
    expect(snap.refCounts[tableA[2]!]).toBe(1);
    expect(kv.stats().gpu).toEqual({ total: 16, inUse: 4, reusable: 0, free: 12, cached: 2 });
    kv.free(1);
    expect(kv.stats().gpu).toEqual({ total: 16, inUse: 3, reusable: 0, free: 13, cached: 2 });
    kv.free(2);
    expect(kv.stats().gpu).toEqual({ total: 16, inUse: 0, reusable: 2, free: 14, cached: 2 });
  });

  it('keeps both copies of a block two requests computed, and a hit finds the older one (vLLM)', () => {
    // vLLM does not de-duplicate cached blocks (BlockHashToBlockMap); get_one_block returns the first.
    const kv = makeCache();
    const p = range(0, 9);
    kv.admit(1, p, 9);
    kv.admit(2, p, 9);
    kv.cacheBlocks(1, p, 9);
    kv.cacheBlocks(2, p, 9);
    expect(kv.stats().gpu.cached).toBe(4);
    const firstCopy = kv.inspect().sequences.get(1)!.slice(0, 2);
    kv.free(1);
    kv.free(2);
    expect(kv.stats().gpu).toEqual({ total: 16, inUse: 0, reusable: 4, free: 12, cached: 4 });
    expect(kv.admit(3, p, 9)).toEqual({ cachedTokens: 8, hostTokens: 0, diskTokens: 0 });
    expect(kv.inspect().sequences.get(3)!.slice(0, 2)).toEqual(firstCopy);
  });

  it('refuses an admission it cannot hold and changes nothing', () => {
    const kv = makeCache({ gpuBlocks: 4 });
    runToCompletion(kv, 1, range(0, 9));
    kv.admit(2, range(100, 104), 4);
    const before = { stats: kv.stats(), snap: kv.inspect() };
    // 17 tokens need 5 blocks; 3 are free or evictable.
    expect(kv.admit(3, range(0, 17), 17)).toBeNull();
    expect(kv.stats()).toEqual(before.stats);
    expect(kv.inspect()).toEqual(before.snap);
  });

  it('counts reusable hit blocks as taken when checking room for an admission', () => {
    const kv = makeCache({ gpuBlocks: 4 });
    runToCompletion(kv, 1, range(0, 9)); // 2 reusable blocks, 2 free
    // Hits 2 blocks and needs 3 more: 5 > 4 although "available" says 4.
    expect(kv.availableBlocks()).toBe(4);
    expect(kv.admit(2, range(0, 20), 20)).toBeNull();
    expect(kv.admit(2, range(0, 16), 16)).toEqual({ cachedTokens: 8, hostTokens: 0, diskTokens: 0 });
    expect(kv.availableBlocks()).toBe(0);
  });

  it('grows block by block and refuses growth beyond the cache without partial allocation', () => {
    const kv = makeCache({ gpuBlocks: 4 });
    kv.admit(1, range(0, 5), 5);
    expect(kv.inspect().sequences.get(1)).toHaveLength(2);
    expect(kv.grow(1, 8)).toBe(true);
    expect(kv.inspect().sequences.get(1)).toHaveLength(2);
    expect(kv.grow(1, 9)).toBe(true);
    expect(kv.inspect().sequences.get(1)).toHaveLength(3);
    expect(kv.grow(1, 17)).toBe(false);
    expect(kv.inspect().sequences.get(1)).toHaveLength(3);
    expect(kv.availableBlocks()).toBe(1);
  });

  it('reports usage as the fraction of pinned blocks and available as free plus evictable', () => {
    const kv = makeCache({ gpuBlocks: 8 });
    runToCompletion(kv, 1, range(0, 9)); // 2 reusable
    kv.admit(2, range(100, 112), 12); // 3 pinned
    expect(kv.usage()).toBe(3 / 8);
    expect(kv.availableBlocks()).toBe(5);
  });

  it('ignores free of an unknown or already freed sequence', () => {
    const kv = makeCache();
    kv.admit(1, range(0, 5), 5);
    kv.free(1);
    const before = kv.inspect();
    kv.free(1);
    kv.free(42);
    expect(kv.inspect()).toEqual(before);
  });

  it('throws when a sequence is admitted twice or grown before admission', () => {
    const kv = makeCache();
    kv.admit(1, range(0, 5), 5);
    expect(() => kv.admit(1, range(0, 5), 5)).toThrow('sequence 1 is already admitted');
    expect(() => kv.grow(2, 5)).toThrow('sequence 2 is not admitted');
  });

  it('with reuse off hashes and matches nothing but still counts blocks', () => {
    const kv = makeCache({ enableReuse: false, gpuBlocks: 4, hostBlocks: 8, diskBlocks: 8 });
    runToCompletion(kv, 1, range(0, 9));
    expect(kv.peekPrefix(range(0, 9))).toEqual({ gpuTokens: 0, hostTokens: 0, diskTokens: 0 });
    expect(kv.admit(2, range(0, 9), 9)).toEqual({ cachedTokens: 0, hostTokens: 0, diskTokens: 0 });
    expect(kv.stats()).toEqual({
      gpu: { total: 4, inUse: 3, reusable: 0, free: 1, cached: 0 },
      host: { total: 0, used: 0 },
      disk: { total: 0, used: 0 },
      queryTokens: 0, // nothing is looked up, so nothing is counted (vLLM: no prefix-cache stats)
      hitTokens: 0,
      hostHitTokens: 0,
      diskHitTokens: 0,
      preemptedQueryTokens: 0,
      preemptedHitTokens: 0,
      evictions: 0,
      hostEvictions: 0,
      diskEvictions: 0,
    });
    expect(kv.admit(3, range(0, 5), 5)).toBeNull();
  });
});

describe('KvCacheManager host tier', () => {
  it('moves evicted blocks to the host tier and serves a later hit from there', () => {
    const kv = makeCache({ gpuBlocks: 4, hostBlocks: 8 });
    runToCompletion(kv, 1, range(0, 9)); // blocks [0..3], [4..7] cached
    runToCompletion(kv, 2, range(100, 116)); // needs all 4 blocks: evicts both
    expect(kv.stats().evictions).toBe(2);
    expect(kv.stats().host).toEqual({ total: 8, used: 2 });
    expect(kv.peekPrefix(range(0, 12))).toEqual({ gpuTokens: 0, hostTokens: 8, diskTokens: 0 });
    expect(kv.admit(3, range(0, 12), 12)).toEqual({ cachedTokens: 8, hostTokens: 8, diskTokens: 0 });
    const s = kv.stats();
    expect(s.hitTokens).toBe(8);
    expect(s.hostHitTokens).toBe(8);
    // The copies are registered on the GPU again: another sequence hits them there.
    expect(kv.peekPrefix(range(0, 12))).toEqual({ gpuTokens: 8, hostTokens: 0, diskTokens: 0 });
  });

  it('continues a GPU run with the host run of the same chain', () => {
    const kv = makeCache({ gpuBlocks: 4, hostBlocks: 8 });
    runToCompletion(kv, 1, range(0, 13)); // 3 cached blocks; freed last-first
    kv.admit(2, range(100, 104), 4); // takes the free block
    kv.admit(3, range(200, 204), 4); // evicts block 3 of the chain (last block first)
    expect(kv.peekPrefix(range(0, 13))).toEqual({ gpuTokens: 8, hostTokens: 4, diskTokens: 0 });
  });

  it('ends the match at a GPU block that follows a host block', () => {
    const kv = makeCache({ gpuBlocks: 3, hostBlocks: 8, eviction: 'fifo' });
    runToCompletion(kv, 1, range(0, 9)); // 2 cached blocks, 1 free
    kv.admit(2, range(100, 108), 8); // FIFO evicts the chain's first block
    expect(kv.stats().evictions).toBe(1);
    expect(kv.peekPrefix(range(0, 9))).toEqual({ gpuTokens: 0, hostTokens: 4, diskTokens: 0 });
  });

  it('refreshes a host block on a hit so the host tier evicts another one first', () => {
    const kv = makeCache({ gpuBlocks: 2, hostBlocks: 2, blockSize: 2 });
    runToCompletion(kv, 1, [1, 1, 9]);
    runToCompletion(kv, 2, [2, 2, 9]); // [1,1] → host
    runToCompletion(kv, 3, [3, 3, 9]); // [2,2] → host: host holds [1,1], [2,2]
    // The copy takes the free block; the second block evicts [3,3], and the host tier drops [2,2].
    expect(kv.admit(4, [1, 1, 9], 3)).toEqual({ cachedTokens: 2, hostTokens: 2, diskTokens: 0 });
    expect(kv.peekPrefix([2, 2, 9])).toEqual({ gpuTokens: 0, hostTokens: 0, diskTokens: 0 });
    expect(kv.peekPrefix([3, 3, 9])).toEqual({ gpuTokens: 0, hostTokens: 2, diskTokens: 0 });
    expect(kv.stats().hostEvictions).toBe(1);
  });

  it('evicts the least recently used host block when the host tier is full', () => {
    const kv = makeCache({ gpuBlocks: 2, hostBlocks: 2, blockSize: 2 });
    runToCompletion(kv, 1, [1, 1, 9]);
    runToCompletion(kv, 2, [2, 2, 9]); // evicts [1,1]
    runToCompletion(kv, 3, [3, 3, 9]); // evicts [2,2]
    expect(kv.peekPrefix([1, 1, 9])).toEqual({ gpuTokens: 0, hostTokens: 2, diskTokens: 0 });
    runToCompletion(kv, 4, [4, 4, 9]); // evicts [3,3] to host, which drops [1,1]
    const s = kv.stats();
    expect(s.evictions).toBe(3);
    expect(s.hostEvictions).toBe(1);
    expect(kv.peekPrefix([1, 1, 9])).toEqual({ gpuTokens: 0, hostTokens: 0, diskTokens: 0 });
    expect(kv.peekPrefix([2, 2, 9])).toEqual({ gpuTokens: 0, hostTokens: 2, diskTokens: 0 });
    expect(kv.peekPrefix([3, 3, 9])).toEqual({ gpuTokens: 0, hostTokens: 2, diskTokens: 0 });
  });
});

describe('KvCacheManager admin views', () => {
  it('reset drops reusable blocks in both tiers and keeps blocks in use', () => {
    const kv = makeCache({ gpuBlocks: 4, hostBlocks: 8 });
    runToCompletion(kv, 1, range(0, 9));
    runToCompletion(kv, 2, range(100, 116));
    runToCompletion(kv, 3, range(200, 205)); // evicts two of seq 2's blocks
    kv.admit(4, range(300, 309), 9); // pins 3 blocks, 2 of them cached below
    kv.cacheBlocks(4, range(300, 309), 9);
    kv.reset();
    const s = kv.stats();
    expect(s.gpu).toEqual({ total: 4, inUse: 3, reusable: 0, free: 1, cached: 2 });
    expect(s.host.used).toBe(0);
    expect(kv.peekPrefix(range(0, 9))).toEqual({ gpuTokens: 0, hostTokens: 0, diskTokens: 0 });
    expect(kv.peekPrefix(range(300, 309))).toEqual({ gpuTokens: 8, hostTokens: 0, diskTokens: 0 });
  });

  it('lists the most hit shared prefixes first with their first tokens', () => {
    const kv = makeCache({ gpuBlocks: 32 });
    const system = range(0, 8);
    runToCompletion(kv, 1, [...system, 40, 41]);
    runToCompletion(kv, 2, [...system, 50, 51, 52, 53, 54]); // hits 8
    runToCompletion(kv, 3, [...system, 50, 51, 52, 53, 55]); // hits 12
    runToCompletion(kv, 4, [...range(60, 69)]);
    runToCompletion(kv, 5, [...range(60, 69)]); // hits 8
    expect(kv.topPrefixes(5)).toEqual([
      { blocks: 3, tokens: 12, hits: 2, firstTokenIds: [0, 1, 2, 3] },
      { blocks: 2, tokens: 8, hits: 1, firstTokenIds: [60, 61, 62, 63] },
    ]);
    expect(kv.topPrefixes(1)).toHaveLength(1);
  });
});
