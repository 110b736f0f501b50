/**
 * The clocks' queue of timers (clock.ts): a binary min-heap ordered by due time, then by the order
 * the timers were scheduled (FIFO among equal times).
 *
 * Every step of every engine passes through it once, with a fleet's steps and a workload's think
 * times queued beside one another (a thousand timers), so its compares are kept off the timer
 * objects: each position's due time and sequence number sit in typed arrays beside the heap, and
 * entries move into a hole rather than swap. (Comparing through the objects cost a pointer chase
 * per compare, ~20 per step.)
 */

export interface Timer {
  readonly atMs: number;
  readonly seq: number;
  /** Undefined once fired or cancelled. */
  fn: (() => void) | undefined;
}

/** What emptied positions hold, so the heap keeps no fired timer alive. */
const NO_TIMER: Timer = { atMs: 0, seq: 0, fn: undefined };
const INITIAL_CAPACITY = 64;

export class TimerHeap {
  private times = new Float64Array(INITIAL_CAPACITY);
  private seqs = new Float64Array(INITIAL_CAPACITY);
  private readonly timers: Timer[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The earliest timer, or undefined. */
  peek(): Timer | undefined {
    return this.count > 0 ? this.timers[0] : undefined;
  }

  /** Due time of the earliest timer; Infinity when there is none. */
  peekAtMs(): number {
    return this.count > 0 ? this.times[0]! : Infinity;
  }

  push(t: Timer): void {
    if (this.count === this.times.length) this.grow();
    const { times, seqs, timers } = this;
    const { atMs, seq } = t;
    let i = this.count++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (atMs > times[p]! || (atMs === times[p] && seq > seqs[p]!)) break;
      times[i] = times[p]!;
      seqs[i] = seqs[p]!;
      timers[i] = timers[p]!;
      i = p;
    }
    times[i] = atMs;
    seqs[i] = seq;
    timers[i] = t;
  }

  /** Takes out the earliest timer; undefined when there is none. */
  pop(): Timer | undefined {
    if (this.count === 0) return undefined;
    const { times, seqs, timers } = this;
    const top = timers[0]!;
    const n = --this.count;
    // The last entry sinks from the root into its place.
    const atMs = times[n]!;
    const seq = seqs[n]!;
    const last = timers[n]!;
    timers[n] = NO_TIMER;
    let i = 0;
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      const r = m + 1;
      if (r < n && (times[r]! < times[m]! || (times[r] === times[m] && seqs[r]! < seqs[m]!))) m = r;
      if (atMs < times[m]! || (atMs === times[m] && seq < seqs[m]!)) break;
      times[i] = times[m]!;
      seqs[i] = seqs[m]!;
      timers[i] = timers[m]!;
      i = m;
    }
    if (n > 0) {
      times[i] = atMs;
      seqs[i] = seq;
      timers[i] = last;
    }
    return top;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    const seqs = new Float64Array(this.seqs.length * 2);
    times.set(this.times);
    seqs.set(this.seqs);
    this.times = times;
    this.seqs = seqs;
  }
}

/** Whether `a` fires before `b`: earlier, or as early and scheduled first. */
export const firesBefore = (a: Timer, b: Timer): boolean =>
  a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
