/**
 * A FIFO of at most `capacity` items on a ring: pushing onto a full queue drops the oldest (the
 * caller counts it), so a stalled consumer bounds memory instead of growing it.
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`queue capacity must be ≥ 1, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Appends `item`; returns true when the queue was full and its oldest item was dropped. */
  push(item: T): boolean {
    const full = this.count === this.capacity;
    if (full) this.shift();
    this.items[(this.start + this.count++) % this.capacity] = item;
    return full;
  }

  /** Takes the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.start];
    this.items[this.start] = undefined;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
    return item;
  }
}
