/**
 * The union of block-key paths on one replica (the prompt blocks of its active requests), as the
 * nodes of their tree: chained block keys stand for their whole prefix, so a request's keys are a
 * path from the root and the union of paths is closed under prefixes — a key is present only when
 * every key before it on its path is. Each node counts the paths that end there and its children
 * present, so adding or removing a path touches only the nodes it adds or removes (plus one), not
 * the prefix it shares with other requests (a tenant's system prompt, say).
 *
 * An open-addressing table over typed arrays (linear probing, backward-shift deletion), as in
 * replica-sets.ts: keys are integers up to 2^53, which a Map would box.
 */

/** Marks an empty slot (keys are ≥ 0). */
const EMPTY = -1;
const INITIAL_CAPACITY = 256;

export class PathTable {
  private capacity = INITIAL_CAPACITY;
  private keys = new Float64Array(INITIAL_CAPACITY).fill(EMPTY);
  /** Paths ending at the node. */
  private ends = new Int32Array(INITIAL_CAPACITY);
  /** The node's children present. */
  private children = new Int32Array(INITIAL_CAPACITY);
  /** Nodes present: the distinct keys of all paths. */
  size = 0;

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

  has(key: number): boolean {
    return this.keys[this.slotOf(key)] !== EMPTY;
  }

  /**
   * How many of `keys` (a path from the root) are present in a row from the first: by galloping
   * then bisecting, since presence is a prefix of the path — O(log depth) lookups.
   */
  depth(keys: readonly number[]): number {
    const n = keys.length;
    if (this.size === 0 || n === 0 || !this.has(keys[0]!)) return 0;
    let present = 0; // keys[present] is present
    let absent = n; // keys[absent] is not (n: past the end)
    for (let step = 1; ; step *= 2) {
      const probe = present + step;
      if (probe >= n) break;
      if (!this.has(keys[probe]!)) {
        absent = probe;
        break;
      }
      present = probe;
    }
    while (absent - present > 1) {
      const mid = (present + absent) >>> 1;
      if (this.has(keys[mid]!)) present = mid;
      else absent = mid;
    }
    return present + 1;
  }

  /** Adds a path whose first `shared` keys are present (its `depth`); returns the nodes it added. */
  add(keys: readonly number[], shared: number): number {
    const n = keys.length;
    if (n === 0) return 0;
    if (shared === n) {
      this.ends[this.slotOf(keys[n - 1]!)]!++;
      return 0;
    }
    if (shared > 0) this.children[this.slotOf(keys[shared - 1]!)]!++;
    for (let i = shared; i < n; i++) {
      if (2 * (this.size + 1) > this.capacity) this.rebuild(this.capacity * 2);
      const slot = this.slotOf(keys[i]!);
      this.keys[slot] = keys[i]!;
      this.children[slot] = i < n - 1 ? 1 : 0;
      this.ends[slot] = i < n - 1 ? 0 : 1;
      this.size++;
    }
    return n - shared;
  }

  /** Removes a path added before; returns the nodes no other path holds, which it removed. */
  remove(keys: readonly number[]): number {
    let i = keys.length - 1;
    if (i < 0) return 0;
    let slot = this.slotOf(keys[i]!);
    this.ends[slot]!--;
    let removed = 0;
    while (this.ends[slot] === 0 && this.children[slot] === 0) {
      this.deleteSlot(slot);
      removed++;
      if (--i < 0) break;
      slot = this.slotOf(keys[i]!);
      this.children[slot]!--;
    }
    return removed;
  }

  /** Empties a slot, shifting later entries of its probe run back (no tombstones). */
  private deleteSlot(slot: number): void {
    const mask = this.capacity - 1;
    const { keys, ends, children } = this;
    this.size--;
    let hole = slot;
    let next = (hole + 1) & mask;
    while (keys[next] !== EMPTY) {
      const home = (keys[next]! >>> 0) & mask;
      // Move `next` into the hole when its home is not within (hole, next] cyclically.
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        keys[hole] = keys[next]!;
        ends[hole] = ends[next]!;
        children[hole] = children[next]!;
        hole = next;
      }
      next = (next + 1) & mask;
    }
    keys[hole] = EMPTY;
    ends[hole] = 0;
    children[hole] = 0;
  }

  private rebuild(capacity: number): void {
    const { keys, ends, children } = this;
    const old = this.capacity;
    this.capacity = capacity;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.ends = new Int32Array(capacity);
    this.children = new Int32Array(capacity);
    for (let slot = 0; slot < old; slot++) {
      if (keys[slot] === EMPTY) continue;
      const to = this.slotOf(keys[slot]!);
      this.keys[to] = keys[slot]!;
      this.ends[to] = ends[slot]!;
      this.children[to] = children[slot]!;
    }
  }
}
