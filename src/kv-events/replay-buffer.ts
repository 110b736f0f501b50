/**
 * The last `capacity` published batches, for replay (vLLM's `deque(maxlen=buffer_steps)` in
 * ZmqEventPublisher): a ring, so keeping it bounded costs nothing per batch.
 */
export interface BufferedBatch {
  readonly seq: number;
  readonly payload: Buffer;
}

export class ReplayBuffer {
  private readonly items: (BufferedBatch | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<BufferedBatch | undefined>(Math.max(0, capacity));
  }

  get size(): number {
    return this.count;
  }

  /** Appends a batch; when full, the oldest is forgotten. */
  push(seq: number, payload: Buffer): void {
    if (this.capacity === 0) return;
    const item = { seq, payload };
    if (this.count < this.capacity) {
      this.items[(this.start + this.count++) % this.capacity] = item;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** The batches with seq ≥ `fromSeq`, oldest first (a copy: later pushes do not change it). */
  since(fromSeq: number): BufferedBatch[] {
    const out: BufferedBatch[] = [];
    for (let i = 0; i < this.count; i++) {
      const item = this.items[(this.start + i) % this.capacity]!;
      if (item.seq >= fromSeq) out.push(item);
    }
    return out;
  }
}
