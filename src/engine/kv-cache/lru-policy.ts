/**
 * LRU on the `lru-cache` package, as vLLM's free block queue behaves: a released block goes to
 * the most-recent end (a request's blocks are released last-first, so its last block is evicted
 * first), a hit takes it out, and eviction takes the least recently released block. "Use" is
 * release time because a block in use is never a candidate.
 */
import { LRUCache } from 'lru-cache';
import type { EvictionPolicy } from './eviction-policy.js';

/** An LRU pool for block ids 0 … numBlocks-1. */
export function createLruPolicy(numBlocks: number): EvictionPolicy {
  // Keyed by block id (a small integer, so no boxed keys); `max` preallocates lru-cache's typed
  // arrays and is never reached, since the pool holds at most every block once.
  const pool = new LRUCache<number, number>({ max: Math.max(1, numBlocks) });
  return {
    name: 'lru',
    get size() {
      return pool.size;
    },
    recordCached() {},
    recordHit() {},
    add(blockId) {
      pool.set(blockId, blockId);
    },
    remove(blockId) {
      pool.delete(blockId);
    },
    popVictim() {
      return pool.pop() ?? -1;
    },
    clear() {
      pool.clear();
    },
  };
}
