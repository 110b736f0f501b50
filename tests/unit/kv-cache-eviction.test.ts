import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEvictionPolicy } from '../../src/engine/kv-cache/eviction-policy.js';
import { createIndexedHeap } from '../../src/engine/kv-cache/indexed-heap.js';
import type { EvictionPolicyName } from '../../src/engine/kv-cache/kv-cache-manager.js';
import { createKvCacheManager } from '../../src/engine/kv-cache/kv-cache-manager.js';

/** Block size 2: a 3-token prompt caches exactly one block keyed by its first two tokens. */
function makeCache(eviction: EvictionPolicyName, gpuBlocks: number) {
  return createKvCacheManager({
    blockSize: 2,
    gpuBlocks,
    hostBlocks: 0,
    eviction,
    enableReuse: true,
    modelKey: 'm',
  });
}

type Cache = ReturnType<typeof makeCache>;
let nextSeqId = 1;

/** Caches the one-block prefix [t, t] in one pinned block. */
function cacheBlock(kv: Cache, t: number): number {
  const seqId = nextSeqId++;
  kv.admit(seqId, [t, t, 0], 2);
  kv.cacheBlocks(seqId, [t, t, 0], 2);
  return seqId;
}

/** Which of the one-block prefixes [t, t] are still cached. */
function cachedOf(kv: Cache, ts: number[]): number[] {
  return ts.filter((t) => kv.peekPrefix([t, t, 0]).gpuTokens === 2);
}

/** Pins `n` fresh blocks, forcing evictions once the free list is empty. */
function pinFresh(kv: Cache, n: number): void {
  kv.admit(
    nextSeqId++,
    Array.from({ length: 2 * n }, () => 999),
    2 * n,
  );
}

describe('LRU eviction', () => {
  it('uses empty blocks before evicting a cached one, whatever the policy (vLLM free_blocks)', () => {
    // Each request holds a keyed full block and an empty partial one. vLLM puts a released block
    // without a key at the front of its free queue and a cached one at the back, so the two empty
    // blocks are taken before either cached block is evicted.
    for (const eviction of ['lru', 'fifo', 'lfu'] as const) {
      const kv = makeCache(eviction, 4);
      for (const t of [1, 2]) {
        const seqId = nextSeqId++;
        kv.admit(seqId, [t, t, 0], 3);
        kv.cacheBlocks(seqId, [t, t, 0], 2);
        kv.free(seqId);
      }
      expect(kv.stats().gpu).toMatchObject({ free: 2, reusable: 2, inUse: 0 });
      pinFresh(kv, 2);
      expect(kv.stats().evictions).toBe(0);
      expect(cachedOf(kv, [1, 2])).toEqual([1, 2]);
    }
  });

  it('evicts exactly the least recently released reusable block', () => {
    const kv = makeCache('lru', 4);
    const a = cacheBlock(kv, 1);
    const b = cacheBlock(kv, 2);
    kv.free(b);
    kv.free(a);
    const c = cacheBlock(kv, 3);
    kv.free(c);
    // Reusable in release order: [2,2], [1,1], [3,3]; one block is free.
    pinFresh(kv, 2);
    expect(cachedOf(kv, [1, 2, 3])).toEqual([1, 3]);
    expect(kv.stats().evictions).toBe(1);
  });

  it('treats a prefix hit as a use: the hit block moves to the most recent end', () => {
    const kv = makeCache('lru', 3);
    kv.free(cacheBlock(kv, 1));
    kv.free(cacheBlock(kv, 2));
    kv.free(cacheBlock(kv, 3));
    // Hit [1,1] again and release it: now [2,2] is the least recently used.
    const again = nextSeqId++;
    expect(kv.admit(again, [1, 1, 0], 2)).toEqual({ cachedTokens: 2, hostTokens: 0, diskTokens: 0 });
    kv.free(again);
    pinFresh(kv, 1);
    expect(cachedOf(kv, [1, 2, 3])).toEqual([1, 3]);
  });

  it("evicts a request's last block before its first", () => {
    const kv = makeCache('lru', 3);
    const seqId = nextSeqId++;
    const tokens = [1, 1, 2, 2, 3, 3, 0];
    kv.admit(seqId, tokens, 6);
    kv.cacheBlocks(seqId, tokens, 6);
    kv.free(seqId);
    pinFresh(kv, 1);
    expect(kv.peekPrefix(tokens)).toEqual({ gpuTokens: 4, hostTokens: 0, diskTokens: 0 });
    pinFresh(kv, 1);
    expect(kv.peekPrefix(tokens)).toEqual({ gpuTokens: 2, hostTokens: 0, diskTokens: 0 });
  });
});

describe('FIFO eviction', () => {
  it('evicts the block cached first even when it was reused and released last', () => {
    const kv = makeCache('fifo', 3);
    kv.free(cacheBlock(kv, 1));
    kv.free(cacheBlock(kv, 2));
    kv.free(cacheBlock(kv, 3));
    const again = nextSeqId++;
    kv.admit(again, [1, 1, 0], 2);
    kv.free(again);
    pinFresh(kv, 1);
    expect(cachedOf(kv, [1, 2, 3])).toEqual([2, 3]);
    pinFresh(kv, 1);
    expect(cachedOf(kv, [1, 2, 3])).toEqual([3]);
  });
});

