/**
 * The tiers below the GPU, as NVIDIA Dynamo's KV block manager (KVBM) stacks them: host memory
 * (G2, NIMSIM_KV_HOST_CACHE_BLOCKS) and local NVMe disk (G3, NIMSIM_KV_DISK_CACHE_BLOCKS). This
 * module owns both, the cascade between them and their KV events (docs/kv-tiers.md):
 *
 * - A block evicted from the GPU lands in the host tier; a block the host tier evicts lands on
 *   disk; the disk evicts its least recently used block. With a disk tier and no host tier, GPU
 *   evictions go to disk directly, as KVBM does when only DYN_KVBM_DISK_CACHE_GB is set
 *   (`should_bypass_cpu_cache`, lib/llm/src/block_manager/config.rs in ai-dynamo/dynamo).
 * - A lookup continues the GPU run with a host run, then a disk run, as KVBM's connector matches
 *   (`acquire_local_matches`: host pool first, then the disk pool from where the host run ended,
 *   lib/bindings/kvbm/src/block_manager/vllm/connector/leader/slot.rs).
 * - A hit copies the block to the GPU; the tier keeps its copy (key-tier.ts).
 */
import type { KvEvent, KvMedium } from '../kv-events.js';
import { createKeyTier, type KeyTier } from './key-tier.js';
import { blockRemoved, offloadedBlockStored } from './kv-event-builders.js';
import { type KvEventLog, REMOVED_CPU, REMOVED_DISK, STORED_CPU, STORED_DISK } from '../kv-event-log.js';

/** Where a lower-tier lookup found a block: nowhere, the host tier, or the disk tier. */
export const NOT_FOUND = 0;
export const IN_HOST = 1;
export const IN_DISK = 2;
export type TierHit = typeof NOT_FOUND | typeof IN_HOST | typeof IN_DISK;

export interface OffloadTiers {
  /** Host (CPU) tier, G2. */
  readonly host: KeyTier;
  /** Local-disk tier, G3. */
  readonly disk: KeyTier;
  /** Where events go from now on (objects, or only their keys in a log); null builds none. */
  setSink(sink: KvEvent[] | null, log?: KvEventLog | null): void;
  /** A GPU block was evicted: it lands in the host tier, or on disk when there is no host tier. */
  offload(hash: number): void;
  /**
   * The tier holding `hash`, looking no higher than `from` (a match that reached the disk run
   * does not go back to the host tier). Pure: refreshes nothing.
   */
  find(hash: number, from: typeof IN_HOST | typeof IN_DISK): TierHit;
  /** Drops every block of both tiers (no events): returns their keys when `collect`, else empty lists. */
  clear(collect: boolean): { host: number[]; disk: number[] };
}

/**
 * Tiers of `hostBlocks` and `diskBlocks` blocks (0 = that tier is off). Every call costs O(1)
 * except `clear`.
 */
export function createOffloadTiers(hostBlocks: number, diskBlocks: number): OffloadTiers {
  let sink: KvEvent[] | null = null;
  let log: KvEventLog | null = null;
  const store = (tier: KeyTier, medium: KvMedium, hash: number) => {
    // The tier evicts (and reports it) before the new block's BlockStored: a subscriber applying
    // them in order never holds more than the capacity.
    if (!tier.store(hash)) return;
    sink?.push(offloadedBlockStored(hash, medium));
    log?.push(medium === 'CPU' ? STORED_CPU : STORED_DISK, hash);
  };
  const disk = createKeyTier(diskBlocks, (hash) => {
    sink?.push(blockRemoved(hash, 'DISK'));
    log?.push(REMOVED_DISK, hash);
  });
  const diskOn = disk.capacityBlocks > 0;
  const host = createKeyTier(hostBlocks, (hash) => {
    sink?.push(blockRemoved(hash, 'CPU'));
    log?.push(REMOVED_CPU, hash);
    if (diskOn) store(disk, 'DISK', hash);
  });
  const hostOn = host.capacityBlocks > 0;
  return {
    host,
    disk,
    setSink(next, nextLog = null) {
      sink = next;
      log = nextLog;
    },
    offload(hash) {
      if (hostOn) store(host, 'CPU', hash);
      else if (diskOn) store(disk, 'DISK', hash);
    },
    find(hash, from) {
      if (from === IN_HOST && host.has(hash)) return IN_HOST;
      return disk.has(hash) ? IN_DISK : NOT_FOUND;
    },
    clear(collect) {
      const dropped = { host: collect ? host.keys() : [], disk: collect ? disk.keys() : [] };
      host.clear();
      disk.clear();
      return dropped;
    },
  };
}
