/**
 * LFU with dynamic aging (LFU-DA, Arlitt et al. 2000): a block's priority is its use count plus
 * the priority of the last victim at the time it entered the pool, so blocks that were popular
 * long ago age out instead of pinning the cache forever. Ties go to the least recently released
 * block, which makes a fresh pool of equal counts behave like LRU.
 *
 * The count starts at 1 when a block is cached and grows by one per prefix hit (each sequence
 * that reuses it); it is forgotten when the block is evicted.
 */
import type { EvictionPolicy } from './eviction-policy.js';
import { createIndexedHeap } from './indexed-heap.js';

/** An LFU-DA pool for block ids 0 … numBlocks-1. */
export function createLfuPolicy(numBlocks: number): EvictionPolicy {
  const useCount = new Uint32Array(numBlocks);
  const priority = new Float64Array(numBlocks);
  const releasedOrder = new Float64Array(numBlocks);
  let clock = 0;
  let age = 0;
  const heap = createIndexedHeap(
    numBlocks,
    (a, b) =>
      priority[a]! < priority[b]! || (priority[a] === priority[b] && releasedOrder[a]! < releasedOrder[b]!),
  );
  return {
    name: 'lfu',
    get size() {
      return heap.size;
    },
    recordCached(blockId) {
      useCount[blockId] = 1;
    },
    recordHit(blockId) {
      useCount[blockId]!++;
    },
    add(blockId) {
      priority[blockId] = age + useCount[blockId]!;
      releasedOrder[blockId] = ++clock;
      heap.push(blockId);
    },
    addRun(blockIds) {
      for (const blockId of blockIds) this.add(blockId);
    },
    remove(blockId) {
      heap.remove(blockId);
    },
    popVictim() {
      const victim = heap.pop();
      if (victim >= 0) age = priority[victim]!;
      return victim;
    },
    clear() {
      heap.clear();
    },
  };
}
