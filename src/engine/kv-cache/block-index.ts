/**
 * The cached-block index of the GPU tier: block key → block ids, over typed arrays that are never
 * reallocated.
 *
 * A key may index several blocks, as vLLM's `BlockHashToBlockMap` allows ("we don't de-duplicate
 * the blocks in the cache", vllm/v1/core/block_pool.py): two requests that compute the same block
 * both keep it cached, and a lookup returns the one indexed first, as vLLM's `get_one_block` does
 * (its per-key dict keeps insertion order). A server answering one prompt over and over keeps one
 * such copy per request of every block its answers fill, thousands of them, so nothing here may
 * cost more per operation with more copies of a key.
 *
 * - The table: open addressing (linear probing, backward-shift deletion) with one slot per
 *   distinct key, holding the key's oldest block (its head). Keys are not stored: the key is the
 *   pool's own `keyOf(head)`, plus a 32-bit digest of it that picks the home slot and settles
 *   almost every probe and deletion shift without looking the key up. A slot is 8 bytes; the
 *   table has at least twice as many slots as blocks, so probe runs stay short.
 * - The copies: each key's blocks form a chain in the order they were indexed, through two links
 *   per block (`next`, `prev`, indexed by block id: 8 bytes a block). The ends carry each other: the
 *   head's `prev` holds ~tail and the tail's `next` holds ~head (negative, so an end is known by
 *   its sign). Appending a copy needs the head (one probe); removing a copy that is not the head
 *   needs no probe at all; removing the head promotes the next copy into its slot in place (one
 *   probe), and only removing a key's last copy empties a slot.
 *
 * Every operation is therefore O(1) expected, whatever the number of copies. (An earlier table
 * kept every copy in its own slot of one probe run, so every insert and delete walked past all of
 * a key's copies: O(copies), which slowed a server answering one prompt repeatedly by half.)
 */

export interface BlockIndex {
  /** Entries (blocks) in the index. */
  readonly size: number;
  /** Distinct keys in the index. */
  readonly keys: number;
  /**
   * Table slots examined so far by every operation (probes and deletion shifts): a cost counter
   * for tests and benchmarks. Updating a key's chain examines no slot.
   */
  readonly slotsExamined: number;
  /** The block indexed first under `key`, or -1. */
  get(key: number): number;
  /**
   * Indexes `blockId` under `key` (its current `keyOf`), after any block already under it. Throws
   * when the block is already indexed or the index is full.
   */
  add(key: number, blockId: number): void;
  /**
   * Removes `blockId`'s entry under `key` (call before the block's key changes); no-op when the
   * block is not indexed.
   */
  delete(key: number, blockId: number): void;
  clear(): void;
}

const TWO_POW_32 = 4294967296;
/** `prev` of a block that is not indexed (chain ends are ~id ≥ -2^31 + 1, ids are ≥ 0). */
const NOT_INDEXED = -0x80000000;

/**
 * An index for at most `capacity` blocks (ids 0 … capacity-1); `keyOf(blockId)` must return the
 * key a block was added under for as long as it is indexed. Keys are non-negative integers
 * below 2^53.
 */
export function createBlockIndex(capacity: number, keyOf: (blockId: number) => number): BlockIndex {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity >= 0x7fffffff)
    throw new Error(`KV block index: capacity must be 1 … 2^31-2, got ${capacity}`);
  // A power of two at least twice the capacity: the load factor stays at or below 1/2.
  let tableSize = 2;
  while (tableSize < 2 * capacity) tableSize *= 2;
  const mask = tableSize - 1;
  /** head blockId + 1 per slot; 0 = empty. */
  const slots = new Int32Array(tableSize);
  /** The digest of each occupied slot's key. */
  const digests = new Int32Array(tableSize);
  /** The next copy of the block's key, or ~head for the last copy. */
  const next = new Int32Array(capacity);
  /** The previous copy of the block's key, ~tail for the head, NOT_INDEXED when not indexed. */
  const prev = new Int32Array(capacity).fill(NOT_INDEXED);
  let size = 0;
  let keys = 0;
  let slotsExamined = 0;

  // Keys are outputs of a 32-bit finaliser in both halves (block-hash.ts): mixing the halves is enough.
  const digestOf = (key: number) => (key >>> 0) ^ ((key / TWO_POW_32) | 0);

  /** The slot holding `key` (whose digest is `digest`), or ~(the empty slot ending its probe run). */
  const find = (key: number, digest: number): number => {
    for (let i = digest & mask; ; i = (i + 1) & mask) {
      slotsExamined++;
      const entry = slots[i]!;
      if (entry === 0) return ~i;
      if (digests[i] === digest && keyOf(entry - 1) === key) return i;
    }
  };

  /** Empties slot `hole`, pulling later entries of its probe run back (backward-shift deletion). */
  const removeSlot = (hole: number) => {
    // An entry moves into the hole unless its home slot lies (cyclically) after the hole and at or
    // before where it sits: then the hole is outside its probe path.
    for (let j = (hole + 1) & mask; slots[j] !== 0; j = (j + 1) & mask) {
      slotsExamined++;
      const h = digests[j]! & mask;
      const stays = hole <= j ? hole < h && h <= j : hole < h || h <= j;
      if (stays) continue;
      slots[hole] = slots[j]!;
      digests[hole] = digests[j]!;
      hole = j;
    }
    slots[hole] = 0;
    keys--;
  };

  return {
    get size() {
      return size;
    },
    get keys() {
      return keys;
    },
    get slotsExamined() {
      return slotsExamined;
    },
    get(key) {
      const i = find(key, digestOf(key));
      return i < 0 ? -1 : slots[i]! - 1;
    },
    add(key, blockId) {
      if (prev[blockId] !== NOT_INDEXED) {
        throw new Error(
          blockId >= 0 && blockId < capacity
            ? `KV block index: block ${blockId} is already indexed`
            : `KV block index: block ${blockId} is outside 0 … ${capacity - 1}`,
        );
      }
      const digest = digestOf(key);
      const i = find(key, digest);
      if (i < 0) {
        // A new key: its first block is the head and tail of its chain.
        slots[~i] = blockId + 1;
        digests[~i] = digest;
        prev[blockId] = ~blockId;
        next[blockId] = ~blockId;
        keys++;
      } else {
        const head = slots[i]! - 1;
        const tail = ~prev[head]!;
        next[tail] = blockId;
        prev[blockId] = tail;
        next[blockId] = ~head;
        prev[head] = ~blockId;
      }
      size++;
    },
    delete(key, blockId) {
      if (!(blockId >= 0 && blockId < capacity)) return;
      const p = prev[blockId]!;
      if (p === NOT_INDEXED) return;
      const n = next[blockId]!;
      if (p >= 0) {
        // Not the head: unlink it; when it was the tail, its predecessor is the new tail.
        next[p] = n;
        if (n >= 0) prev[n] = p;
        else prev[~n] = ~p;
      } else {
        const i = find(key, digestOf(key));
        if (i < 0 || slots[i] !== blockId + 1)
          throw new Error(`KV block index: block ${blockId} is not indexed under key ${key}`);
        if (n < 0) {
          removeSlot(i); // the key's only block
        } else {
          // The head with later copies: the next oldest takes its slot and becomes the head.
          const tail = ~p;
          prev[n] = ~tail;
          next[tail] = ~n;
          slots[i] = n + 1;
        }
      }
      prev[blockId] = NOT_INDEXED;
      size--;
    },
    clear() {
      slots.fill(0);
      prev.fill(NOT_INDEXED);
      size = 0;
      keys = 0;
    },
  };
}
