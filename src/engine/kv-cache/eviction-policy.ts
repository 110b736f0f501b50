/**
 * The eviction policy of the reusable-block pool: cached (hashed) GPU blocks whose ref count is 0.
 * Blocks enter the pool when the last sequence using them releases them, leave it when a prefix
 * hit pins them again, and the policy picks which one allocation evicts when the free list is
 * empty. Blocks in use are never in the pool, so no policy can evict them.
 *
 * Every operation is O(1) or O(log n) in the pool size; per-block state lives in typed arrays
 * indexed by block id, sized once for the GPU tier's capacity.
 */
import { createFifoPolicy } from './fifo-policy.js';
import { createLfuPolicy } from './lfu-policy.js';
import { createLruPolicy } from './lru-policy.js';

/** `lru`: least recently released first (vLLM); `fifo`: first cached first; `lfu`: least used, with dynamic aging. */
export type EvictionPolicyName = 'lru' | 'fifo' | 'lfu';

/** The names accepted by {@link createEvictionPolicy}, for configuration validation. */
export const EVICTION_POLICY_NAMES: readonly EvictionPolicyName[] = ['lru', 'fifo', 'lfu'];

export interface EvictionPolicy {
  readonly name: EvictionPolicyName;
  /** Blocks currently in the pool. */
  readonly size: number;
  /** Block `blockId` got a hash (it joined the cache): FIFO stamps it, LFU starts its count. */
  recordCached(blockId: number): void;
  /** Another sequence reused block `blockId` (a prefix hit): LFU counts it. */
  recordHit(blockId: number): void;
  /** The block's ref count fell to 0: it becomes evictable. It must not be in the pool. */
  add(blockId: number): void;
  /** `add` for each block in order (blocks released together, the first to be evicted first). */
  addRun(blockIds: readonly number[]): void;
  /** The block leaves the pool (pinned by a hit, or dropped); a no-op when it is not in it. */
  remove(blockId: number): void;
  /** Chooses the victim, removes it from the pool and returns its id; -1 when the pool is empty. */
  popVictim(): number;
  /** Empties the pool. */
  clear(): void;
}

/** A policy for a GPU tier of `numBlocks` blocks (block ids 0 … numBlocks-1). */
export function createEvictionPolicy(name: EvictionPolicyName, numBlocks: number): EvictionPolicy {
  switch (name) {
    case 'lru':
      return createLruPolicy(numBlocks);
    case 'fifo':
      return createFifoPolicy(numBlocks);
    case 'lfu':
      return createLfuPolicy(numBlocks);
  }
}
