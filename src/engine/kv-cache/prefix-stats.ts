/**
 * Which cached prefixes are shared most, for GET /admin/kv-cache. Prefixes are grouped by the
 * key of their first block (a system prompt, a conversation's opening turn); each group counts
 * the admissions that hit it and the longest run of blocks one hit reused.
 *
 * The table is bounded (Space-Saving, Metwally et al. 2005): when full, a new prefix replaces
 * the one with the fewest hits and inherits its count, so a prefix's `hits` may be overstated by
 * at most the count it inherited, and every prefix with more hits than that is guaranteed to be
 * listed. Recording costs O(1), or O(capacity) when an entry must be replaced.
 */

/** One shared prefix. `tokens` = `blocks` × block size. */
export interface SharedPrefix {
  readonly blocks: number;
  readonly tokens: number;
  readonly hits: number;
  /** The prefix's first tokens (at most one block, at most 16), to recognise it. */
  readonly firstTokenIds: readonly number[];
}

export interface PrefixStats {
  /** An admission reused `blocks` (≥ 1) cached blocks starting with the block keyed `rootHash`. */
  record(rootHash: number, blocks: number, tokenIds: readonly number[]): void;
  /** The `limit` most hit prefixes, most hits first (ties: longer first). */
  top(limit: number): readonly SharedPrefix[];
  clear(): void;
}

interface Entry {
  hits: number;
  blocks: number;
  firstTokenIds: readonly number[];
}

const MAX_SHOWN_TOKENS = 16;

/** A table of at most `capacity` prefixes for blocks of `blockSize` tokens. */
export function createPrefixStats(capacity: number, blockSize: number): PrefixStats {
  const entries = new Map<number, Entry>();
  return {
    record(rootHash, blocks, tokenIds) {
      const entry = entries.get(rootHash);
      if (entry) {
        entry.hits++;
        entry.blocks = Math.max(entry.blocks, blocks);
        return;
      }
      let inherited = 0;
      if (entries.size >= capacity) {
        let minKey = 0;
        let minHits = Infinity;
        for (const [key, e] of entries) {
          if (e.hits < minHits) {
            minHits = e.hits;
            minKey = key;
          }
        }
        entries.delete(minKey);
        inherited = minHits;
      }
      const firstTokenIds = tokenIds.slice(0, Math.min(blockSize, MAX_SHOWN_TOKENS));
      entries.set(rootHash, { hits: inherited + 1, blocks, firstTokenIds });
    },
    top(limit) {
      return [...entries.values()]
        .sort((a, b) => b.hits - a.hits || b.blocks - a.blocks)
        .slice(0, Math.max(0, limit))
        .map((e) => ({
          blocks: e.blocks,
          tokens: e.blocks * blockSize,
          hits: e.hits,
          firstTokenIds: e.firstTokenIds,
        }));
    },
    clear() {
      entries.clear();
    },
  };
}
