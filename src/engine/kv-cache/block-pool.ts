/**
 * The GPU tier's blocks (vLLM `BlockPool`): ref counts, the free list of blocks holding nothing
 * reusable, the key → block map of cached blocks, and the eviction pool of cached blocks no
 * sequence uses. Every block is in exactly one state:
 *
 * - free: ref count 0, no key, on the free list, which allocation takes first (vLLM's
 *   `free_blocks` puts such blocks at the front of its queue, cached ones at the back);
 * - reusable: ref count 0, has a key, in the eviction policy's pool;
 * - in use: ref count > 0 (with or without a key), never evicted.
 *
 * Per-block state is typed arrays: 12 bytes per block, plus 24 for the key → block index.
 * Every operation is O(1) (O(log n) for heap-based policies), however many blocks share a key.
 */
import { NO_HASH } from './block-hash.js';
import { createBlockIndex } from './block-index.js';
import type { EvictionPolicy } from './eviction-policy.js';

export interface BlockPool {
  readonly numBlocks: number;
  /** Blocks on the free list. */
  numFree(): number;
  /** Cached blocks with ref count 0 (evictable). */
  numReusable(): number;
  /** Blocks with a key, in use or not. */
  numCached(): number;
  /** Cached blocks evicted so far to make room. */
  readonly evictions: number;
  /** The cached block with key `hash`, or -1. */
  lookup(hash: number): number;
  refCount(blockId: number): number;
  /** The block's key, or NO_HASH. */
  blockHash(blockId: number): number;
  /** Pins a cached block for one more sequence (a prefix hit); takes it out of the eviction pool. */
  touch(blockId: number): void;
  /**
   * Takes a block for a sequence (ref count 1): the free list first, else the policy's victim,
   * whose key is forgotten and handed to `onEvict`. The caller checks availability first; throws
   * when there is no block.
   */
  allocate(): number;
  /**
   * Gives an in-use block the key `hash`. Another block may hold the same key (two requests
   * computed the same block): both stay cached, as in vLLM, and lookups find the older one.
   */
  cache(blockId: number, hash: number): void;
  /** One sequence stops using the block; at ref count 0 it becomes reusable (keyed) or free. */
  release(blockId: number): void;
  /**
   * `release` for each block of a sequence's table, last block first, so that its last block is
   * the first to be evicted; the blocks that become reusable join the eviction pool as one run.
   */
  releaseLastFirst(blockIds: readonly number[]): void;
  /**
   * Frees every reusable block (their keys are forgotten, not handed to `onEvict`, but to `onDrop`
   * when given); returns how many.
   */
  dropReusable(onDrop?: (hash: number) => void): number;
}

export interface BlockPoolOptions {
  numBlocks: number;
  policy: EvictionPolicy;
  /** Called with the key of each evicted block (a KV event; the host tier stores it). */
  onEvict?: (hash: number) => void;
}

/** A pool of `numBlocks` GPU blocks, all free. Free blocks are handed out lowest id first. */
export function createBlockPool(opts: BlockPoolOptions): BlockPool {
  const { numBlocks, policy, onEvict } = opts;
  const refCounts = new Int32Array(numBlocks);
  const hashes = new Float64Array(numBlocks).fill(NO_HASH);
  // A stack: the blocks released last come out first, after them the never-used ones in id order.
  const freeStack = new Int32Array(numBlocks);
  for (let i = 0; i < numBlocks; i++) freeStack[i] = numBlocks - 1 - i;
  let freeTop = numBlocks;
  const byHash = createBlockIndex(numBlocks, (blockId) => hashes[blockId]!);
  let evictions = 0;

  /** Scratch list of one `releaseLastFirst` call's reusable blocks (the policy copies it). */
  const reusableRun: number[] = [];

  /**
   * Drops one reference; true when the block just became reusable (the caller hands it to the
   * policy). A block left with no key goes to the free list.
   */
  function unpin(blockId: number): boolean {
    const left = --refCounts[blockId]!;
    if (left > 0) return false;
    if (left < 0) throw new Error(`KV cache: block ${blockId} released more often than taken`);
    if (hashes[blockId] !== NO_HASH) return true;
    freeStack[freeTop++] = blockId;
    return false;
  }

  function uncache(blockId: number): number {
    const hash = hashes[blockId]!;
    byHash.delete(hash, blockId);
    hashes[blockId] = NO_HASH;
    return hash;
  }

  return {
    numBlocks,
    numFree: () => freeTop,
    numReusable: () => policy.size,
    numCached: () => byHash.size,
    get evictions() {
      return evictions;
    },
    lookup: (hash) => byHash.get(hash),
    refCount: (blockId) => refCounts[blockId]!,
    blockHash: (blockId) => hashes[blockId]!,
    touch(blockId) {
      if (refCounts[blockId]!++ === 0) policy.remove(blockId);
      policy.recordHit(blockId);
    },
    allocate() {
      let blockId: number;
      if (freeTop > 0) {
        blockId = freeStack[--freeTop]!;
      } else {
        blockId = policy.popVictim();
        if (blockId < 0) throw new Error('KV cache: no free or evictable block (check availability first)');
        evictions++;
        const hash = uncache(blockId);
        onEvict?.(hash);
      }
      refCounts[blockId] = 1;
      return blockId;
    },
    cache(blockId, hash) {
      byHash.add(hash, blockId);
      hashes[blockId] = hash;
      policy.recordCached(blockId);
    },
    release(blockId) {
      if (unpin(blockId)) policy.add(blockId);
    },
    releaseLastFirst(blockIds) {
      reusableRun.length = 0;
      for (let i = blockIds.length - 1; i >= 0; i--) {
        const blockId = blockIds[i]!;
        if (unpin(blockId)) reusableRun.push(blockId);
      }
      if (reusableRun.length > 0) policy.addRun(reusableRun);
    },
    dropReusable(onDrop) {
      let dropped = 0;
      for (let blockId = policy.popVictim(); blockId >= 0; blockId = policy.popVictim()) {
        const hash = uncache(blockId);
        onDrop?.(hash);
        freeStack[freeTop++] = blockId;
        dropped++;
      }
      return dropped;
    },
  };
}
