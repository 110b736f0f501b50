/**
 * The cached-block index of the GPU tier: block key → block ids, an open-addressing hash table
 * (linear probing, backward-shift deletion) over typed arrays. Keys are not stored: a slot holds a
 * block id and the key is the pool's own `keyOf(blockId)`, plus a 32-bit digest of the key, so
 * an entry is 8 bytes and the table never allocates after creation. The digest picks the home
 * slot and settles almost every probe and every deletion shift without looking the key up. It
 * replaced a Map<number, number>, whose inserts and deletes under the cache's churn (every cached
 * block is inserted once and deleted at eviction) were the largest part of `simulate`'s cache
 * work, and whose 30-bit keys made ~1 false miss per 60k cached blocks; this table compares whole
 * keys.
 *
 * A key may index several blocks, as vLLM's `BlockHashToBlockMap` allows ("we don't de-duplicate
 * the blocks in the cache", vllm/v1/core/block_pool.py): two requests that compute the same block
 * both keep it cached, and a lookup returns the one indexed first, as vLLM's `get_one_block` does.
 * A key's entries lie in its probe run in the order they were added (inserts go to the end of the
 * run, backward shifts never reorder entries of one home), so the first found is the oldest.
 */

export interface BlockIndex {
  /** Entries in the index. */
  readonly size: number;
  /** The block indexed first under `key`, or -1. */
  get(key: number): number;
  /** Indexes `blockId` under `key` (its current `keyOf`), after any block already under it. */
  add(key: number, blockId: number): void;
  /** Removes `blockId`'s entry under `key` (call before the block's key changes); no-op when absent. */
  delete(key: number, blockId: number): void;
  clear(): void;
}

const TWO_POW_32 = 4294967296;

/**
 * An index for at most `capacity` entries; `keyOf(blockId)` must return the key a block was added
 * under for as long as it is indexed. Keys are non-negative integers below 2^53.
 */
export function createBlockIndex(capacity: number, keyOf: (blockId: number) => number): BlockIndex {
  // A power of two at least twice the capacity: the load factor stays at or below 1/2.
  let tableSize = 2;
  while (tableSize < 2 * capacity) tableSize *= 2;
  const mask = tableSize - 1;
  /** blockId + 1 per slot; 0 = empty. */
  const slots = new Int32Array(tableSize);
  /** The digest of each occupied slot's key. */
  const digests = new Int32Array(tableSize);
  let size = 0;

  // Keys are outputs of a 32-bit finaliser in both halves (block-hash.ts): mixing the halves is enough.
  const digestOf = (key: number) => (key >>> 0) ^ ((key / TWO_POW_32) | 0);

  /** The slot holding `key` (whose digest is `digest`), or -1. */
  const find = (key: number, digest: number): number => {
    for (let i = digest & mask; ; i = (i + 1) & mask) {
      const entry = slots[i]!;
      if (entry === 0) return -1;
      if (digests[i] === digest && keyOf(entry - 1) === key) return i;
    }
  };

  return {
    get size() {
      return size;
    },
    get(key) {
      const i = find(key, digestOf(key));
      return i < 0 ? -1 : slots[i]! - 1;
    },
    add(key, blockId) {
      if (size >= capacity) throw new Error(`KV block index: more than ${capacity} entries`);
      const digest = digestOf(key);
      let i = digest & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = blockId + 1;
      digests[i] = digest;
      size++;
    },
    delete(key, blockId) {
      const digest = digestOf(key);
      const entry = blockId + 1;
      let hole = digest & mask;
      for (; slots[hole] !== entry; hole = (hole + 1) & mask) if (slots[hole] === 0) return;
      size--;
      // Backward-shift deletion: pull later entries of the probe run into the hole whenever their
      // home slot does not lie (cyclically) between the hole and where they sit.
      for (let j = (hole + 1) & mask; slots[j] !== 0; j = (j + 1) & mask) {
        const h = digests[j]! & mask;
        const stays = hole <= j ? hole < h && h <= j : hole < h || h <= j;
        if (stays) continue;
        slots[hole] = slots[j]!;
        digests[hole] = digests[j]!;
        hole = j;
      }
      slots[hole] = 0;
    },
    clear() {
      slots.fill(0);
      size = 0;
    },
  };
}
