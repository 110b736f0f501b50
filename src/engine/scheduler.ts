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
import { forEachInRunOrder, type Sequence } from './sequence.js';

export interface SchedulerLimits {
  readonly maxNumSeqs: number;
  /** Token budget of one step (vLLM max_num_batched_tokens). */
  readonly maxNumBatchedTokens: number;
}

export interface StepPlan {
  /**
   * Sequences in the step updated one by one, in running order (each one's share is its
   * `stepTokens`). Cruising sequences (lazy-decode.ts) are in the step too, one decode token each,
   * counted in `work`.
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
   * The running set in running order (ascending `runOrder`). Finished sequences stay in it, marked,
   * until enough of them pile up to compact (and are skipped meanwhile).
   */
  readonly running: Sequence[] = [];
  /** Finished sequences still in `running`. */
  private finishedInRunning = 0;
  /**
   * The running sequences updated eagerly (not cruising), in running order. Sequences that started
   * cruising, finished or were preempted are dropped from it when the next step is planned.
   */
  private eager: Sequence[] = [];
  private nextRunOrder = 0;

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
    const { lazy } = this;
    const budget = this.limits.maxNumBatchedTokens;
    const eager = this.liveEager();
    const planned = lazy.duePlanned();
    // Each sequence's share is kept on it (stepTokens): no object per sequence per step.
    const scheduled: Sequence[] = [];
    const preempted: Sequence[] = [];
    const admitted: Sequence[] = [];

    // 1. Running sequences, oldest first. When the budget covers all of them, only the eager ones
    // and the cruising ones whose token needs or fills a block are visited, in running order;
    // otherwise every one.
    let demand = lazy.count;
    for (const seq of eager) demand += seq.numUncomputed;
    let left =
      demand <= budget
        ? this.scheduleEvents(eager, planned, budget, scheduled, preempted)
        : this.scheduleInOrder(planned, budget, scheduled, preempted);

    // 2. Waiting sequences, FCFS; none after a preemption (vLLM: the cache is under pressure).
    let hostLoadTokens = 0;
    while (
      preempted.length === 0 &&
      left > 0 &&
      this.waiting.length > 0 &&
      this.numRunning < this.limits.maxNumSeqs
    ) {
      const seq = this.waiting[0]!;
      if (seq.arrivalMs > startMs) break;
      // The cached prefix plus as much of the rest as the budget allows (chunked prefill).
      const known = seq.knownTokenIds();
      const res = this.kv.admitChunk(seq.seqId, known, left, seq.request.cacheSalt, {
        preempted: seq.preemptions > 0,
        skipLookup: seq.request.skipPrefixCacheLookup === true,
      });
      if (!res) break; // head-of-line: FCFS waits for blocks
      this.waiting.shift();
      const take = Math.min(known.length - res.cachedTokens, left);
      seq.status = 'running';
      seq.runOrder = this.nextRunOrder++;
      seq.numComputed = res.cachedTokens;
      seq.allocatedTokens = this.roundUpToBlock(res.cachedTokens + take);
      if (seq.preemptions === 0) seq.cachedTokens = res.cachedTokens;
      this.cacheScheduled(seq, take);
      hostLoadTokens += res.hostTokens;
      this.running.push(seq);
      this.eager.push(seq);
      admitted.push(seq);
      seq.stepTokens = take;
      scheduled.push(seq);
      left -= take;
    }

