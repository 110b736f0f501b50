/**
 * vLLM v1's scheduling policy for one step, on our own data structures: running sequences first
 * (one decode token each, or the next chunk of an unfinished prefill), then waiting sequences in
 * FCFS order while the token budget, the running-set bound and the KV cache allow. A running
 * sequence that cannot get a block preempts the newest running sequence (recompute: its blocks
 * are freed and it goes back to the front of the waiting queue), as vLLM's FCFS policy does.
 */
import type { KvCacheManager } from './kv-cache/kv-cache-manager.js';
import type { PrefillChunk, StepWork } from './perf-model.js';
import type { LazyDecoders } from './lazy-decode.js';
import type { Sequence } from './sequence.js';

export interface SchedulerLimits {
  readonly maxNumSeqs: number;
  /** Token budget of one step (vLLM max_num_batched_tokens). */
  readonly maxNumBatchedTokens: number;
}

export interface StepPlan {
  /**
   * Sequences in the step updated one by one (each one's share is its `stepTokens`); cruising
   * sequences (lazy-decode.ts) are in the step too, one decode token each, counted in `work`.
   */
  readonly scheduled: readonly Sequence[];
  readonly work: StepWork;
  /** Sequences admitted from the waiting queue this step (first admission or after preemption). */
  readonly admitted: readonly Sequence[];
  /** Sequences preempted this step. */
  readonly preempted: readonly Sequence[];
}

export class Scheduler {
  readonly waiting: Sequence[] = [];
  /**
   * The running set in running order (admission order). Finished sequences stay in it, marked,
   * until the next step is planned, so that the engine can walk it while completing a step.
   */
  readonly running: Sequence[] = [];
  /** Finished sequences still in `running`. */
  private finishedInRunning = 0;

  constructor(
    private readonly kv: KvCacheManager,
    private readonly limits: SchedulerLimits,
    readonly lazy: LazyDecoders,
  ) {}

  /**
   * Plans the step starting at `startMs`; null when there is nothing to run. Only requests that
   * arrived by `startMs` are admitted: on a lagging real clock a step may start (in simulated time)
   * before a request that is already queued arrived.
   */
  schedule(startMs: number): StepPlan | null {
    this.compactRunning();
    const { lazy, running } = this;
    let budget = this.limits.maxNumBatchedTokens;
    // Each sequence's share is kept on it (stepTokens): no object per sequence per step.
    const scheduled: Sequence[] = [];
    const preempted: Sequence[] = [];
    const admitted: Sequence[] = [];

    // 1. Running sequences, oldest first.
    let i = 0;
    for (; i < running.length && budget > 0; i++) {
      const seq = running[i]!;
      if (seq.cruising) {
        // A cruising sequence decodes one token inside its allocation: nothing to do but count it.
        if (seq.growAtStep !== lazy.completed) {
          budget--;
          continue;
        }
        lazy.sync(seq);
      }
      const numNew = Math.min(seq.numUncomputed, budget);
      const needed = seq.numComputed + numNew;
      // Most decode steps stay inside the last block: only ask the cache when a new block is needed.
      let ok = needed <= seq.allocatedTokens || this.kv.grow(seq.seqId, needed);
      while (!ok) {
        const victim = running[running.length - 1]!;
        this.preempt(victim);
        preempted.push(victim);
        if (victim === seq) break;
        ok = this.kv.grow(seq.seqId, needed);
      }
      if (!ok) break;
      if (needed > seq.allocatedTokens) seq.allocatedTokens = this.roundUpToBlock(needed);
      seq.stepTokens = numNew;
      budget -= numNew;
      if (seq.cruising) lazy.anchor(seq);
      else scheduled.push(seq);
    }
    // The budget ran out before the end of the running set: the rest sit this step out. Under this
    // order that is a prefill chunk (a decoding sequence is never behind one), but a cruising
    // sequence left out must stop cruising, since cruising ones advance with every step.
    for (; i < running.length; i++) {
      const seq = running[i]!;
      if (seq.cruising) lazy.leave(seq);
      seq.stepTokens = 0;
    }

    // 2. Waiting sequences, FCFS; none after a preemption (vLLM: the cache is under pressure).
    let hostLoadTokens = 0;
    while (
      preempted.length === 0 &&
      budget > 0 &&
      this.waiting.length > 0 &&
      running.length < this.limits.maxNumSeqs
    ) {
      const seq = this.waiting[0]!;
      if (seq.arrivalMs > startMs) break;
      // The cached prefix plus as much of the rest as the budget allows (chunked prefill).
      const res = this.kv.admitChunk(seq.seqId, seq.tokenIds, budget, seq.request.cacheSalt);
      if (!res) break; // head-of-line: FCFS waits for blocks
      this.waiting.shift();
      const take = Math.min(seq.tokenIds.length - res.cachedTokens, budget);
      seq.status = 'running';
      seq.numComputed = res.cachedTokens;
      seq.allocatedTokens = this.roundUpToBlock(res.cachedTokens + take);
      if (seq.preemptions === 0) seq.cachedTokens = res.cachedTokens;
      hostLoadTokens += res.hostTokens;
      running.push(seq);
      admitted.push(seq);
      seq.stepTokens = take;
      scheduled.push(seq);
      budget -= take;
    }

    if (scheduled.length === 0 && lazy.count === 0) return null;
    return { scheduled, work: describeWork(scheduled, lazy, hostLoadTokens), admitted, preempted };
  }

