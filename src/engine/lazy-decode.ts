/**
 * Lazy decoding. A sequence that only decodes (one token per step) and whose tokens nobody watches
 * one at a time (`simulate`'s requests: no token events, no token observers) need not be updated
 * every step: its counters are a function of how many steps have completed since it was anchored.
 * The engine touches it only at the steps where something happens to it — a block fills (the cache
 * keys it), it needs a new block (the scheduler grows it, and may preempt), its plan ends (it
 * finishes), or it leaves the fast path (preemption, abort, a step whose token budget does not
 * reach it). At block size 16 that is about one step in sixteen instead of every step, and a step
 * costs O(events), not O(running sequences): what makes `simulate` fast at high concurrency.
 *
 * Events wait in two rings of buckets indexed by step count (no event is more than a block's worth
 * of steps away). A due bucket is handed out in running order (`runOrder`), and the scheduler and
 * the engine merge it with the sequences they update eagerly, so every event happens at the same
 * step, in the same order, with the same cache calls as with eager decoding. A property test holds
 * both modes equal.
 */
import type { Sequence } from './sequence.js';

export class LazyDecoders {
  /** Sequences cruising now. */
  count = 0;
  /** Σ numComputed over cruising sequences as of the next step's planning (attention context). */
  contextTokens = 0;
  /** Engine steps completed: cruising sequences advance one token per completed step. */
  completed = 0;
  /** When the last completed step ended: every cruising sequence got a token then. */
  private lastStepEndMs = 0;
  /** growRing[s % size]: sequences that need a block at the planning after `s` completed steps. */
  private readonly growRing: Sequence[][];
  /** eventRing[s % size]: sequences that fill a block or finish at the completion of step `s`. */
  private readonly eventRing: Sequence[][];
  private readonly dueGrowList: Sequence[] = [];
  private readonly dueEventList: Sequence[] = [];

  constructor(private readonly blockSize: number) {
    // Events are at most blockSize steps ahead, so buckets are reused only once they are done.
    const size = blockSize + 1;
    this.growRing = Array.from({ length: size }, () => []);
    this.eventRing = Array.from({ length: size }, () => []);
  }

  /**
   * `seq` sampled a token at the step that just completed and goes on decoding: from now on it
   * advances with every completed step until its next event.
   */
  enter(seq: Sequence): void {
    seq.cruising = true;
    this.count++;
    this.contextTokens += seq.numComputed;
    this.anchor(seq);
  }

  /** A step completed: every cruising sequence was in it (the scheduler ensures it) and computed one token. */
  advance(endMs: number): void {
    this.completed++;
    this.lastStepEndMs = endMs;
    this.contextTokens += this.count;
  }

  /**
   * Brings `seq`'s counters up to date (as of the last completed step, or as of
   * this one while it is being completed).
   */
  sync(seq: Sequence): void {
    const steps = this.completed - seq.anchorStep;
    seq.numComputed = seq.anchorComputed + steps;
    seq.numGenerated = seq.anchorGenerated + steps;
  }

  /**
   * Re-anchors a synced cruising sequence at its current counters (after an event changed its
   * block allocation or passed an event step) and files its next events.
   */
  anchor(seq: Sequence): void {
    const computed = seq.numComputed;
    const bs = this.blockSize;
    seq.anchorStep = this.completed;
    seq.anchorComputed = computed;
    seq.anchorGenerated = seq.numGenerated;
    // Planning of a step needs computed + 1 ≤ allocated; computed grows by one per completed step.
    const toGrow = seq.allocatedTokens - computed;
    // After a step completes: a block fills when computed reaches a multiple of the block size; the
    // plan ends when the generated count reaches its length (both at least one step away).
    const toEvent = Math.min(bs - (computed % bs), seq.request.outputTokenIds.length - seq.numGenerated);
    if (toGrow < 0 || toGrow > bs || toEvent < 1) {
      throw new Error(
        `lazy decode: sequence ${seq.seqId} has no event within a block (${toGrow}, ${toEvent})`,
      );
    }
    const growAt = this.completed + toGrow;
    if (seq.growAtStep !== growAt) {
      seq.growAtStep = growAt;
      this.growRing[growAt % this.growRing.length]!.push(seq);
    }
    const eventAt = this.completed + toEvent;
    if (seq.eventAtStep !== eventAt) {
      seq.eventAtStep = eventAt;
      this.eventRing[eventAt % this.eventRing.length]!.push(seq);
    }
  }

  /**
   * Cruising sequences that need a new block at this planning, in running order. The list is
   * valid until the next call; each sequence is in it once, and must be synced and re-anchored
   * (or taken off the fast path) by the caller.
   */
  dueGrows(): readonly Sequence[] {
    return this.takeDue(this.growRing, this.dueGrowList, true);
  }

  /** Cruising sequences that fill a block or finish at the step just completed, in running order (as dueGrows). */
  dueEvents(): readonly Sequence[] {
    return this.takeDue(this.eventRing, this.dueEventList, false);
  }

  /**
   * Empties this step's bucket into `out`, in running order, dropping stale entries (the sequence
   * left, was re-anchored to another step, or is listed twice). The field is chosen by a flag, not
   * by name: a keyed access per entry cost more than the whole loop.
   */
  private takeDue(ring: Sequence[][], out: Sequence[], grows: boolean): Sequence[] {
    out.length = 0;
    const step = this.completed;
    const bucket = ring[step % ring.length]!;
    for (let i = 0; i < bucket.length; i++) {
      const seq = bucket[i]!;
      if (!seq.cruising || (grows ? seq.growAtStep : seq.eventAtStep) !== step) continue;
      if (grows) seq.growAtStep = -1;
      else seq.eventAtStep = -1;
      out.push(seq);
    }
    bucket.length = 0;
    return sortByRunOrder(out);
  }

  /** Takes `seq` off the fast path (synced first): it is updated eagerly from now on. */
  leave(seq: Sequence): void {
    this.sync(seq);
    seq.cruising = false;
    seq.lastTokenMs = this.lastStepEndMs;
    seq.growAtStep = -1;
    seq.eventAtStep = -1;
    this.count--;
    this.contextTokens -= seq.numComputed;
  }
}

const byRunOrder = (a: Sequence, b: Sequence) => a.runOrder - b.runOrder;

/**
 * Sorts by runOrder: insertion sort for the usual few dozen sequences (cheaper than
 * Array.prototype.sort with a comparator), the library sort beyond.
 */
function sortByRunOrder(list: Sequence[]): Sequence[] {
  if (list.length > 32) return list.sort(byRunOrder);
  for (let i = 1; i < list.length; i++) {
    const seq = list[i]!;
    let j = i - 1;
    while (j >= 0 && list[j]!.runOrder > seq.runOrder) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = seq;
  }
  return list;
}
