/**
 * What the KV cache tells the world about its blocks: vLLM's KV events
 * (`vllm/distributed/kv_events.py`), in the engine's own vocabulary. The engine hands them to its
 * observer once per step that changed the cache; a router's prefix index (several replicas) and the
 * ZMQ publisher (vLLM's wire format) are built from them alone.
 *
 * Keys are the cache's own block keys (non-negative integers below 2^53, block-hash.ts): vLLM
 * publishes its block hashes as 64-bit integers by default, and a subscriber only needs them to be
 * stable and unique.
 */
import type { KvEventLog } from './kv-event-log.js';

/**
 * Where a block lives: GPU memory, the host (CPU) offload tier, or the local-disk tier. vLLM names
 * the first two (`MEDIUM_GPU` in vllm/distributed/kv_events.py, `CPULoadStoreSpec.medium()` in
 * vllm/v1/kv_offload); vLLM has no disk medium, and `DISK` is the one Dynamo's router reads as its
 * disk tier and writes for it (`StorageTier::from_kv_medium` / `to_kv_medium`,
 * lib/kv-router/src/protocols.rs in ai-dynamo/dynamo).
 */
export type KvMedium = 'GPU' | 'CPU' | 'DISK';

/** Full blocks that became matchable, in chain order (vLLM BlockStored). */
export interface KvBlockStored {
  readonly type: 'BlockStored';
  readonly blockHashes: readonly number[];
  /** Key of the block before the first of `blockHashes`, or null when the first is a prefix's first. */
  readonly parentBlockHash: number | null;
  /** The blocks' token ids, `blockHashes.length × blockSize` of them (empty when not known). */
  readonly tokenIds: readonly number[];
  readonly blockSize: number;
  readonly medium: KvMedium;
  /**
   * The LoRA adapter whose request filled the blocks (vLLM's `lora_id` = its `lora_int_id`, and
   * `lora_name`, vllm/v1/core/block_pool.py `cache_full_blocks`); absent: the base model.
   */
  readonly lora?: { readonly id: number; readonly name: string } | undefined;
}

/** Blocks that stopped being matchable: evicted, or dropped by a reset (vLLM BlockRemoved). */
export interface KvBlockRemoved {
  readonly type: 'BlockRemoved';
  readonly blockHashes: readonly number[];
  readonly medium: KvMedium;
}

/** Every cached block of every tier is gone (vLLM AllBlocksCleared). */
export interface KvAllBlocksCleared {
  readonly type: 'AllBlocksCleared';
}

export type KvEvent = KvBlockStored | KvBlockRemoved | KvAllBlocksCleared;

/** The events of one engine step (or of one reset), in the order they happened. */
export interface KvEventBatch {
  /** Engine clock time, simulated ms, when the step that produced them was planned. */
  readonly atMs: number;
  readonly events: readonly KvEvent[];
  /**
   * Only for a listener that takes the flat log (EngineObserver `observesKvEventLog`): the events'
   * keys (kv-event-log.ts), and `events` is empty. Valid during the call only: the engine reuses it.
   */
  readonly log?: KvEventLog | undefined;
}
