/**
 * One offload tier below the GPU: host (CPU) memory, Dynamo KVBM's G2, or local disk, its G3. It
 * stores block keys only — the simulator needs to know *whether* a block's KV is there, not its
 * contents. A hit copies the block to the GPU and the tier keeps its copy: KVBM onboards from G2
 * and G3 by copying into new device blocks, the source blocks stay registered in their pools
 * (docs/kv-tiers.md). Eviction is least recently used first, on `lru-cache`.
 */
import { LRUCache } from 'lru-cache';

export interface KeyTier {
  /** Capacity in blocks; 0 disables the tier. */
  readonly capacityBlocks: number;
  /** Blocks held. */
  readonly size: number;
  /** Blocks this tier evicted to make room. */
  readonly evictions: number;
  /** Whether the block with key `hash` is held; does not refresh its recency. */
  has(hash: number): boolean;
  /** Marks the block as just used (a hit). */
  touch(hash: number): void;
  /**
   * Stores a block, evicting the least recently used one when full (handed to `onEvict`, before
   * this call returns). A key already held is only refreshed. Returns whether the key is new.
   */
  store(hash: number): boolean;
  /** Every key held, least recently used last: O(blocks), for resets, tests and debugging. */
  keys(): number[];
  /** Drops every block (not handed to `onEvict`). */
  clear(): void;
}

/**
 * A tier of `capacityBlocks` blocks (0 = a tier that holds nothing). `onEvict` hears the key of
 * each block evicted to make room (the tiers above turn it into a BlockRemoved event and pass the
 * block on to the next tier down).
 */
export function createKeyTier(capacityBlocks: number, onEvict?: (hash: number) => void): KeyTier {
  let evictions = 0;
  const blocks =
    capacityBlocks > 0
      ? new LRUCache<number, true>({
          max: capacityBlocks,
          dispose: (_value, key, reason) => {
            if (reason !== 'evict') return;
            evictions++;
            onEvict?.(key);
          },
        })
      : undefined;
  return {
    capacityBlocks,
    get size() {
      return blocks?.size ?? 0;
    },
    get evictions() {
      return evictions;
    },
    has(hash) {
      return blocks?.has(hash) ?? false;
    },
    touch(hash) {
      blocks?.get(hash);
    },
    store(hash) {
      if (!blocks) return false;
      const isNew = !blocks.has(hash);
      blocks.set(hash, true);
      return isNew;
    },
    keys() {
      return blocks ? [...blocks.keys()] : [];
    },
    clear() {
      blocks?.clear();
    },
  };
}
