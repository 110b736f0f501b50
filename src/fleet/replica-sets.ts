/**
 * Which replicas hold each block key: a set of replica numbers per key, as bit masks (32 replicas
 * per word). A replica may hold a key more than once (two GPU blocks with one key, two active
 * requests with one prompt block) and keeps it until it lets go of every copy.
 *
 * Block keys chain (a key stands for its whole prefix, like a path in Dynamo's radix tree), so the
 * tree collapses to a map: a prompt's overlap with every replica is one walk down its keys,
 * cutting each replica off at the first key it lacks — O(prompt blocks × words), never a scan of
 * any cache. The map is an open-addressing table over typed arrays: keys are integers up to 2^53,
 * which a JavaScript Map boxes (a heap number per entry, and its hashing); here a lookup allocates
 * nothing.
 */

/** Marks an empty slot (keys are ≥ 0). */
const EMPTY = -1;
const INITIAL_CAPACITY = 1024;

export class ReplicaSets {
  private readonly words: number;
  private capacity = INITIAL_CAPACITY;
  private used = 0;
  private keys = new Float64Array(INITIAL_CAPACITY).fill(EMPTY);
  /** `words` masks per slot. */
  private masks: Int32Array;
  /**
   * Counted sets: copies per slot and replica (for small, busy tables: the active requests'
   * blocks). Otherwise the rare extra copies live in a Map per replica.
   */
  private counts: Int32Array | undefined;
  private readonly copies: Map<number, number>[] | undefined;
  /** Distinct keys held per replica (Dynamo's `tree_sizes`, its tie break). */
  readonly sizes: Int32Array;

  constructor(
    readonly replicas: number,
    /** Keep a copy count per slot and replica (memory: capacity × replicas). */
    counted = false,
  ) {
    this.words = Math.ceil(replicas / 32);
    this.masks = new Int32Array(INITIAL_CAPACITY * this.words);
    this.counts = counted ? new Int32Array(INITIAL_CAPACITY * replicas) : undefined;
    this.copies = counted ? undefined : Array.from({ length: replicas }, () => new Map<number, number>());
    this.sizes = new Int32Array(replicas);
  }

