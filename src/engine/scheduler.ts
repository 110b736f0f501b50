/**
 * vLLM v1's scheduling policy for one step, on our own data structures: running sequences first
 * (one decode token each, or the next chunk of an unfinished prefill), then waiting sequences in
 * FCFS order while the token budget, the running-set bound and the KV cache allow. A running
 * sequence that cannot get a block preempts the newest running sequence (recompute: its blocks
 * are freed and it goes back to the front of the waiting queue), as vLLM's FCFS policy does.
 *
 * TensorRT-LLM's default capacity policy, GUARANTEED_NO_EVICT (`SchedulerConfig` in
 * tensorrt_llm/llmapi/llm_args.py), admits differently: a request enters only when the blocks of its
 * whole length (prompt plus every output token) fit beside what the running requests will still
 * need, so nothing is ever preempted and the running batch is bounded by the KV capacity over
 * ISL + OSL rather than over the tokens held so far.
 */
import { cachePartition } from './kv-cache/block-hash.js';
import type { KvCacheManager } from './kv-cache/kv-cache-manager.js';
import { LoraSlots } from './lora-slots.js';
import type { PrefillChunk, StepWork } from './perf-model.js';
import { RunningSet, type RunningPolicy } from './running-set.js';
import type { Sequence } from './sequence.js';

/** `vllm`: admit on the prompt's blocks, preempt when short; `guaranteed-no-evict`: TensorRT-LLM's. */
export type CapacityPolicy = 'vllm' | 'guaranteed-no-evict';

export interface SchedulerLimits {
  readonly maxNumSeqs: number;
  /** Token budget of one step (vLLM max_num_batched_tokens). */
  readonly maxNumBatchedTokens: number;
  /** Admission policy; default `vllm`. */
  readonly capacityPolicy?: CapacityPolicy | undefined;
  /**
   * LoRA enabled: most distinct adapters one batch mixes (vLLM --max-loras, NIM_MAX_GPU_LORAS;
   * lora-slots.ts). Absent: no limit, and no adapter bookkeeping.
   */
  readonly maxLoras?: number | undefined;
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

export class Scheduler implements RunningPolicy {
  /** The waiting queue, FCFS: new requests at the back, preempted ones back at the front. */
  private readonly waiting: Sequence[] = [];
  private readonly running: RunningSet;
  /** The sequences preempted in the step being planned. */
  private preempted: Sequence[] = [];
  /** Admitted sequences waiting for remote KV blocks (disaggregated decode), not yet running. */
  private readonly transferring = new Set<Sequence>();
  /** Sequences that started a transfer in the step being planned (the engine times them). */
  private newTransfers: Sequence[] = [];
  /** guaranteed-no-evict: the blocks the running sequences hold at their full length. */
  private reservedBlocks = 0;
  private readonly reserveFullLength: boolean;
  /** The adapters of running and waiting sequences, when LoRA is enabled. */
  private readonly loras: LoraSlots | undefined;

  constructor(
    private readonly kv: KvCacheManager,
    private readonly limits: SchedulerLimits,
  ) {
    this.running = new RunningSet(kv.blockSize, this);
    this.reserveFullLength = limits.capacityPolicy === 'guaranteed-no-evict';
    this.loras = limits.maxLoras === undefined ? undefined : new LoraSlots(limits.maxLoras);
  }

  /** Blocks a sequence holds at its full length: prompt plus its whole planned output. */
  private fullBlocks(seq: Sequence): number {
    const bs = this.kv.blockSize;
    return ((seq.numPromptTokens + seq.request.outputTokenIds.length + bs - 1) / bs) | 0;
  }

  /** Queues a new sequence at the back of the waiting queue. */
  enqueue(seq: Sequence): void {
    this.waiting.push(seq);
    this.loras?.wait(seq.request.lora);
  }

  /** The adapters of running and waiting sequences (LoRA enabled), else undefined. */
  loraStats() {
    return this.loras?.stats();
  }

  /** Sequences waiting now. */
  get numWaiting(): number {
    return this.waiting.length;
  }

