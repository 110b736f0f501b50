/**
 * A LoRA request's BlockStored on the wire: vLLM's `lora_id` (the adapter's int id), `lora_name`,
 * and, in the map format, `extra_keys` of `[lora_name]` per block (vllm/v1/core/block_pool.py).
 */
import { decode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import type { KvEventBatch } from '../../src/engine/kv-events.js';
import { encodeKvEventBatch } from '../../src/kv-events/wire-format.js';

const batch: KvEventBatch = {
  atMs: 0,
  events: [
    {
      type: 'BlockStored',
      blockHashes: [7, 8],
      parentBlockHash: null,
      tokenIds: [1, 2, 3, 4, 5, 6, 7, 8],
      blockSize: 4,
      medium: 'GPU',
      lora: { id: 3, name: 'sql-adapter' },
    },
  ],
};

describe('KV events of a LoRA request', () => {
  it('carry lora_id and lora_name in the array format', () => {
    const [, events] = decode(encodeKvEventBatch(batch, 1, 0, 'array')) as [number, unknown[]];
    expect(events).toEqual([
      ['BlockStored', [7, 8], null, [1, 2, 3, 4, 5, 6, 7, 8], 4, 3, 'GPU', 'sql-adapter'],
    ]);
  });

  it('carry them in the map format, with the adapter name as each block extra key', () => {
    const [, events] = decode(encodeKvEventBatch(batch, 1, 0, 'map')) as [number, Record<string, unknown>[]];
    expect(events[0]).toMatchObject({
      type: 'BlockStored',
      lora_id: 3,
      lora_name: 'sql-adapter',
      extra_keys: [['sql-adapter'], ['sql-adapter']],
    });
  });
});
