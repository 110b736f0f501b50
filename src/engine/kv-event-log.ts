/**
 * The KV events of one step as a flat log of (operation, block key) pairs in two typed arrays, for
 * a listener that only keeps a set of keys per tier — a fleet's prefix index (src/fleet/prefix-index.ts).
 * It carries what such a listener reads of vLLM's events (kv-events.ts) and nothing else: which
 * key was stored or removed in which tier, and "all cleared", in the order they happened; no
 * parent hashes, token ids or LoRA names, and no grouping of a BlockStored's blocks.
 *
 * Why: with the event objects, every evicted block cost a BlockRemoved and its one-key array, and
 * every step's newly keyed blocks a BlockStored and its array, only for the index to read the keys
 * back and drop the objects — about half the allocations of a large fleet's `simulate`. The log
 * is reused step after step and allocates nothing once it has grown to a step's size. The engine
 * fills it instead of the objects only when every listener takes it (EngineObserver
 * `observesKvEventLog`); a ZMQ publisher or any other listener gets the objects as before.
 */

/** Operations: a key stored or removed in one tier, or every tier emptied. */
export const STORED_GPU = 0;
export const REMOVED_GPU = 1;
export const STORED_CPU = 2;
export const REMOVED_CPU = 3;
export const STORED_DISK = 4;
export const REMOVED_DISK = 5;
export const ALL_CLEARED = 6;

const INITIAL_CAPACITY = 256;

export class KvEventLog {
  private ops = new Uint8Array(INITIAL_CAPACITY);
  private keys = new Float64Array(INITIAL_CAPACITY);
  /** Entries logged since the last `clear`. */
  length = 0;

  push(op: number, key: number): void {
    if (this.length === this.ops.length) this.grow();
    this.ops[this.length] = op;
    this.keys[this.length++] = key;
  }

  opAt(i: number): number {
    return this.ops[i]!;
  }

  /** The entry's block key (0 for ALL_CLEARED). */
  keyAt(i: number): number {
    return this.keys[i]!;
  }

  clear(): void {
    this.length = 0;
  }

  private grow(): void {
    const ops = new Uint8Array(this.ops.length * 2);
    const keys = new Float64Array(this.keys.length * 2);
    ops.set(this.ops);
    keys.set(this.keys);
    this.ops = ops;
    this.keys = keys;
  }
}
