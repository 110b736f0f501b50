/**
 * The optional second tier: host (CPU) memory holding KV blocks evicted from the GPU
 * (NIM_ENABLE_KV_CACHE_HOST_OFFLOAD, Dynamo KVBM's G2). It stores block keys only — the simulator
 * needs to know *whether* a block's KV is there, not its contents. A hit copies the block back
 * to the GPU (a PCIe transfer instead of a recompute); the host copy stays, as KVBM onboarding
 * copies rather than moves. Eviction is LRU, on `lru-cache`.
 */
import { LRUCache } from 'lru-cache';

export interface HostTier {
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
   * Stores a block evicted from the GPU, evicting the least recently used one when full (handed to
   * `onEvict`). A key already held is only refreshed.
   */
  store(hash: number): void;
  /** Every key held, least recently used last: O(blocks), for resets, tests and debugging. */
  keys(): number[];
  /** Drops every block (not handed to `onEvict`). */
  clear(): void;
}

/**
 * A host tier of `capacityBlocks` blocks (0 = a tier that holds nothing). `onEvict` hears the key
 * of each block evicted to make room (the KV cache turns it into a CPU BlockRemoved event).
 */
export function createHostTier(capacityBlocks: number, onEvict?: (hash: number) => void): HostTier {
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
      blocks?.set(hash, true);
    },
    keys() {
      return blocks ? [...blocks.keys()] : [];
    },
    clear() {
      blocks?.clear();
    },
  };
}
