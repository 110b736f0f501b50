/**
 * FIFO: evicts the reusable block that joined the cache earliest, however often it was reused
 * since. A baseline for comparison: it ignores recency, and since a prompt's first block is
 * cached first it tends to break chains at their root.
 */
import type { EvictionPolicy } from './eviction-policy.js';
import { createIndexedHeap } from './indexed-heap.js';

/** A FIFO pool for block ids 0 … numBlocks-1. */
export function createFifoPolicy(numBlocks: number): EvictionPolicy {
  const cachedOrder = new Float64Array(numBlocks);
  let clock = 0;
  const heap = createIndexedHeap(numBlocks, (a, b) => cachedOrder[a]! < cachedOrder[b]!);
  return {
    name: 'fifo',
    get size() {
      return heap.size;
    },
    recordCached(blockId) {
      cachedOrder[blockId] = ++clock;
    },
    recordHit() {},
    add(blockId) {
      heap.push(blockId);
    },
    addRun(blockIds) {
      for (const blockId of blockIds) this.add(blockId);
    },
    remove(blockId) {
      heap.remove(blockId);
    },
    popVictim() {
      return heap.pop();
    },
    clear() {
      heap.clear();
    },
  };
}