    if (scheduled.length === 0 && lazy.count === 0) return null;
    return { scheduled, work: describeWork(scheduled, lazy, hostLoadTokens), admitted, preempted };
  }

  /**
   * Every running sequence gets its whole share: visits the eager ones and the cruising ones with
   * a planning event (`planned`), merged in running order; the other cruising ones just decode.
   * Returns the budget left.
   */
  private scheduleEvents(
    eager: readonly Sequence[],
    planned: readonly Sequence[],
    budget: number,
    scheduled: Sequence[],
    preempted: Sequence[],
  ): number {
    let used = 0;
    forEachInRunOrder(eager, planned, (seq) => {
      if (seq.status !== 'running') return true; // preempted earlier in this step
      const wasCruising = seq.cruising;
      const taken = this.scheduleOne(seq, budget, scheduled, preempted);
      if (taken < 0) return false; // it preempted itself: it was the newest, nothing follows
      if (!wasCruising) used += taken;
      return true;
    });
    return budget - used - this.lazy.count;
  }

  /**
   * The budget does not cover every running sequence: walks all of them in running order until it
   * runs out (vLLM's loop). Returns the budget left.
   */
  private scheduleInOrder(
    planned: readonly Sequence[],
    budget: number,
    scheduled: Sequence[],
    preempted: Sequence[],
  ): number {
    const { running, lazy } = this;
    let j = 0;
    let i = 0;
    for (; i < running.length && budget > 0; i++) {
      const seq = running[i]!;
      if (seq.status !== 'running') continue;
      while (j < planned.length && planned[j]!.runOrder < seq.runOrder) j++; // skip preempted ones
      if (seq.cruising && planned[j] !== seq) {
        budget--; // decodes one token inside its allocation
        continue;
      }
      if (seq.cruising) j++;
      const taken = this.scheduleOne(seq, budget, scheduled, preempted);
      if (taken < 0) break;
      budget -= taken;
    }
    // The budget ran out before the end of the running set: the rest sit this step out. Under this
    // order that is a prefill chunk (a decoding sequence is never behind one), but a cruising
    // sequence left out must stop cruising, since cruising ones advance with every step.
    for (; i < running.length; i++) {
      const seq = running[i]!;
      if (seq.status === 'running' && seq.cruising) lazy.leave(seq);
      seq.stepTokens = 0;
    }
    this.eager = running.filter((seq) => seq.status === 'running' && !seq.cruising);
    return budget;
  }

  /**
   * Gives one running sequence its share (`min(uncomputed, budget)` tokens), growing its blocks
   * and preempting the newest sequences while blocks are short, then keys the blocks its share
   * fills. Returns the tokens taken, or -1 when it had to preempt itself.
   */
  private scheduleOne(seq: Sequence, budget: number, scheduled: Sequence[], preempted: Sequence[]): number {
    if (seq.cruising) this.lazy.sync(seq);
    const numNew = Math.min(seq.numUncomputed, budget);
    const needed = seq.numComputed + numNew;
    // Most decode steps stay inside the last block: only ask the cache when a new block is needed.
    let ok = needed <= seq.allocatedTokens || this.kv.grow(seq.seqId, needed);
    while (!ok) {
      const victim = this.newestRunning();
      this.preempt(victim);
      preempted.push(victim);
      if (victim === seq) return -1;
      ok = this.kv.grow(seq.seqId, needed);
    }
    if (needed > seq.allocatedTokens) seq.allocatedTokens = this.roundUpToBlock(needed);
    this.cacheScheduled(seq, numNew);
    seq.stepTokens = numNew;
    if (seq.cruising) this.lazy.anchor(seq, true);
    else scheduled.push(seq);
    return numNew;
  }

  /**
   * Keys the blocks that the sequence's `numNew` tokens of this step fill. vLLM caches a block
   * when it schedules the tokens that fill it (`allocate_slots` → `cache_blocks`), not when the
   * step ends, so a request admitted later in the same step already finds it.
   */
  private cacheScheduled(seq: Sequence, numNew: number): void {
    const from = seq.numComputed;
    // Most steps stay inside a block: only ask the cache when one fills.
    if ((from % this.kv.blockSize) + numNew < this.kv.blockSize) return;
    const { promptTokenIds, outputTokenIds } = seq.request;
    this.kv.cacheBlocks(seq.seqId, promptTokenIds, from + numNew, outputTokenIds);
  }

  private roundUpToBlock(tokens: number): number {
    const bs = this.kv.blockSize;
    // Integer arithmetic (token counts stay far below 2^31): Math.ceil's result is a double, and
    // storing it made V8 widen integer fields of every sequence.
    return (((tokens + bs - 1) / bs) | 0) * bs;
  }

  /** The last running sequence (finished ones at the end of `running` are dropped on the way). */
  private newestRunning(): Sequence {
    const running = this.running;
    while (running[running.length - 1]!.status !== 'running') {
      running.pop();
      this.finishedInRunning--;
    }
    return running[running.length - 1]!;
  }

  /** Frees the newest running sequence's blocks and puts it back at the front of the waiting queue. */
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
   * sequence's counters up to date. A running sequence stays in `running`, marked finished, until
   * the next compaction.
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

  /** The eager list without the sequences that started cruising, finished or were preempted. */
  private liveEager(): Sequence[] {
    const eager = this.eager;
    let kept = 0;
    for (const seq of eager) if (seq.status === 'running' && !seq.cruising) eager[kept++] = seq;
    eager.length = kept;
    return eager;
  }

  /**
   * Drops finished sequences from `running`, in place, keeping the order — once they are an eighth
   * of it, so that the cost per finished sequence stays O(1) at any concurrency.
   */
  private compactRunning(): void {
    const running = this.running;
    if (this.finishedInRunning === 0 || this.finishedInRunning * 8 < running.length) return;
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