  /** The slot of `key`, or of the empty slot where it would go. */
  private slotOf(key: number): number {
    const mask = this.capacity - 1;
    // Keys are hashes already: their low bits are spread well.
    let slot = (key >>> 0) & mask;
    for (;;) {
      const k = this.keys[slot]!;
      if (k === key || k === EMPTY) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** The key's mask in word `w` (0 when no replica holds it). */
  maskOf(key: number, w: number): number {
    const slot = this.slotOf(key);
    return this.keys[slot] === EMPTY ? 0 : this.masks[slot * this.words + w]!;
  }

  has(key: number, replica: number): boolean {
    return (this.maskOf(key, replica >>> 5) & (1 << (replica & 31))) !== 0;
  }

  /** Adds one copy of the key to `replica`; true when it did not hold it before. */
  add(key: number, replica: number): boolean {
    let slot = this.slotOf(key);
    if (this.keys[slot] === EMPTY) {
      if (2 * (this.used + 1) > this.capacity) {
        this.grow();
        slot = this.slotOf(key);
      }
      this.keys[slot] = key;
      this.used++;
    }
    const m = slot * this.words + (replica >>> 5);
    const bit = 1 << (replica & 31);
    if (this.masks[m]! & bit) {
      if (this.counts) this.counts[slot * this.replicas + replica]!++;
      else {
        const copies = this.copies![replica]!;
        copies.set(key, (copies.get(key) ?? 1) + 1);
      }
      return false;
    }
    this.masks[m]! |= bit;
    if (this.counts) this.counts[slot * this.replicas + replica] = 1;
    this.sizes[replica]!++;
    return true;
  }

  /** Removes one copy of the key from `replica`; true when that was its last. */
  remove(key: number, replica: number): boolean {
    const slot = this.slotOf(key);
    if (this.keys[slot] === EMPTY) return false;
    const m = slot * this.words + (replica >>> 5);
    const bit = 1 << (replica & 31);
    if (!(this.masks[m]! & bit)) return false;
    if (this.counts) {
      if (--this.counts[slot * this.replicas + replica]! > 0) return false;
    } else {
      const copies = this.copies![replica]!;
      // Extra copies are rare: skip the Map (it boxes the key and hashes it) when there are none.
      const held = copies.size === 0 ? undefined : copies.get(key);
      if (held !== undefined) {
        if (held > 2) copies.set(key, held - 1);
        else copies.delete(key);
        return false;
      }
    }
    this.masks[m]! &= ~bit;
    this.sizes[replica]!--;
    if (this.isEmpty(slot)) this.deleteSlot(slot);
    return true;
  }

  /** Drops every key of one replica: O(table capacity). */
  clear(replica: number): void {
    const w = replica >>> 5;
    const bit = 1 << (replica & 31);
    for (let slot = 0; slot < this.capacity; slot++) {
      if (this.keys[slot] === EMPTY) continue;
      this.masks[slot * this.words + w]! &= ~bit;
      if (this.counts) this.counts[slot * this.replicas + replica] = 0;
    }
    this.copies?.[replica]!.clear();
    this.sizes[replica] = 0;
    this.rebuild(this.capacity);
  }

  /** Keys held by at least one replica. */
  get size(): number {
    return this.used;
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
        for (const s of sets) if (s.used > 0) mask |= s.maskOf(keys[i]!, w);
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

  private isEmpty(slot: number): boolean {
    for (let w = 0; w < this.words; w++) if (this.masks[slot * this.words + w] !== 0) return false;
    return true;
  }

  /** Empties a slot, shifting later entries of its probe run back (no tombstones). */
  private deleteSlot(slot: number): void {
    const mask = this.capacity - 1;
    this.used--;
    let hole = slot;
    let next = (hole + 1) & mask;
    while (this.keys[next] !== EMPTY) {
      const home = (this.keys[next]! >>> 0) & mask;
      // Move `next` into the hole when its home is not within (hole, next] cyclically.
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        this.moveSlot(next, hole);
        hole = next;
      }
      next = (next + 1) & mask;
    }
    this.keys[hole] = EMPTY;
    // Element loops, not fill/copyWithin: a slot is a word or two, less than a builtin call costs.
    const { words, replicas, masks, counts } = this;
    for (let w = 0; w < words; w++) masks[hole * words + w] = 0;
    if (counts) for (let r = 0; r < replicas; r++) counts[hole * replicas + r] = 0;
  }

  private moveSlot(from: number, to: number): void {
    const { words, replicas, masks, counts } = this;
    this.keys[to] = this.keys[from]!;
    for (let w = 0; w < words; w++) masks[to * words + w] = masks[from * words + w]!;
    if (counts) for (let r = 0; r < replicas; r++) counts[to * replicas + r] = counts[from * replicas + r]!;
  }

  private grow(): void {
    this.rebuild(this.capacity * 2);
  }

  /** Re-inserts every non-empty slot into a table of `capacity` slots. */
  private rebuild(capacity: number): void {
    const { keys, masks, counts, words, replicas } = this;
    const old = this.capacity;
    this.capacity = capacity;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.masks = new Int32Array(capacity * words);
    this.counts = counts ? new Int32Array(capacity * replicas) : undefined;
    this.used = 0;
    for (let slot = 0; slot < old; slot++) {
      if (keys[slot] === EMPTY) continue;
      let empty = true;
      for (let w = 0; w < words; w++) if (masks[slot * words + w] !== 0) empty = false;
      if (empty) continue;
      const to = this.slotOf(keys[slot]!);
      this.keys[to] = keys[slot]!;
      // Element loops, not set(subarray): a view object per slot was millions of short-lived
      // objects when a fleet's table of every replica's keys doubled.
      for (let w = 0; w < words; w++) this.masks[to * words + w] = masks[slot * words + w]!;
      if (counts)
        for (let r = 0; r < replicas; r++) this.counts![to * replicas + r] = counts[slot * replicas + r]!;
      this.used++;
    }
  }
}
