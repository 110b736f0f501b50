/**
 * LRU on the `lru-cache` package, as vLLM's free block queue behaves: a released block goes to
 * the most-recent end (a request's blocks are released last-first, so its last block is evicted
 * first), a hit takes it out, and eviction takes the least recently released block. "Use" is
 * release time because a block in use is never a candidate.
 *
 * lru-cache orders *runs*, not single blocks: the blocks one sequence releases together are one
 * entry, in their eviction order, so a request costs one `set` and one `pop` rather than one of
 * each per block (lru-cache's per-call cost was the largest part of `simulate`'s cache work). The
 * order is exactly per-block LRU: runs are ordered by release time and so are the blocks inside a
 * run. A hit takes its block out of its run lazily (the run skips blocks that are no longer its
 * own); a run left empty is deleted, so lru-cache never holds more entries than the pool holds
 * blocks.
 */
import { LRUCache } from 'lru-cache';
import type { EvictionPolicy } from './eviction-policy.js';

interface Run {
  readonly id: number;
  /** Blocks in eviction order; those whose `runOf` is no longer this run have left it. */
  readonly blocks: number[];
  /** Index of the next block to evict. */
  next: number;
  /** Blocks still in the run. */
  live: number;
}

/** An LRU pool for block ids 0 … numBlocks-1. */
export function createLruPolicy(numBlocks: number): EvictionPolicy {
  // `max` preallocates lru-cache's arrays and is never reached: every entry holds a live block.
  const runs = new LRUCache<number, Run>({ max: Math.max(1, numBlocks) });
  /** The run each pooled block is in; undefined when the block is not in the pool. */
  const runOf: (Run | undefined)[] = new Array<Run | undefined>(numBlocks).fill(undefined);
  /** The least recent run, taken out of lru-cache and being evicted block by block. */
  let oldest: Run | undefined;
  let nextRunId = 0;
  let size = 0;

  const leave = (run: Run, blockId: number) => {
    runOf[blockId] = undefined;
    size--;
    if (--run.live > 0) return;
    if (run === oldest) oldest = undefined;
    else runs.delete(run.id);
  };

  const addRun = (blockIds: readonly number[]) => {
    const run: Run = { id: nextRunId++, blocks: blockIds.slice(), next: 0, live: blockIds.length };
    for (const blockId of blockIds) runOf[blockId] = run;
    size += blockIds.length;
    runs.set(run.id, run);
  };

  return {
    name: 'lru',
    get size() {
      return size;
    },
    recordCached() {},
    recordHit() {},
    add(blockId) {
      addRun([blockId]);
    },
    addRun(blockIds) {
      if (blockIds.length > 0) addRun(blockIds);
    },
    remove(blockId) {
      const run = runOf[blockId];
      if (run) leave(run, blockId);
    },
    popVictim() {
      for (;;) {
        oldest ??= runs.pop();
        const run = oldest;
        if (!run) return -1;
        while (run.next < run.blocks.length) {
          const blockId: number = run.blocks[run.next++]!;
          if (runOf[blockId] !== run) continue; // taken out by a hit
          leave(run, blockId);
          return blockId;
        }
        oldest = undefined; // unreachable while `live` counts right; never loop on an empty run
      }
    },
    clear() {
      runs.clear();
      runOf.fill(undefined);
      oldest = undefined;
      size = 0;
    },
  };
}
