/**
 * Which replicas hold each block key: a set of replica numbers per key, as bit masks (32 replicas
 * per word, one Map per word); a replica may hold a key more than once (two GPU blocks with one
 * key, two active requests with one prompt block), and keeps it until it lets go of every copy. Block keys chain (a key stands for its whole prefix, like a path in
 * Dynamo's radix tree), so the tree collapses to a map: a prompt's overlap with every replica is
 * one walk down its keys, cutting each replica off at the first key it lacks — O(prompt blocks ×
 * words), never a scan of any cache.
 */

export class ReplicaSets {
  private readonly words: Map<number, number>[];
  /** Distinct keys held per replica (Dynamo's `tree_sizes`, its tie break). */
  readonly sizes: Int32Array;
  /** Per replica, the keys it holds more than once and how many times (rare but for shared prompts). */
  private readonly copies: Map<number, number>[];

  constructor(readonly replicas: number) {
    this.words = Array.from({ length: Math.ceil(replicas / 32) }, () => new Map<number, number>());
    this.sizes = new Int32Array(replicas);
    this.copies = Array.from({ length: replicas }, () => new Map<number, number>());
  }

  /** Adds one copy of the key to `replica`; true when it did not hold it before. */
  add(key: number, replica: number): boolean {
    const map = this.words[replica >>> 5]!;
    const bit = 1 << (replica & 31);
    const mask = map.get(key) ?? 0;
    if (mask & bit) {
      const copies = this.copies[replica]!;
      copies.set(key, (copies.get(key) ?? 1) + 1);
      return false;
    }
    map.set(key, mask | bit);
    this.sizes[replica]!++;
    return true;
  }

  /** Removes one copy of the key from `replica`; true when that was its last. */
  remove(key: number, replica: number): boolean {
    const map = this.words[replica >>> 5]!;
    const bit = 1 << (replica & 31);
    const mask = map.get(key) ?? 0;
    if (!(mask & bit)) return false;
    const copies = this.copies[replica]!;
    const held = copies.get(key);
    if (held !== undefined) {
      if (held > 2) copies.set(key, held - 1);
      else copies.delete(key);
      return false;
    }
    if (mask === bit) map.delete(key);
    else map.set(key, mask & ~bit);
    this.sizes[replica]!--;
    return true;
  }

  has(key: number, replica: number): boolean {
    return ((this.words[replica >>> 5]!.get(key) ?? 0) & (1 << (replica & 31))) !== 0;
  }

  /** Drops every key of one replica: O(keys held by any replica of its word). */
  clear(replica: number): void {
    const map = this.words[replica >>> 5]!;
    const bit = 1 << (replica & 31);
    for (const [key, mask] of map) {
      if (!(mask & bit)) continue;
      if (mask === bit) map.delete(key);
      else map.set(key, mask & ~bit);
    }
    this.sizes[replica] = 0;
    this.copies[replica]!.clear();
  }

  /** Keys held by at least one replica. */
  get keys(): number {
    let n = 0;
    for (const map of this.words) n += map.size;
    return n;
  }

  /**
   * For each replica, how many of `keys` it holds in a row from the first (its prefix overlap in
   * blocks), written to `out`. A key counts for a replica when any of `sets` has it there (a GPU
   * and a host tier, say).
   */
  static depths(sets: readonly ReplicaSets[], keys: readonly number[], out: Int32Array): void {
    const replicas = out.length;
    const words = Math.ceil(replicas / 32);
    for (let w = 0; w < words; w++) {
      const width = Math.min(32, replicas - w * 32);
      let active = width === 32 ? -1 : (1 << width) - 1;
      let i = 0;
      for (; i < keys.length && active !== 0; i++) {
        let mask = 0;
        for (const s of sets) mask |= s.words[w]!.get(keys[i]!) ?? 0;
        let dropped = active & ~mask;
        while (dropped !== 0) {
          const low = dropped & -dropped;
          out[w * 32 + (31 - Math.clz32(low))] = i;
          dropped ^= low;
        }
        active &= mask;
      }
      while (active !== 0) {
        const low = active & -active;
        out[w * 32 + (31 - Math.clz32(low))] = i;
        active ^= low;
      }
    }
  }
}