describe('LFU eviction', () => {
  it('evicts the least used block and breaks ties by release order', () => {
    const kv = makeCache('lfu', 3);
    kv.free(cacheBlock(kv, 1));
    kv.free(cacheBlock(kv, 2));
    kv.free(cacheBlock(kv, 3));
    for (let i = 0; i < 2; i++) {
      const again = nextSeqId++;
      kv.admit(again, [1, 1, 0], 2);
      kv.free(again);
    }
    // Counts: [1,1] 3 uses, [2,2] 1, [3,3] 1 (released after [2,2]).
    pinFresh(kv, 1);
    expect(cachedOf(kv, [1, 2, 3])).toEqual([1, 3]);
    pinFresh(kv, 1);
    expect(cachedOf(kv, [1, 2, 3])).toEqual([1]);
  });

  it('ages out a block that was popular long ago (dynamic aging)', () => {
    const policy = createEvictionPolicy('lfu', 4);
    for (const id of [0, 1, 2, 3]) policy.recordCached(id);
    policy.recordHit(0);
    policy.recordHit(0); // block 0: count 3
    policy.add(0); // priority 0 + 3
    policy.add(1); // priority 0 + 1
    expect(policy.popVictim()).toBe(1); // age becomes 1
    policy.add(2); // 1 + 1
    expect(policy.popVictim()).toBe(2); // age 2
    policy.add(3); // 2 + 1 = 3: ties with block 0, which was released earlier
    expect(policy.popVictim()).toBe(0);
    expect(policy.popVictim()).toBe(3);
    expect(policy.popVictim()).toBe(-1);
  });
});

describe('eviction policies', () => {
  it.each(['lru', 'fifo', 'lfu'] as const)(
    '%s removes a pinned block from the pool and never returns it',
    (name) => {
      const policy = createEvictionPolicy(name, 8);
      for (let id = 0; id < 8; id++) {
        policy.recordCached(id);
        policy.add(id);
      }
      policy.remove(3);
      policy.remove(3);
      const victims: number[] = [];
      for (let v = policy.popVictim(); v >= 0; v = policy.popVictim()) victims.push(v);
      expect(victims.sort()).toEqual([0, 1, 2, 4, 5, 6, 7]);
      expect(policy.size).toBe(0);
    },
  );

  it('indexed heap pops in priority order after arbitrary removals', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 63 }), { maxLength: 64 }),
        fc.array(fc.integer({ min: 0, max: 63 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 64, maxLength: 64 }),
        (ids, removals, keys) => {
          const heap = createIndexedHeap(64, (a, b) => keys[a]! < keys[b]! || (keys[a] === keys[b] && a < b));
          for (const id of ids) heap.push(id);
          for (const id of removals) heap.remove(id);
          const expected = ids
            .filter((id) => !removals.includes(id))
            .sort((a, b) => keys[a]! - keys[b]! || a - b);
          const popped: number[] = [];
          for (let id = heap.pop(); id >= 0; id = heap.pop()) popped.push(id);
          expect(popped).toEqual(expected);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe('LRU list', () => {
  it('evicts in the order a plain array of released blocks would, under adds, runs, hits and clears', () => {
    type Op =
      | { kind: 'add'; id: number }
      | { kind: 'run'; ids: number[] }
      | { kind: 'remove'; id: number }
      | { kind: 'pop' }
      | { kind: 'clear' };
    const id = fc.integer({ min: 0, max: 15 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: id.map((i) => ({ kind: 'add' as const, id: i })) },
      {
        weight: 2,
        arbitrary: fc.uniqueArray(id, { maxLength: 5 }).map((ids) => ({ kind: 'run' as const, ids })),
      },
      { weight: 3, arbitrary: id.map((i) => ({ kind: 'remove' as const, id: i })) },
      { weight: 3, arbitrary: fc.constant({ kind: 'pop' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const policy = createEvictionPolicy('lru', 16);
        let model: number[] = []; // least recent first
        for (const o of ops) {
          switch (o.kind) {
            case 'add':
              if (model.includes(o.id)) break; // a block is in the pool at most once
              policy.add(o.id);
              model.push(o.id);
              break;
            case 'run': {
              const ids = o.ids.filter((i) => !model.includes(i));
              policy.addRun(ids);
              model.push(...ids);
              break;
            }
            case 'remove':
              policy.remove(o.id);
              model = model.filter((i) => i !== o.id);
              break;
            case 'pop':
              expect(policy.popVictim()).toBe(model.length > 0 ? model.shift() : -1);
              break;
            case 'clear':
              policy.clear();
              model = [];
              break;
          }
          expect(policy.size).toBe(model.length);
        }
        const rest: number[] = [];
        for (let v = policy.popVictim(); v >= 0; v = policy.popVictim()) rest.push(v);
        expect(rest).toEqual(model);
      }),
      { numRuns: 400, seed: 11 },
    );
  });
});
