/**
 * The running set: the sequences admitted and not yet finished or preempted, in running order
 * (ascending `runOrder`, the order of vLLM's `Scheduler.running` list, vllm/v1/core/sched/scheduler.py).
 *
 * It hides how its sequences decode. Most are updated eagerly, one step at a time; those whose
 * tokens nobody watches cruise (lazy-decode.ts) and are visited only at their events. A step is
 * planned with one walk (`planStep`, which applies the scheduler's RunningPolicy to each sequence
 * it visits) and completed with another (`completeStep`, the engine's), whichever way each
 * sequence decodes: the scheduling policy and the completion of a step are each written once, and
 * the set decides which sequences need a visit.
 */
import { LazyDecoders } from './lazy-decode.js';
import type { Sequence } from './sequence.js';

/** The scheduling policy the running set applies to each sequence it visits when a step is planned. */
export interface RunningPolicy {
  /**
   * Gives one running sequence its share of the step, at most `budget` tokens (sets `stepTokens`);
   * returns the tokens taken, or -1 when the sequence had to preempt itself (nothing after it runs).
   */
  share(seq: Sequence, budget: number): number;
}

export class RunningSet {
  /**
   * Every running sequence in running order. Finished sequences stay in it, marked, until enough
   * of them pile up to compact (and are skipped meanwhile).
   */
  private readonly all: Sequence[] = [];
  /** Finished sequences still in `all`. */
  private finishedInAll = 0;
  /**
   * The sequences updated eagerly (not cruising), in running order. Sequences that started
   * cruising, finished or were preempted are dropped from it when the next step is planned.
   */
  private eager: Sequence[] = [];
  private readonly lazy: LazyDecoders;
  private nextRunOrder = 0;

  constructor(
    blockSize: number,
    private readonly policy: RunningPolicy,
  ) {
    this.lazy = new LazyDecoders(blockSize);
  }

  /** Sequences running now. */
  get size(): number {
    return this.all.length - this.finishedInAll;
  }

  /** Cruising sequences: each decodes one token in every step, outside the step's `stepped` list. */
  get cruising(): number {
    return this.lazy.count;
  }

  /** Σ computed tokens (attention context) of the cruising sequences, as of the step being planned. */
  get cruisingContextTokens(): number {
    return this.lazy.contextTokens;
  }

  /** An admitted sequence joins at the end of the running order, updated eagerly. */
  add(seq: Sequence): void {
    seq.runOrder = this.nextRunOrder++;
    this.all.push(seq);
    this.eager.push(seq);
  }

  /**
   * Plans the running sequences' part of a step, vLLM's RUNNING loop: oldest first, each gets its
   * share from the policy while the token budget lasts. Sequences updated one by one in the step are
   * appended to `stepped`, in running order; a cruising sequence decodes inside the step without
   * being listed. Returns the budget left for the waiting queue.
   *
   * When the budget covers every running sequence, only the eager ones and the cruising ones whose
   * token needs or fills a block are visited (the others' share is one token, inside their
   * blocks): a step costs O(events), not O(running sequences). Otherwise every one is walked in
   * order until the budget runs out, and those not reached sit the step out.
   */
  planStep(budget: number, stepped: Sequence[]): number {
    this.compact();
    const eager = this.liveEager();
    const planned = this.lazy.duePlanned();
    let demand = this.lazy.count;
    for (const seq of eager) demand += seq.numUncomputed;
    return demand <= budget
      ? this.planEvents(eager, planned, budget, stepped)
      : this.planInOrder(planned, budget, stepped);
  }

  /**
   * Every running sequence gets its whole share: visits the eager ones and the cruising ones with
   * a planning event (`planned`), merged in running order; the other cruising ones just decode.
   */
  private planEvents(
    eager: readonly Sequence[],
    planned: readonly Sequence[],
    budget: number,
    stepped: Sequence[],
  ): number {
    let used = 0;
    // Merged in running order here rather than through a callback per sequence: the fewest calls
    // on the hottest path.
    for (let i = 0, j = 0; i < eager.length || j < planned.length;) {
      const seq =
        j >= planned.length || (i < eager.length && eager[i]!.runOrder < planned[j]!.runOrder)
          ? eager[i++]!
          : planned[j++]!;
      if (seq.status !== 'running') continue; // preempted earlier in this step
      const wasCruising = seq.cruising;
      const taken = this.visit(seq, budget, stepped);
      if (taken < 0) break; // it preempted itself: it was the newest, nothing follows
      if (!wasCruising) used += taken;
    }
    return budget - used - this.lazy.count;
  }

