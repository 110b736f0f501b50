/**
 * Lazy decoding. A sequence that only decodes (one token per step) and whose tokens nobody watches
 * one at a time (`simulate`'s requests: no token events, no token observers) need not be updated
 * every step: its counters are a function of how many steps have completed since it was anchored.
 * The engine touches it only at the steps where something happens to it — a block fills (the cache
 * keys it), it needs a new block (the scheduler grows it, and may preempt), its plan ends (it
 * finishes), or it leaves the fast path (preemption, abort, a step whose token budget does not
 * reach it). At block size 16 that is about one step in sixteen instead of every step, which is
 * most of what `simulate` spends at high concurrency.
 *
 * Results are exactly those of eager decoding: the scheduler and the engine still walk the running
 * set in order every step (a cheap check per sequence), so every event happens at the same step,
 * in the same order, with the same cache calls. A property test holds both modes equal.
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

  constructor(private readonly blockSize: number) {}

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
   * Brings `seq`'s counters and token list up to date (as of the last completed step, or as of
   * this one while it is being completed).
   */
  sync(seq: Sequence): void {
    const steps = this.completed - seq.anchorStep;
    seq.numComputed = seq.anchorComputed + steps;
    seq.numGenerated = seq.anchorGenerated + steps;
    seq.syncTokens();
  }

  /**
   * Re-anchors a synced cruising sequence at its current counters (after an event changed its
   * block allocation or passed an event step) and works out its next events.
   */
  anchor(seq: Sequence): void {
    const computed = seq.numComputed;
    seq.anchorStep = this.completed;
    seq.anchorComputed = computed;
    seq.anchorGenerated = seq.numGenerated;
    // Planning of a step needs computed + 1 ≤ allocated; computed grows by one per completed step.
    seq.growAtStep = this.completed + Math.max(0, seq.allocatedTokens - computed);
    // After a step completes: a block fills when computed reaches a multiple of the block size; the
    // plan ends when the generated count reaches its length (both at least one step away).
    const toFill = this.blockSize - (computed % this.blockSize);
    const toEnd = seq.request.outputTokenIds.length - seq.numGenerated;
    seq.eventAtStep = this.completed + Math.min(toFill, toEnd);
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