  /** Sequences running now, those waiting for their remote KV included (they hold blocks and a slot). */
  get numRunning(): number {
    return this.running.size + this.transferring.size;
  }

  /** The head of the waiting queue: the next to be admitted. */
  nextWaiting(): Sequence | undefined {
    return this.waiting[0];
  }

  /**
   * Plans the step starting at `startMs`; null when there is nothing to run. Only requests that
   * arrived by `startMs` are admitted: on a lagging real clock a step may start (in simulated time)
   * before a request that is already queued arrived.
   */
  schedule(startMs: number): StepPlan | null {
    const { running } = this;
    // Each sequence's share is kept on it (stepTokens): no object per sequence per step.
    const scheduled: Sequence[] = [];
    const preempted: Sequence[] = (this.preempted = []);
    const admitted: Sequence[] = [];

    // 1. Running sequences, oldest first, each its share of the token budget (see `share`).
    let left = running.planStep(this.limits.maxNumBatchedTokens, scheduled);

    // 2. Waiting sequences, FCFS; none after a preemption (vLLM: the cache is under pressure). A
    // request whose adapter would exceed max LoRAs is skipped and keeps its place (vLLM's
    // skipped_waiting_requests); `next` is the first one not skipped.
    const loads = { hostTokens: 0, diskTokens: 0, diskRequests: 0 };
    const loras = this.loras;
    let next = 0;
    while (
      preempted.length === 0 &&
      left > 0 &&
      next < this.waiting.length &&
      running.size + this.transferring.size < this.limits.maxNumSeqs
    ) {
      const seq = this.waiting[next]!;
      if (seq.arrivalMs > startMs) break;
      if (loras !== undefined && !loras.admits(seq.request.lora)) {
        next++;
        continue;
      }
      // GUARANTEED_NO_EVICT: the whole request must fit beside the running ones' full lengths.
      const full = this.reserveFullLength ? this.fullBlocks(seq) : 0;
      // (Alone, a request always enters: the context-length check has bounded it already.)
      if (
        this.reserveFullLength &&
        this.reservedBlocks > 0 &&
        this.reservedBlocks + full > this.kv.gpuBlocksTotal
      )
        break;
      // The cached prefix plus as much of the rest as the budget allows (chunked prefill).
      const known = seq.knownTokenIds();
      const { request } = seq;
      const res = this.kv.admitChunk(
        seq.seqId,
        known,
        left,
        cachePartition(request.cacheSalt, request.lora?.name),
        {
          preempted: seq.preemptions > 0,
          skipLookup: request.skipPrefixCacheLookup === true,
          blockKeys: seq.blockKeys,
          lora: request.lora,
        },
      );
      if (!res) break; // head-of-line: FCFS waits for blocks
      if (next === 0) this.waiting.shift();
      else this.waiting.splice(next, 1);
      loras?.run(request.lora);
      this.reservedBlocks += full;
      if (this.startTransfer(seq, res.cachedTokens)) {
        seq.hostCachedTokens = res.hostTokens;
        seq.diskCachedTokens = res.diskTokens;
        loads.hostTokens += res.hostTokens;
        if (res.diskTokens > 0) {
          loads.diskTokens += res.diskTokens;
          loads.diskRequests++;
        }
        continue;
      }
      const take = Math.min(known.length - res.cachedTokens, left);
      seq.status = 'running';
      running.add(seq);
      seq.numComputed = res.cachedTokens;
      seq.allocatedTokens = this.roundUpToBlock(res.cachedTokens + take);
      if (seq.preemptions === 0) {
        seq.cachedTokens = res.cachedTokens;
        seq.hostCachedTokens = res.hostTokens;
        seq.diskCachedTokens = res.diskTokens;
      }
      this.cacheScheduled(seq, take);
      // What the GPU loads from the tiers below it before this step computes (perf-model.ts).
      loads.hostTokens += res.hostTokens;
      if (res.diskTokens > 0) {
        loads.diskTokens += res.diskTokens;
        loads.diskRequests++;
      }
      admitted.push(seq);
      seq.stepTokens = take;
      scheduled.push(seq);
      left -= take;
    }

    if (scheduled.length === 0 && running.cruising === 0) return null;
    let newRequests = 0;
    for (const seq of admitted) if (seq.preemptions === 0) newRequests++;
    return {
      scheduled,
      work: describeWork(scheduled, running, loads, newRequests),
      admitted,
      preempted,
    };
  }

