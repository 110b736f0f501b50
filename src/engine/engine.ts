/**
 * The engine: a discrete-event continuous-batching simulator. One step at a time on the injected
 * clock: the scheduler plans the step, the performance model says how long it takes, one timer
 * fires at its end and every sequence in it gets its token. Steps follow the ideal timeline (the
 * next starts where the previous one should have ended), so event-loop jitter never accumulates;
 * how late the real clock fires is measured as lag.
 */
import type { Cancel } from './clock.js';
import type { Engine, EngineOptions, FinishedRequest } from './engine-types.js';
import { EngineError, queueFullError } from './errors.js';
import { FrontendIntake } from './frontend-intake.js';
import { KvEventGathering } from './kv-event-gathering.js';
import { createKvCacheManager } from './kv-cache/kv-cache-manager.js';
import { Scheduler, type StepPlan } from './scheduler.js';
import { Sequence } from './sequence.js';
import type { EngineStats, FinishReason } from './types.js';

export type {
  Engine,
  EngineObserver,
  EngineOptions,
  EngineSettings,
  FinishedRequest,
  KvTransferLink,
  StepRecord,
  SubmitOptions,
} from './engine-types.js';

/**
 * Lag (simulated ms) beyond which the step timeline is re-anchored at the real clock's now: any
 * smaller debt is made up, the late steps following each other without waiting until the
 * timeline is met again. A loaded event loop leaves debts of tens to a few hundred ms (a burst of
 * hundreds of requests arriving, a garbage collection); re-anchored, each was lost for good and
 * lengthened every running stream's inter-token latency by its share (a single 58 ms re-anchor is
 * +4 % on a 200-token stream at 7.6 ms steps). Only a host that stays behind, whose debt would
 * grow without end, is re-anchored. Step-lag warnings and the lag alert still start at 50 ms.
 */
const MAX_CATCH_UP_MS = 250;

