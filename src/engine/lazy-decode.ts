/**
 * Lazy decoding. A sequence that only decodes (one token per step) and whose tokens nobody watches
 * one at a time (`simulate`'s requests: no token events, no token observers) need not be updated
 * every step: its counters are a function of how many steps have completed since it was anchored.
 * The engine touches it only at the steps where something happens to it — the planning of a step
 * whose token needs a new block (the scheduler grows it, and may preempt) or fills a block (the
 * scheduler keys it, as vLLM caches a block when it schedules the token that fills it), the
 * completion of the step where its plan ends (it finishes), or when it leaves the fast path
 * (preemption, abort, a step whose token budget does not reach it). At block size 16 that is about
 * two steps in sixteen instead of every step, and a step costs O(events), not O(running
 * sequences): what makes `simulate` fast at high concurrency.
 *
 * Events wait in two rings of buckets indexed by step count (no event is more than a block's worth
 * of steps away). A due bucket is handed out in running order (`runOrder`), and the running set
 * (running-set.ts) merges it with the sequences updated eagerly when a step is planned and when it
 * completes, so every event happens at the same step, in the same order, with the same cache calls
 * as with eager decoding. A property test holds both modes equal.
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
  /** planRing[s % size]: sequences the scheduler visits at the planning after `s` completed steps. */
  private readonly planRing: Sequence[][];
  /** finishRing[s % size]: sequences whose plan ends at the completion of step `s`. */
  private readonly finishRing: Sequence[][];

  constructor(private readonly blockSize: number) {
    // Events are at most blockSize steps ahead, so buckets are reused only once they are done.
    const size = blockSize + 1;
    this.planRing = Array.from({ length: size }, () => []);
    this.finishRing = Array.from({ length: size }, () => []);
  }

  /**
   * `seq` sampled a token at the step that just completed and goes on decoding: from now on it
   * advances with every completed step until its next event.
   */
  enter(seq: Sequence): void {
    seq.cruising = true;
    this.count++;
    this.contextTokens += seq.numComputed;
    this.anchor(seq, false);
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
   * Re-anchors a synced cruising sequence at its current counters and files its next events.
   * `planned`: the step being planned already has this sequence's token (the scheduler just
   * visited it), so its next planning event is at a later step.
   */
  anchor(seq: Sequence, planned: boolean): void {
    const computed = seq.numComputed;
    const bs = this.blockSize;
    seq.anchorStep = this.completed;
    seq.anchorComputed = computed;
    seq.anchorGenerated = seq.numGenerated;
    // The planning that computes token `position` (one per completed step from `computed` on)
    // needs a block when position = allocated, and keys a block when position + 1 fills one.
    const first = computed + (planned ? 1 : 0);
    const toGrow = seq.allocatedTokens - computed;
    const toKey = first + (bs - 1 - (first % bs)) - computed;
    const toPlan = Math.min(toGrow, toKey);
    // The plan ends at a completion; filed once it is within the rings' reach (a block's worth of
    // steps). A planning event comes at least once per block and re-anchors, so it is filed in time.
    const toFinish = seq.request.outputTokenIds.length - seq.numGenerated;
    if (toPlan < (planned ? 1 : 0) || toPlan > bs || toFinish < 1) {
      throw new Error(
        `lazy decode: sequence ${seq.seqId} has no event within a block (${toPlan}, ${toFinish})`,
      );
    }
    const planAt = this.completed + toPlan;
    if (seq.planAtStep !== planAt) {
      seq.planAtStep = planAt;
      this.planRing[planAt % this.planRing.length]!.push(seq);
    }
    if (toFinish > bs) return;
    const finishAt = this.completed + toFinish;
    if (seq.finishAtStep !== finishAt) {
      seq.finishAtStep = finishAt;
      this.finishRing[finishAt % this.finishRing.length]!.push(seq);
    }
  }

  /**
   * Cruising sequences the scheduler visits at this planning (their token needs a block or fills
   * one), in running order. The list is valid until the next call; each sequence is in it once,
   * and must be synced and re-anchored (or taken off the fast path) by the caller.
   */
  duePlanned(): readonly Sequence[] {
    return this.takeDue(this.planRing, true);
  }

  /** Cruising sequences whose plan ends at the step just completed, in running order (as duePlanned). */
  dueFinishes(): readonly Sequence[] {
    return this.takeDue(this.finishRing, false);
  }

  /**
   * Takes this step's bucket out of the ring (a new empty one replaces it) and returns it in
   * running order, without stale entries (the sequence left, was re-anchored to another step, or
   * is listed twice). The field is chosen by a flag, not by name: a keyed access per entry cost
   * more than the whole loop. No `length = 0` to empty a list: V8 runs that through a runtime
   * call (~45 ns even on an empty array), which at two buckets a step was a tenth of a step's cost;
   * a new array is cheaper, and an empty bucket costs nothing.
   */
  private takeDue(ring: Sequence[][], planning: boolean): readonly Sequence[] {
    const step = this.completed;
    const at = step % ring.length;
    const bucket = ring[at]!;
    if (bucket.length === 0) return NONE_DUE;
    ring[at] = [];
    let kept = 0;
    for (let i = 0; i < bucket.length; i++) {
      const seq = bucket[i]!;
      if (!seq.cruising || (planning ? seq.planAtStep : seq.finishAtStep) !== step) continue;
      if (planning) seq.planAtStep = -1;
      else seq.finishAtStep = -1;
      bucket[kept++] = seq;
    }
    if (kept < bucket.length) bucket.length = kept;
    return sortByRunOrder(bucket);
  }

  /** Takes `seq` off the fast path (synced first): it is updated eagerly from now on. */
  leave(seq: Sequence): void {
    this.sync(seq);
    seq.cruising = false;
    seq.lastTokenMs = this.lastStepEndMs;
    seq.planAtStep = -1;
    seq.finishAtStep = -1;
    this.count--;
    this.contextTokens -= seq.numComputed;
  }
}

const byRunOrder = (a: Sequence, b: Sequence) => a.runOrder - b.runOrder;

/** What a step with no event returns (never written to). */
const NONE_DUE: readonly Sequence[] = [];

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