  /**
   * A disaggregated decode's first admission (EngineRequest.remotePrefillTokens): when its own cache
   * lacks some of the remote blocks, it allocates them and waits for them without running (vLLM
   * allocates the blocks, then the NixlConnector pulls only those beyond the local prefix hit and
   * the request waits in WAITING_FOR_REMOTE_KVS). Returns false for any other request.
   */
  private startTransfer(seq: Sequence, cachedTokens: number): boolean {
    const remote = seq.preemptions === 0 ? (seq.request.remotePrefillTokens ?? 0) : 0;
    if (remote <= cachedTokens) return false;
    // admitChunk found room for the whole prompt, so the remote blocks fit.
    if (!this.kv.grow(seq.seqId, remote)) throw new Error('scheduler: remote KV blocks did not fit');
    seq.status = 'transferring';
    seq.cachedTokens = cachedTokens;
    seq.numComputed = cachedTokens;
    seq.allocatedTokens = this.roundUpToBlock(remote);
    seq.stepTokens = 0;
    seq.transferBlocks = ((remote - cachedTokens) / this.kv.blockSize) | 0;
    this.transferring.add(seq);
    this.newTransfers.push(seq);
    return true;
  }

  /** The sequences that started a transfer since the last call (the engine times each). */
  takeNewTransfers(): Sequence[] {
    if (this.newTransfers.length === 0) return this.newTransfers;
    const started = this.newTransfers;
    this.newTransfers = [];
    return started;
  }

  /**
   * `seq`'s remote blocks have arrived: they are cached as computed (vLLM caches them when the
   * receive finishes) and it joins the running set to compute the rest of its prompt. The last
   * prompt token is always computed here, as vLLM recomputes it when the whole prompt arrived.
   */
  finishTransfer(seq: Sequence): void {
    if (seq.status !== 'transferring') return;
    this.transferring.delete(seq);
    const { promptTokenIds } = seq.request;
    const remote = seq.request.remotePrefillTokens!;
    this.kv.cacheBlocks(seq.seqId, promptTokenIds, remote);
    seq.numComputed = Math.min(remote, promptTokenIds.length - 1);
    seq.transferBlocks = 0;
    seq.status = 'running';
    this.running.add(seq);
  }

