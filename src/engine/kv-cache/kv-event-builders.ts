/**
 * The KV cache's event objects (kv-events.ts), built only while someone listens. The shapes follow
 * the producers in vLLM: GPU blocks from `BlockPool.cache_full_blocks` / `_maybe_evict_cached_block`
 * (vllm/v1/core/block_pool.py), host blocks from the CPU offloading connector's `take_events`
 * (vllm/distributed/kv_transfer/kv_connector/v1/offloading_connector.py); disk blocks the same way,
 * under the medium Dynamo's router reads as its disk tier (kv-events.ts).
 */
import type { KvBlockRemoved, KvBlockStored, KvMedium } from '../kv-events.js';

/**
 * Full GPU blocks that just got their keys, in chain order; `parent` null for a prefix's first
 * block; `lora` the adapter of the request that filled them (absent: the base model).
 */
export function gpuBlocksStored(
  blockHashes: readonly number[],
  parent: number | null,
  tokenIds: readonly number[],
  blockSize: number,
  lora?: KvBlockStored['lora'],
): KvBlockStored {
  const stored: KvBlockStored = {
    type: 'BlockStored',
    blockHashes,
    parentBlockHash: parent,
    tokenIds,
    blockSize,
    medium: 'GPU',
  };
  return lora === undefined ? stored : { ...stored, lora: { id: lora.id, name: lora.name } };
}

/**
 * A block an offload tier (host `CPU` or `DISK`) took in. vLLM's offloading connector publishes
 * these with no parent, no token ids and block_size 0: the offload manager knows keys only (as
 * nimsim's tiers do).
 */
export function offloadedBlockStored(hash: number, medium: KvMedium): KvBlockStored {
  return {
    type: 'BlockStored',
    blockHashes: [hash],
    parentBlockHash: null,
    tokenIds: [],
    blockSize: 0,
    medium,
  };
}

/** One block that lost its key: evicted to make room (vLLM publishes one event per evicted block). */
export function blockRemoved(hash: number, medium: KvMedium): KvBlockRemoved {
  return { type: 'BlockRemoved', blockHashes: [hash], medium };
}