  private roundUpToBlock(tokens: number): number {
    const bs = this.kv.blockSize;
    return Math.ceil(tokens / bs) * bs;
  }

  /** Frees a running sequence's blocks and puts it back at the front of the waiting queue. */
  private preempt(seq: Sequence): void {
    this.running.pop();
    if (seq.cruising) this.lazy.leave(seq);
    this.kv.free(seq.seqId);
    seq.numComputed = 0;
    seq.allocatedTokens = 0;
    seq.stepTokens = 0;
    seq.status = 'waiting';
    seq.preemptions++;
    this.waiting.unshift(seq);
  }

  /**
   * Takes a sequence out (finished, aborted): frees its blocks at once, and brings a cruising
   * sequence's counters up to date. A running sequence stays in the array, marked finished, until
   * the next step is planned, so finishing many is O(n) per step.
   */
  remove(seq: Sequence): void {
    if (seq.status === 'waiting') {
      const i = this.waiting.indexOf(seq);
      if (i >= 0) this.waiting.splice(i, 1);
    } else if (seq.status === 'running') {
      if (seq.cruising) this.lazy.leave(seq);
      this.kv.free(seq.seqId);
      this.finishedInRunning++;
    }
    seq.status = 'finished';
  }

  /** Sequences running now (finished ones may still await compaction in `running`). */
  get numRunning(): number {
    return this.running.length - this.finishedInRunning;
  }

  /** Drops finished sequences from `running`, in place, keeping the order. */
  private compactRunning(): void {
    if (this.finishedInRunning === 0) return;
    const running = this.running;
    let kept = 0;
    for (const seq of running) if (seq.status === 'running') running[kept++] = seq;
    running.length = kept;
    this.finishedInRunning = 0;
  }
}

function describeWork(scheduled: readonly Sequence[], lazy: LazyDecoders, hostLoadTokens: number): StepWork {
  // Every cruising sequence decodes one token over its computed context.
  let decodeSeqs = lazy.count;
  let decodeContextTokens = lazy.contextTokens;
  const prefillChunks: PrefillChunk[] = [];
  for (const seq of scheduled) {
    const numNewTokens = seq.stepTokens;
    if (numNewTokens === 1 && seq.numGenerated > 0 && seq.numUncomputed === 1) {
      decodeSeqs++;
      decodeContextTokens += seq.numComputed;
    } else {
      prefillChunks.push({ tokens: numNewTokens, contextTokens: seq.numComputed });
    }
  }
  return { decodeSeqs, decodeContextTokens, prefillChunks, hostLoadTokens };
}
