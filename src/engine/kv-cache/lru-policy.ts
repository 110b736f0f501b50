/**
 * LRU as vLLM's `FreeKVCacheBlockQueue` keeps its cached blocks (vllm/v1/core/kv_cache_utils.py):
 * a doubly linked list threaded through the blocks themselves. A released cached block is
 * appended at the most-recent end (a request's blocks are released last-first, so its last block
 * is evicted first), a hit unlinks it, and eviction takes the head: the least recently released
 * block. "Use" is release time because a block in use is never a candidate.
 *
 * Blocks that cache nothing are not in it: vLLM's `BlockPool.free_blocks` puts them at the front
 * of its queue ("Fresh blocks go to front of queue (used first during allocation), cached blocks
 * go to back"), which is the block pool's free list here, used before any cached block is evicted.
 *
 * The links are two Int32Arrays indexed by block id, so every operation is O(1) with no
 * allocation. (This replaced a map of runs on `lru-cache`: block ids are dense and each block is
 * in the pool at most once, which is what an intrusive list exploits and a key → value cache
 * cannot; the list cost a fraction of the map's time in `simulate`.)
 */
import type { EvictionPolicy } from './eviction-policy.js';

/** "No block": the end of the list, or a block not in the pool. */
const NONE = -1;
/** `prev` of a block that is not in the pool (NONE means "first in the list"). */
const OUT = -2;

/** An LRU pool for block ids 0 … numBlocks-1. */
export function createLruPolicy(numBlocks: number): EvictionPolicy {
  const prev = new Int32Array(numBlocks).fill(OUT);
  const next = new Int32Array(numBlocks).fill(NONE);
  let head = NONE;
  let tail = NONE;
  let size = 0;

  const append = (blockId: number) => {
    prev[blockId] = tail;
    next[blockId] = NONE;
    if (tail === NONE) head = blockId;
    else next[tail] = blockId;
    tail = blockId;
    size++;
  };

  const unlink = (blockId: number) => {
    const p = prev[blockId]!;
    const n = next[blockId]!;
    if (p === NONE) head = n;
    else next[p] = n;
    if (n === NONE) tail = p;
    else prev[n] = p;
    prev[blockId] = OUT;
    next[blockId] = NONE;
    size--;
  };

  return {
    name: 'lru',
    get size() {
      return size;
    },
    recordCached() {},
    recordHit() {},
    add: append,
    addRun(blockIds) {
      for (let i = 0; i < blockIds.length; i++) append(blockIds[i]!);
    },
    remove(blockId) {
      if (prev[blockId] !== OUT) unlink(blockId);
    },
    popVictim() {
      const victim = head;
      if (victim !== NONE) unlink(victim);
      return victim;
    },
    clear() {
      prev.fill(OUT);
      next.fill(NONE);
      head = tail = NONE;
      size = 0;
    },
  };
}