  /** The budget does not cover every running sequence: walks all of them in running order until it runs out. */
  private planInOrder(planned: readonly Sequence[], budget: number, stepped: Sequence[]): number {
    const { all, lazy } = this;
    let j = 0;
    let i = 0;
    for (; i < all.length && budget > 0; i++) {
      const seq = all[i]!;
      if (seq.status !== 'running') continue;
      while (j < planned.length && planned[j]!.runOrder < seq.runOrder) j++; // skip preempted ones
      if (seq.cruising && planned[j] !== seq) {
        budget--; // decodes one token inside its allocation
        continue;
      }
      if (seq.cruising) j++;
      const taken = this.visit(seq, budget, stepped);
      if (taken < 0) break;
      budget -= taken;
    }
    // The budget ran out before the end of the running set: the rest sit this step out. Under this
    // order that is a prefill chunk (a decoding sequence is never behind one), but a cruising
    // sequence left out must stop cruising, since cruising ones advance with every step.
    for (; i < all.length; i++) {
      const seq = all[i]!;
      if (seq.status === 'running' && seq.cruising) lazy.leave(seq);
      seq.stepTokens = 0;
    }
    this.eager = all.filter((seq) => seq.status === 'running' && !seq.cruising);
    return budget;
  }

  /**
   * One sequence's share: a cruising sequence is brought up to date first and re-anchored after
   * (its next events filed); an eager one joins the step's list.
   */
  private visit(seq: Sequence, budget: number, stepped: Sequence[]): number {
    const cruising = seq.cruising;
    if (cruising) this.lazy.sync(seq);
    const taken = this.policy.share(seq, budget);
    if (taken < 0) return taken;
    if (cruising) this.lazy.anchor(seq, true);
    else stepped.push(seq);
    return taken;
  }

  /**
   * The step that listed `stepped` completed at `endMs` (every cruising sequence decoded its
   * token). Visits, in running order, the sequences whose share of the step completes now: those
   * of `stepped` (`cruising` false) and the cruising ones whose plan ends with this token (brought
   * up to date); ones that finished during the step are skipped.
   */
  completeStep(stepped: readonly Sequence[], endMs: number, visit: (seq: Sequence) => void): void {
    const { lazy } = this;
    lazy.advance(endMs);
    const finishing = lazy.dueFinishes();
    // Merged in running order (by hand, as in planEvents): the order every event would happen in
    // with every sequence updated eagerly.
    for (let i = 0, j = 0; i < stepped.length || j < finishing.length;) {
      const seq =
        j >= finishing.length || (i < stepped.length && stepped[i]!.runOrder < finishing[j]!.runOrder)
          ? stepped[i++]!
          : finishing[j++]!;
      if (seq.status !== 'running') continue; // finished or aborted during the step
      if (seq.cruising) lazy.sync(seq);
      visit(seq);
    }
  }

  /**
   * `seq` (which just got a token at the completed step and goes on decoding) decodes lazily from
   * now on: nobody watches its tokens one at a time.
   */
  startCruising(seq: Sequence): void {
    this.lazy.enter(seq);
  }

  /** The newest running sequence (finished ones at the end of the order are dropped on the way). */
  newest(): Sequence {
    const all = this.all;
    while (all[all.length - 1]!.status !== 'running') {
      all.pop();
      this.finishedInAll--;
    }
    return all[all.length - 1]!;
  }

  /** Takes out the newest running sequence (see `newest`) to be preempted, its counters up to date. */
  popNewest(): Sequence {
    const seq = this.newest();
    this.all.pop();
    if (seq.cruising) this.lazy.leave(seq);
    return seq;
  }

  /**
   * A running sequence finished or was aborted: a cruising one's counters are brought up to date.
   * It stays in the order, to be marked finished by the caller, until the next compaction.
   */
  remove(seq: Sequence): void {
    if (seq.cruising) this.lazy.leave(seq);
    this.finishedInAll++;
  }

  /** The running sequences, in running order (a new list). */
  toArray(): Sequence[] {
    return this.all.filter((seq) => seq.status === 'running');
  }

  /** The eager list without the sequences that started cruising, finished or were preempted. */
  private liveEager(): Sequence[] {
    const eager = this.eager;
    let kept = 0;
    for (const seq of eager) if (seq.status === 'running' && !seq.cruising) eager[kept++] = seq;
    // Setting the length is a runtime call even when it does not change (see lazy-decode.ts).
    if (kept < eager.length) eager.length = kept;
    return eager;
  }

  /**
   * Drops finished sequences from the order, in place, keeping the order — once they are an eighth
   * of it, so that the cost per finished sequence stays O(1) at any concurrency.
   */
  private compact(): void {
    const all = this.all;
    if (this.finishedInAll === 0 || this.finishedInAll * 8 < all.length) return;
    let kept = 0;
    for (const seq of all) if (seq.status === 'running') all[kept++] = seq;
    all.length = kept;
    this.finishedInAll = 0;
  }
}