export function createEngine(opts: EngineOptions): Engine {
  const { clock, perf, observer } = opts;
  const kv = opts.kv ?? createKvCacheManager(opts.kvCache);
  /** Whether the cache has a tier below the GPU: usage then says which tier served the cached tokens. */
  const { host, disk } = kv.stats();
  const tiered = host.total + disk.total > 0;
  const scheduler = new Scheduler(kv, opts);
  /**
   * NIM's front end taking requests in before they reach the waiting queue (frontend-intake.ts);
   * null without a front end or without an intake cost.
   */
  const intake =
    perf.frontend && perf.frontend.intakeMs > 0
      ? new FrontendIntake(perf.frontend.intakeMs, perf.frontend.msPerSeq)
      : null;
  /** Requests whose intake completes with the step (or idle span) in flight: queued when it ends. */
  let takenIn: Sequence[] = [];
  /**
   * Requests waiting: in the scheduler's queue, in the front end's intake, or taken in by the step
   * in flight and queued when it ends (else a request would escape the waiting bound for a step).
   */
  const numWaiting = () => scheduler.numWaiting + (intake?.size ?? 0) + takenIn.length;
  const tokensObserved = () =>
    observer?.observesTokens ? observer.observesTokens() : observer?.onToken !== undefined;
  const kvEvents = new KvEventGathering(kv, observer);
  let nextSeqId = 1;
  let stepTimer: Cancel | undefined;
  let stepping = false;
  let lastEndMs = 0;
  let lastLagMs = 0;
  let steps = 0;
  let draining = false;
  /** When the KV-transfer link is free of the transfers already started (disaggregated decode). */
  let linkFreeAtMs = 0;
  const drainWaiters: (() => void)[] = [];

  const finish = (seq: Sequence, reason: FinishReason, atMs: number) => {
    if (seq.status === 'finished') return;
    // Still in the front end's intake (or taken in, not yet queued): the scheduler never had it.
    const takenInAt = takenIn.indexOf(seq);
    if (takenInAt >= 0) takenIn.splice(takenInAt, 1);
    if (intake?.remove(seq) || takenInAt >= 0) seq.status = 'finished';
    else scheduler.remove(seq);
    reportFinished(seq, reason, atMs);
  };

  /** Queues the requests the front end finished taking in (those not aborted meanwhile). */
  const queueTakenIn = () => {
    if (takenIn.length === 0) return;
    for (const seq of takenIn) scheduler.enqueue(seq);
    takenIn = [];
  };

  /** Tells the listener and the observers that `seq`, taken out of the scheduler, finished. */
  const reportFinished = (seq: Sequence, reason: FinishReason, atMs: number) => {
    // One object is both the listener's event and the observers' record (no copy per request).
    const done: FinishedRequest & { readonly type: 'finished' } = {
      type: 'finished',
      request: seq.request,
      reason,
      usage: {
        promptTokens: seq.numPromptTokens,
        completionTokens: seq.numGenerated,
        cachedTokens: seq.cachedTokens,
        ...(tiered ? { cachedTokensByTier: { host: seq.hostCachedTokens, disk: seq.diskCachedTokens } } : {}),
      },
      timings: {
        arrivalMs: seq.arrivalMs,
        scheduledMs: seq.scheduledMs ?? atMs,
        firstTokenMs: seq.firstTokenMs ?? atMs,
        finishedMs: atMs,
      },
      preemptions: seq.preemptions,
    };
    seq.listener(done);
    observer?.onFinished?.(done);
  };

  const wake = () => {
    if (stepping) return;
    stepping = true;
    // Start on a later turn so requests submitted together share the first step; a late timer
    // (a busy event loop) starts it when it was due, on the timeline, as steps are.
    const dueMs = Math.max(clock.now(), lastEndMs);
    stepTimer = clock.schedule(dueMs, () => runStep(timelineAfter(dueMs, dueMs)));
  };

  const runStep = (startMs: number) => {
    kvEvents.watch(startMs);
    let plan = scheduler.schedule(startMs);
    // A step that only preempted admits nothing; with nothing left running, plan once more.
    if (!plan && scheduler.numWaiting > 0 && scheduler.numRunning === 0) plan = scheduler.schedule(startMs);
    // The cache's keys change only while a step is planned (cacheBlocks, evictions) or on a reset.
    kvEvents.flush(startMs);
    const transfers = scheduler.takeNewTransfers();
    if (transfers.length > 0) startTransfers(transfers, startMs);
    if (!plan && intake && intake.size > 0) {
      // Nothing for the GPU, requests in intake: the front end's CPU is theirs until one is in.
      // Like a step, the span follows the ideal timeline: a late timer's delay is made up.
      const endMs = startMs + intake.shareIdle(takenIn, startMs);
      stepTimer = clock.schedule(endMs, () => {
        lastEndMs = endMs;
        queueTakenIn();
        runStep(timelineAfter(startMs, endMs));
      });
      return;
    }
    if (!plan) {
      stepping = false;
      stepTimer = undefined;
      const head = scheduler.nextWaiting();
      if (head && head.arrivalMs > startMs) {
        // The head arrived after this (lagging) step's start: it joins the first step after its arrival.
        wake();
      } else if (head && scheduler.numRunning === 0) {
        // Nothing runs and the head still cannot be admitted: it can never fit in the cache.
        failUnfittable(head, startMs);
        wake();
      }
      notifyDrained();
      return;
    }
    for (const seq of plan.admitted) {
      if (seq.scheduledMs === undefined) {
        seq.scheduledMs = startMs;
        seq.listener({ type: 'scheduled', atMs: startMs, cachedTokens: seq.cachedTokens });
      }
    }
    let durationMs = perf.stepMs(plan.work) * opts.jitter();
    if (intake && intake.size > 0) {
      const streams = plan.work.decodeSeqs + plan.work.prefillChunks.length;
      durationMs = intake.shareStep(durationMs, streams, takenIn, startMs);
    }
    stepInFlight = plan;
    stepStartMs = startMs;
    stepEndMs = startMs + durationMs;
    stepTimer = clock.schedule(stepEndMs, endStepInFlight);
  };

  /**
   * The step in flight, planned and timed: one per engine at a time, so one callback made once
   * ends every step (a closure per step was a large share of a fleet's short-lived objects).
   */
  let stepInFlight: StepPlan | null = null;
  let stepStartMs = 0;
  let stepEndMs = 0;
  const endStepInFlight = () => {
    const plan = stepInFlight!;
    stepInFlight = null;
    completeStep(plan, stepStartMs, stepEndMs);
  };

  /**
   * An eagerly updated sequence's share of a step: its prefill chunk, or its decode token. (The
   * blocks they fill were keyed when the step was planned, as vLLM does.)
   */
  const completeEager = (seq: Sequence, endMs: number) => {
    seq.numComputed += seq.stepTokens;
    if (seq.numUncomputed > 0) return; // more prefill chunks to go
    if (seq.planDone) {
      finish(seq, seq.finishReason(), endMs);
      return;
    }
    const id = seq.sampleNext();
    const first = seq.firstTokenMs === undefined;
    observer?.onToken?.(seq.request, endMs - (first ? seq.arrivalMs : seq.lastTokenMs), first);
    seq.firstTokenMs ??= endMs;
    seq.lastTokenMs = endMs;
    if (seq.tokenEvents) seq.listener({ type: 'tokens', ids: [id], atMs: endMs });
    if (seq.planDone) finish(seq, seq.finishReason(), endMs);
    else if (!seq.tokenEvents && !tokensObserved()) scheduler.startCruising(seq);
  };

  /**
   * One sequence's share of the step that ended at `lastEndMs`; a cruising sequence is visited
   * when its plan ends, its tokens already counted. Made once, not a closure per step: with a new
   * closure each step V8 kept recompiling the completion path (3 % more instructions in a cold
   * `simulate`, nearly all of it optimizing compiler work).
   */
  const completeOne = (seq: Sequence) => {
    if (seq.cruising) finish(seq, seq.finishReason(), lastEndMs);
    else completeEager(seq, lastEndMs);
  };

  const completeStep = (plan: StepPlan, startMs: number, endMs: number) => {
    steps++;
    lastEndMs = endMs;
    queueTakenIn();
    lastLagMs = Math.max(0, clock.now() - endMs);
    scheduler.completeStep(plan, endMs, completeOne);
    observer?.onStep?.({
      startMs,
      durationMs: endMs - startMs,
      work: plan.work,
      lagMs: lastLagMs,
      preemptions: plan.preempted.length,
      kvUsage: kv.usage(),
    });
    runStep(timelineAfter(startMs, endMs));
  };

  /**
   * Where the span after one that ran from `startMs` to `endMs` starts: at `endMs`, following the
   * ideal timeline so timer lateness does not accumulate; but when the real clock runs far behind
   * (the host cannot keep up), at now rather than carry an ever-growing debt.
   */
  const timelineAfter = (startMs: number, endMs: number) => {
    const nowMs = clock.now();
    return nowMs - endMs > Math.max(MAX_CATCH_UP_MS, 2 * (endMs - startMs)) ? nowMs : endMs;
  };

  /**
   * Times the remote KV transfers admitted at `startMs`: one after another over the link, each
   * `blocks × msPerBlock` plus the link's latency. When one lands its sequence joins the running
   * set and the engine wakes.
   */
  const startTransfers = (started: readonly Sequence[], startMs: number) => {
    const link = opts.kvTransfer;
    for (const seq of started) {
      const begin = Math.max(startMs, linkFreeAtMs);
      const busyMs = link ? seq.transferBlocks * link.msPerBlock : 0;
      linkFreeAtMs = begin + busyMs;
      const doneMs = begin + busyMs + (link ? link.latencyMs : 0);
      seq.scheduledMs = startMs;
      seq.listener({
        type: 'scheduled',
        atMs: startMs,
        cachedTokens: seq.cachedTokens,
        kvTransfer: { blocks: seq.transferBlocks, doneMs },
      });
      clock.schedule(doneMs, () => {
        if (seq.status !== 'transferring') return; // aborted meanwhile
        scheduler.finishTransfer(seq);
        wake();
      });
    }
  };

  const failUnfittable = (seq: Sequence, atMs: number) => {
    const err = new EngineError(
      'kv_capacity',
      `The request needs ${seq.numTokens} tokens of KV cache, more than the whole cache holds (${kv.gpuBlocksTotal * kv.blockSize} tokens).`,
    );
    seq.listener({ type: 'failed', error: err });
    finish(seq, 'abort', atMs);
  };

  const notifyDrained = () => {
    if (!draining || numWaiting() > 0 || scheduler.numRunning > 0 || takenIn.length > 0) return;
    for (const w of drainWaiters.splice(0)) w();
  };

  return {
    submit(req, listener, signal, options) {
      if (draining) throw new EngineError('draining', 'The server is shutting down.');
      if (numWaiting() >= opts.maxWaiting && options?.pastWaitingBound !== true) {
        throw queueFullError(opts.maxWaiting);
      }
      const abort = () => {
        finish(seq, 'abort', clock.now());
        notifyDrained();
      };
      let seqListener = listener;
      if (signal) {
        signal.addEventListener('abort', abort, { once: true });
        seqListener = (ev) => {
          if (ev.type === 'finished') signal.removeEventListener('abort', abort);
          listener(ev);
        };
      }
      const seq = new Sequence(nextSeqId++, req, clock.now(), seqListener, options?.tokenEvents ?? true);
      seq.blockKeys = options?.blockKeys ?? req.promptBlockKeys;
      if (intake && options?.pastWaitingBound !== true) intake.add(seq);
      else scheduler.enqueue(seq);
      wake();
      if (signal?.aborted) abort();
      return abort;
    },
    waitingRoom() {
      return Math.max(0, opts.maxWaiting - numWaiting());
    },
    stats() {
      const s = kv.stats();
      const loraAdapters = scheduler.loraStats();
      const stats: EngineStats = {
        running: scheduler.numRunning,
        waiting: numWaiting(),
        maxNumSeqs: opts.maxNumSeqs,
        kvBlocksTotal: s.gpu.total,
        kvBlocksInUse: s.gpu.inUse,
        kvUsage: kv.usage(),
        stepLagMs: lastLagMs,
        steps,
        kvCache: {
          blockSize: kv.blockSize,
          gpu: s.gpu,
          host: s.host,
          disk: s.disk,
          queryTokens: s.queryTokens,
          hitTokens: s.hitTokens,
          hostHitTokens: s.hostHitTokens,
          diskHitTokens: s.diskHitTokens,
          preemptedQueryTokens: s.preemptedQueryTokens,
          preemptedHitTokens: s.preemptedHitTokens,
          evictions: s.evictions,
          hostEvictions: s.hostEvictions,
          diskEvictions: s.diskEvictions,
        },
      };
      return loraAdapters ? { ...stats, loraAdapters } : stats;
    },
    resetPrefixCache() {
      kvEvents.watch(clock.now());
      kv.reset();
      kvEvents.flush(clock.now());
    },
    topPrefixes(n) {
      return kv.topPrefixes(n);
    },
    cachedBlockKeys() {
      return kv.cachedBlockKeys();
    },
    drain(timeoutMs) {
      draining = true;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          // Cut off by the drain timeout: say so in-band (the HTTP edge turns it into an error frame).
          const err = new EngineError('draining', 'The server shut down before the request finished.');
          const inIntake = [...(intake?.takeAll() ?? []), ...takenIn];
          takenIn = [];
          for (const seq of inIntake) seq.status = 'finished';
          for (const seq of [...inIntake, ...scheduler.abortAll()]) {
            seq.listener({ type: 'failed', error: err });
            reportFinished(seq, 'abort', clock.now());
          }
          stepTimer?.();
          stepping = false;
          resolve();
        }, timeoutMs);
        drainWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
        notifyDrained();
      });
    },
  };
}