  /**
   * The policy for a running sequence, called by the running set as it plans a step: gives it its
   * share (`min(uncomputed, budget)` tokens), growing its blocks and preempting the newest
   * sequences while blocks are short, then keys the blocks its share fills. Returns the tokens
   * taken, or -1 when it had to preempt itself.
   */
  share(seq: Sequence, budget: number): number {
    const numNew = Math.min(seq.numUncomputed, budget);
    const needed = seq.numComputed + numNew;
    // Most decode steps stay inside the last block: only ask the cache when a new block is needed.
    let ok = needed <= seq.allocatedTokens || this.kv.grow(seq.seqId, needed);
    while (!ok) {
      const victim = this.preemptNewest();
      this.preempted.push(victim);
      if (victim === seq) return -1;
      ok = this.kv.grow(seq.seqId, needed);
    }
    if (needed > seq.allocatedTokens) seq.allocatedTokens = this.roundUpToBlock(needed);
    this.cacheScheduled(seq, numNew);
    seq.stepTokens = numNew;
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

  /**
   * Preempts the newest running sequence (recompute): frees its blocks and puts it back at the
   * front of the waiting queue. Returns it.
   */
  private preemptNewest(): Sequence {
    const seq = this.running.popNewest();
    this.kv.free(seq.seqId);
    this.loras?.stopRunning(seq.request.lora, true);
    if (this.reserveFullLength) this.reservedBlocks -= this.fullBlocks(seq);
    seq.numComputed = 0;
    seq.allocatedTokens = 0;
    seq.stepTokens = 0;
    seq.status = 'waiting';
    seq.preemptions++;
    this.waiting.unshift(seq);
    return seq;
  }

  /**
   * The step planned as `plan` ended at `endMs`. Visits, in running order, the sequences whose
   * share of it completes now (see RunningSet.completeStep).
   */
  completeStep(plan: StepPlan, endMs: number, visit: (seq: Sequence) => void): void {
    this.running.completeStep(plan.scheduled, endMs, visit);
  }

  /**
   * `seq` goes on decoding without anyone watching its tokens: it may decode lazily. A LoRA
   * sequence stays eager: each step's work counts its adapter's tokens (describeWork).
   */
  startCruising(seq: Sequence): void {
    if (seq.request.lora !== undefined) return;
    this.running.startCruising(seq);
  }

  /**
   * Takes a sequence out (finished, aborted): frees its blocks at once, and brings a cruising
   * sequence's counters up to date.
   */
  remove(seq: Sequence): void {
    if (seq.status === 'waiting') {
      const i = this.waiting.indexOf(seq);
      if (i >= 0) this.waiting.splice(i, 1);
      this.loras?.stopWaiting(seq.request.lora);
    } else if (seq.status === 'running') {
      this.running.remove(seq);
      this.kv.free(seq.seqId);
      if (this.reserveFullLength) this.reservedBlocks -= this.fullBlocks(seq);
      this.loras?.stopRunning(seq.request.lora);
    } else if (seq.status === 'transferring') {
      this.transferring.delete(seq);
      this.kv.free(seq.seqId);
      if (this.reserveFullLength) this.reservedBlocks -= this.fullBlocks(seq);
      this.loras?.stopRunning(seq.request.lora);
    }
    seq.status = 'finished';
  }

  /**
   * Takes every sequence out, as `remove` does (a shutdown): returns them, the waiting ones in
   * queue order, then the running ones in running order, for the caller to report.
   */
  abortAll(): Sequence[] {
    const all = [...this.waiting, ...this.transferring, ...this.running.toArray()];
    for (const seq of all) this.remove(seq);
    return all;
  }
}

function describeWork(
  scheduled: readonly Sequence[],
  running: RunningSet,
  loads: { readonly hostTokens: number; readonly diskTokens: number; readonly diskRequests: number },
  newRequests: number,
): StepWork {
  // Every cruising sequence decodes one token over its computed context.
  let decodeSeqs = running.cruising;
  let decodeContextTokens = running.cruisingContextTokens;
  const prefillChunks: PrefillChunk[] = [];
  // LoRA sequences never cruise (Scheduler.startCruising): every adapter token of the step is here.
  let loraTokenParams = 0;
  let adapters: Map<string, number> | undefined;
  for (const seq of scheduled) {
    const numNewTokens = seq.stepTokens;
    if (numNewTokens === 1 && seq.numGenerated > 0 && seq.numUncomputed === 1) {
      decodeSeqs++;
      decodeContextTokens += seq.numComputed;
    } else {
      prefillChunks.push({ tokens: numNewTokens, contextTokens: seq.numComputed });
    }
    const lora = seq.request.lora;
    if (lora !== undefined && numNewTokens > 0) {
      loraTokenParams += numNewTokens * lora.params;
      (adapters ??= new Map()).set(lora.name, lora.params);
    }
  }
  const work = {
    decodeSeqs,
    decodeContextTokens,
    prefillChunks,
    hostLoadTokens: loads.hostTokens,
    newRequests,
  };
  // Disk and LoRA fields only when there is such work: a step without is the work it always was.
  const withDisk =
    loads.diskTokens > 0
      ? { ...work, diskLoadTokens: loads.diskTokens, diskLoadRequests: loads.diskRequests }
      : work;
  if (adapters === undefined) return withDisk;
  let loraAdapterParams = 0;
  for (const params of adapters.values()) loraAdapterParams += params;
  return { ...withDisk, loraTokenParams, loraAdapterParams };
}
