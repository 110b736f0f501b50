/**
 * vLLM's KV-event batch on the wire: the msgpack payload (third frame) of each ZMQ message, as
 * msgspec encodes vLLM's structs in vllm/distributed/kv_events.py (`KVEventBatch`, `BlockStored`,
 * `BlockRemoved`, `AllBlocksCleared`). The batch is positional, `[ts, events, data_parallel_rank]`:
 * `ts` wall-clock seconds as a float64, `data_parallel_rank` the replica's rank. Two encodings of
 * the events, since vLLM changed them (NIMSIM_KV_EVENTS_FORMAT):
 *
 * - `array` (default): msgspec `array_like=True, tag=True, omit_defaults=True` — each event a
 *   tagged array, trailing fields equal to their defaults dropped:
 *   `["BlockStored", block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium, lora_name]`,
 *   `["BlockRemoved", block_hashes, medium]`, `["AllBlocksCleared"]`. What routers built on vLLM's
 *   KV events (Dynamo's KV router, llm-d's kv-cache indexer) have decoded since events had a medium.
 * - `map`: the events as tagged maps (`{"type": "BlockStored", "block_hashes": …}`), as vLLM
 *   publishes them since it dropped `array_like` from `KVCacheEvent`; fields without a default are
 *   always present, defaulted ones only when set: a GPU BlockStored carries `extra_keys` (one entry
 *   per block: null, or `[lora_name]` for a LoRA request's blocks, as `generate_block_hash_extra_keys`
 *   makes them; the cache salt of a prefix's first block is not carried), `group_idx` 0 and
 *   `kv_cache_spec_kind` "full_attention" as vllm/v1/core/block_pool.py sets them; a GPU
 *   BlockRemoved `group_idx` 0.
 *
 * Block hashes are unsigned integers, as vLLM publishes them by default (`maybe_convert_block_hash`
 * in vllm/v1/core/kv_cache_utils.py turns its hash bytes into an int); nimsim's keys are below 2^53.
 * `lora_id` and `lora_name` are the adapter's int id and name for a LoRA request's blocks
 * (block_pool.py `cache_full_blocks`), null otherwise (docs/lora.md#kv-cache).
 */
import type { KvBlockStored, KvEvent, KvEventBatch } from '../engine/kv-events.js';
import { MsgpackWriter } from './msgpack-writer.js';

export const KV_EVENT_FORMATS = ['array', 'map'] as const;
export type KvEventFormat = (typeof KV_EVENT_FORMATS)[number];

/** vLLM's `kv_cache_spec_kind` of a full-attention layer group (vllm/v1/kv_cache_interface.py). */
const FULL_ATTENTION = 'full_attention';

/**
 * The msgpack bytes of one batch: `tsSeconds` its wall time, `rank` the data-parallel rank. One
 * writer may be passed in and reused across calls (it is reset first).
 */
export function encodeKvEventBatch(
  batch: KvEventBatch,
  tsSeconds: number,
  rank: number,
  format: KvEventFormat,
  w: MsgpackWriter = new MsgpackWriter(),
): Buffer {
  w.reset();
  w.arrayHeader(3);
  w.float64(tsSeconds);
  w.arrayHeader(batch.events.length);
  for (const ev of batch.events) {
    if (format === 'array') writeArrayEvent(w, ev);
    else writeMapEvent(w, ev);
  }
  w.uint(rank);
  return w.finish();
}

function writeArrayEvent(w: MsgpackWriter, ev: KvEvent): void {
  switch (ev.type) {
    case 'BlockStored':
      w.arrayHeader(8);
      w.str('BlockStored');
      w.uintArray(ev.blockHashes);
      w.uintOrNil(ev.parentBlockHash);
      w.uintArray(ev.tokenIds);
      w.uint(ev.blockSize);
      writeLoraId(w, ev);
      w.str(ev.medium);
      writeLoraName(w, ev);
      return;
    case 'BlockRemoved':
      w.arrayHeader(3);
      w.str('BlockRemoved');
      w.uintArray(ev.blockHashes);
      w.str(ev.medium);
      return;
    case 'AllBlocksCleared':
      w.arrayHeader(1);
      w.str('AllBlocksCleared');
  }
}

function writeMapEvent(w: MsgpackWriter, ev: KvEvent): void {
  switch (ev.type) {
    case 'BlockStored': {
      // The CPU offloading connector sets none of the defaulted fields (its take_events).
      const gpu = ev.medium === 'GPU';
      w.mapHeader(gpu ? 11 : 8);
      w.str('type');
      w.str('BlockStored');
      w.str('block_hashes');
      w.uintArray(ev.blockHashes);
      w.str('parent_block_hash');
      w.uintOrNil(ev.parentBlockHash);
      w.str('token_ids');
      w.uintArray(ev.tokenIds);
      w.str('block_size');
      w.uint(ev.blockSize);
      w.str('lora_id');
      writeLoraId(w, ev);
      w.str('medium');
      w.str(ev.medium);
      w.str('lora_name');
      writeLoraName(w, ev);
      if (!gpu) return;
      w.str('extra_keys');
      w.arrayHeader(ev.blockHashes.length);
      for (let i = 0; i < ev.blockHashes.length; i++) {
        if (ev.lora === undefined) {
          w.nil();
        } else {
          w.arrayHeader(1);
          w.str(ev.lora.name);
        }
      }
      w.str('group_idx');
      w.uint(0);
      w.str('kv_cache_spec_kind');
      w.str(FULL_ATTENTION);
      return;
    }
    case 'BlockRemoved': {
      const gpu = ev.medium === 'GPU';
      w.mapHeader(gpu ? 4 : 3);
      w.str('type');
      w.str('BlockRemoved');
      w.str('block_hashes');
      w.uintArray(ev.blockHashes);
      w.str('medium');
      w.str(ev.medium);
      if (!gpu) return;
      w.str('group_idx');
      w.uint(0);
      return;
    }
    case 'AllBlocksCleared':
      w.mapHeader(1);
      w.str('type');
      w.str('AllBlocksCleared');
  }
}

function writeLoraId(w: MsgpackWriter, ev: KvBlockStored): void {
  if (ev.lora === undefined) w.nil();
  else w.uint(ev.lora.id);
}

function writeLoraName(w: MsgpackWriter, ev: KvBlockStored): void {
  if (ev.lora === undefined) w.nil();
  else w.str(ev.lora.name);
}
