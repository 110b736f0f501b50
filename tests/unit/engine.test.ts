import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/engine/clock.js';
import type { Engine, FinishedRequest } from '../../src/engine/engine.js';
import { EngineError } from '../../src/engine/errors.js';
import type { PerfModel, StepWork } from '../../src/engine/perf-model.js';
import type { EngineEvent, EngineRequest } from '../../src/engine/types.js';
import { engineUnderTest, testKvCache } from '../helpers/engine-under-test.js';

/** 10 ms per step + 0.01 ms per prefill token: simple enough to predict timings by hand. */
const linearModel: PerfModel = {
  stepMs: (w: StepWork) => 10 + 0.01 * w.prefillChunks.reduce((a, c) => a + c.tokens, 0),
};

function setup(
  opts: { blocks?: number; maxNumSeqs?: number; maxWaiting?: number; budget?: number; perf?: PerfModel } = {},
) {
  const kv = testKvCache({ gpuBlocks: opts.blocks ?? 10_000 });
  const steps: StepWork[] = [];
  const { clock, engine } = engineUnderTest({
    perf: opts.perf ?? linearModel,
    kv,
    maxNumSeqs: opts.maxNumSeqs,
    maxNumBatchedTokens: opts.budget,
    maxWaiting: opts.maxWaiting,
    observer: { onStep: (s) => steps.push(s.work) },
  });
  return { clock, kv, engine, steps };
}

let nextId = 0;
function request(prompt: number[], outputLen: number): EngineRequest {
  return {
    id: `r${nextId++}`,
    promptTokenIds: prompt,
    outputTokenIds: Array.from({ length: outputLen }, (_, i) => 1000 + i),
    finishReason: 'length',
    modelName: 'm',
  };
}

const range = (n: number, start = 0) => Array.from({ length: n }, (_, i) => start + i);

function collect(engine: Engine, req: EngineRequest, signal?: AbortSignal) {
  const events: EngineEvent[] = [];
  let done: FinishedRequest | undefined;
  engine.submit(
    req,
    (ev) => {
      events.push(ev);
      if (ev.type === 'finished') done = ev;
    },
    signal,
  );
  return {
    events,
    get done() {
      return done;
    },
  };
}

describe('engine on a lagging clock', () => {
  /** Every timer fires `lagMs` after its due time, as a busy event loop would. */
  function laggingSetup(lagMs: number) {
    const inner = createVirtualClock();
    const clock = {
      now: () => inner.now(),
      schedule: (at: number, fn: () => void) => inner.schedule(at + lagMs, fn),
    };
    const { engine } = engineUnderTest({
      clock,
      perf: linearModel,
      kvCache: { gpuBlocks: 10_000 },
      maxNumSeqs: 64,
    });
    return { inner, engine };
  }

  for (const lagMs of [3, 200]) {
    it(`never reports a first token before the request arrived (timers ${lagMs} ms late)`, () => {
      const { inner, engine } = laggingSetup(lagMs);
      const runs: ReturnType<typeof collect>[] = [];
      // Requests keep arriving while the engine runs behind the ideal timeline.
      for (let i = 0; i < 40; i++)
        inner.schedule(i * 7, () => runs.push(collect(engine, request(range(30, i * 50), 12))));
      inner.runUntilIdle();
      expect(runs).toHaveLength(40);
      for (const r of runs) {
        expect(r.done?.reason).toBe('length');
        expect(r.done!.timings.scheduledMs).toBeGreaterThanOrEqual(r.done!.timings.arrivalMs);
        expect(r.done!.timings.firstTokenMs).toBeGreaterThan(r.done!.timings.arrivalMs);
      }
    });
  }
});

describe('engine after a stall of the event loop', () => {
  /** The first timer due at or after `atMs` fires `stallMs` late; every other on time. */
  function stalledOnce(atMs: number, stallMs: number) {
    const inner = createVirtualClock();
    let stalled = false;
    const clock = {
      now: () => inner.now(),
      schedule: (at: number, fn: () => void) => {
        if (stalled || at < atMs) return inner.schedule(at, fn);
        stalled = true;
        return inner.schedule(at + stallMs, fn);
      },
    };
    const { engine } = engineUnderTest({ clock, perf: linearModel, maxNumSeqs: 8, maxWaiting: 16 });
    return { inner, engine };
  }

  it('makes up a debt of 120 ms: the steps after it catch up with the ideal timeline', () => {
    const { inner, engine } = stalledOnce(100, 120);
    const r = collect(engine, request(range(32), 50));
    inner.runUntilIdle();
    const times = r.events.filter((e) => e.type === 'tokens').map((e) => (e.type === 'tokens' ? e.atMs : 0));
    // Unstalled: prefill 10.32 ms, then a token every 10 ms. The stalled step's token is late by
    // the stall, the steps after it start without waiting, and the timeline is met again.
    expect(times[0]).toBeCloseTo(10.32, 9);
    expect(r.done!.timings.finishedMs).toBeCloseTo(10.32 + 49 * 10, 9);
    expect(inner.now()).toBeCloseTo(10.32 + 49 * 10, 9);
  });

  it('re-anchors after a stall longer than its catch-up bound: that time is lost', () => {
    const { inner, engine } = stalledOnce(100, 400);
    const r = collect(engine, request(range(32), 50));
    inner.runUntilIdle();
    expect(r.done!.timings.finishedMs).toBeGreaterThan(10.32 + 49 * 10 + 300);
  });
});

describe('engine on the virtual clock', () => {
  it('emits the planned tokens one per step and finishes with the plan reason', () => {
    const { clock, engine } = setup();
    const r = collect(engine, request(range(32), 5));
    clock.runUntilIdle();
    const tokens = r.events
      .filter((e) => e.type === 'tokens')
      .flatMap((e) => (e.type === 'tokens' ? e.ids : []));
    expect(tokens).toEqual([1000, 1001, 1002, 1003, 1004]);
    expect(r.done?.reason).toBe('length');
    expect(r.done?.usage).toEqual({ promptTokens: 32, completionTokens: 5, cachedTokens: 0 });
  });

  it('times the first token after the prefill step and each next token one step later', () => {
    const { clock, engine } = setup();
    const r = collect(engine, request(range(100), 3));
    clock.runUntilIdle();
    const times = r.events.filter((e) => e.type === 'tokens').map((e) => (e.type === 'tokens' ? e.atMs : 0));
    // Prefill step: 10 + 100 × 0.01 = 11 ms; decode steps 10 ms each.
    expect(times).toEqual([11, 21, 31]);
    expect(r.done?.timings).toEqual({ arrivalMs: 0, scheduledMs: 0, firstTokenMs: 11, finishedMs: 31 });
  });

  it('finishes every admitted request and returns every block', () => {
    const { clock, kv, engine } = setup({ maxNumSeqs: 8 });
    const runs = range(50).map((i) => collect(engine, request(range(40 + i, i * 1000), 1 + (i % 7))));
    clock.runUntilIdle();
    expect(runs.every((r) => r.done?.reason === 'length')).toBe(true);
    expect(kv.stats().gpu.inUse).toBe(0);
    expect(engine.stats().running).toBe(0);
    expect(engine.stats().waiting).toBe(0);
  });

  it('never runs more than maxNumSeqs sequences in one step', () => {
    const { clock, engine, steps } = setup({ maxNumSeqs: 4 });
    range(20).forEach((i) => collect(engine, request(range(20, i * 100), 10)));
    clock.runUntilIdle();
    const maxBatch = Math.max(...steps.map((s) => s.decodeSeqs + s.prefillChunks.length));
    expect(maxBatch).toBe(4);
  });

  it('splits a long prompt into chunks of the token budget', () => {
    const { clock, engine, steps } = setup({ budget: 512 });
    collect(engine, request(range(1200), 2));
    clock.runUntilIdle();
    expect(steps.slice(0, 3).map((s) => s.prefillChunks.map((c) => [c.tokens, c.contextTokens]))).toEqual([
      [[512, 0]],
      [[512, 512]],
      [[176, 1024]],
    ]);
  });

  it('cuts time to first token when the prompt prefix is cached', () => {
    const { clock, engine } = setup();
    const prompt = range(2000);
    const first = collect(engine, request(prompt, 4));
    clock.runUntilIdle();
    const t0 = clock.now();
    const second = collect(engine, request(prompt, 4));
    clock.runUntilIdle();
    const ttft1 = first.done!.timings.firstTokenMs - first.done!.timings.arrivalMs;
    const ttft2 = second.done!.timings.firstTokenMs - second.done!.timings.arrivalMs;
    expect(t0).toBeGreaterThan(0);
    // 1,984 of 2,000 tokens hit (the last block is recomputed): prefill 16 tokens instead of 2,000.
    expect(second.done!.usage.cachedTokens).toBe(1984);
    expect(ttft1).toBeCloseTo(10 + 20, 6);
    expect(ttft2).toBeCloseTo(10 + 0.16, 6);
  });

  it('lets a request admitted in the same step hit the blocks another one computes in it (vLLM)', () => {
    // vLLM keys a block when it schedules the tokens that fill it, so the second of two identical
    // prompts arriving together finds the first one's blocks in the same step.
    const { clock, engine, steps } = setup();
    const prompt = range(2000);
    const first = collect(engine, request(prompt, 4));
    const second = collect(engine, request(prompt, 4));
    clock.runUntilIdle();
    expect(first.done!.usage.cachedTokens).toBe(0);
    expect(second.done!.usage.cachedTokens).toBe(1984);
    // One prefill step for both: 2,000 tokens, then the 16 the second one recomputes over 1,984 cached.
    expect(steps[0]!.prefillChunks).toEqual([
      { tokens: 2000, contextTokens: 0 },
      { tokens: 16, contextTokens: 1984 },
    ]);
    expect(second.done!.timings.firstTokenMs).toBe(first.done!.timings.firstTokenMs);
  });

  it('reuses the previous answer on the next turn of a conversation', () => {
    const { clock, engine } = setup();
    const turn1 = request(range(100), 40);
    const r1 = collect(engine, turn1);
    clock.runUntilIdle();
    const turn2Prompt = [...turn1.promptTokenIds, ...turn1.outputTokenIds, ...range(30, 5000)];
    const r2 = collect(engine, request(turn2Prompt, 4));
    clock.runUntilIdle();
    expect(r1.done?.usage.cachedTokens).toBe(0);
    // Prompt and answer minus the last generated token (never computed) are cached: 139 → 8 full blocks.
    expect(r2.done?.usage.cachedTokens).toBe(128);
  });

  it('preempts and recomputes when decoding runs out of blocks, and still finishes everything', () => {
    // 12 blocks of 16 tokens; 4 sequences that each grow to 64 tokens need 16 blocks at once.
    const { clock, kv, engine, steps } = setup({ blocks: 12 });
    const preempted: number[] = [];
    const runs = range(4).map((i) => collect(engine, request(range(16, i * 100), 48)));
    clock.runUntilIdle();
    for (const r of runs) preempted.push(r.done!.preemptions);
    expect(runs.every((r) => r.done?.reason === 'length' && r.done.usage.completionTokens === 48)).toBe(true);
    expect(preempted.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(kv.stats().gpu.inUse).toBe(0);
    expect(steps.length).toBeGreaterThan(48);
    // The prompts share nothing: a re-admitted sequence finding its own blocks is no prefix hit,
    // and its lookups are counted apart (vLLM's preempted_queries / preempted_hits).
    const stats = kv.stats();
    expect(stats).toMatchObject({ queryTokens: 4 * 16, hitTokens: 0 });
    expect(stats.preemptedQueryTokens).toBeGreaterThan(0);
  });

  it('frees the slot and blocks at once when a request is aborted', () => {
    const { clock, kv, engine } = setup();
    const ac = new AbortController();
    const r = collect(engine, request(range(64), 100), ac.signal);
    clock.advanceTo(50);
    expect(kv.stats().gpu.inUse).toBeGreaterThan(0);
    ac.abort();
    expect(r.done?.reason).toBe('abort');
    expect(kv.stats().gpu.inUse).toBe(0);
    expect(engine.stats().running).toBe(0);
    clock.runUntilIdle();
    expect(r.events.filter((e) => e.type === 'finished')).toHaveLength(1);
  });

  it('refuses a request with queue_full when the waiting queue is at its bound', () => {
    const { engine } = setup({ maxWaiting: 2 });
    collect(engine, request(range(10), 1));
    collect(engine, request(range(10), 1));
    expect(() => collect(engine, request(range(10), 1))).toThrow(EngineError);
    try {
      collect(engine, request(range(10), 1));
    } catch (err) {
      expect((err as EngineError).kind).toBe('queue_full');
      expect((err as EngineError).retryAfterS).toBe(1);
    }
  });

  it('makes a request wait while every block is pinned, then runs it', () => {
    // 8 blocks: one 100-token request pins 7; the second needs 7 too and must wait.
    const { clock, engine } = setup({ blocks: 8 });
    const a = collect(engine, request(range(100), 10));
    const b = collect(engine, request(range(100, 500), 10));
    clock.advanceTo(15);
    expect(engine.stats().waiting).toBe(1);
    clock.runUntilIdle();
    expect(a.done?.reason).toBe('length');
    expect(b.done?.reason).toBe('length');
    expect(b.done!.timings.scheduledMs).toBeGreaterThanOrEqual(a.done!.timings.finishedMs);
  });

  it('fails a request that can never fit in the whole cache instead of stalling', () => {
    const { clock, engine } = setup({ blocks: 4 });
    const r = collect(engine, request(range(100), 1));
    clock.runUntilIdle();
    expect(r.events.some((e) => e.type === 'failed')).toBe(true);
    expect(r.done?.reason).toBe('abort');
  });

  it('drains: resolves once running requests finish', async () => {
    const { clock, engine } = setup();
    const r = collect(engine, request(range(10), 3));
    const drained = engine.drain(10_000);
    expect(() => collect(engine, request(range(10), 1))).toThrow(/shutting down/);
    clock.runUntilIdle();
    await drained;
    expect(r.done?.reason).toBe('length');
  });

  it('drains: at the timeout ends the running and the waiting requests with failed, then finished', async () => {
    const { clock, engine } = setup({ maxNumSeqs: 1 });
    // Without token events the running request decodes lazily: its counts must still be exact.
    const runs = [request(range(10), 100), request(range(10, 500), 100)].map((req) => {
      const events: EngineEvent[] = [];
      engine.submit(req, (ev) => events.push(ev), undefined, { tokenEvents: false });
      return events;
    });
    // Steps end at 10.1 ms (prefill and first token), then every 10 ms: 4 tokens by 50 ms.
    clock.advanceTo(50);
    expect([engine.stats().running, engine.stats().waiting]).toEqual([1, 1]);
    await engine.drain(1);
    for (const events of runs) {
      expect(events.map((e) => e.type).slice(-2)).toEqual(['failed', 'finished']);
      const failed = events.at(-2) as Extract<EngineEvent, { type: 'failed' }>;
      expect((failed.error as EngineError).kind).toBe('draining');
    }
    const [running, waiting] = runs.map((events) => events.at(-1) as FinishedRequest);
    expect(running!.reason).toBe('abort');
    expect(running!.usage).toEqual({ promptTokens: 10, completionTokens: 4, cachedTokens: 0 });
    expect(running!.timings.finishedMs).toBe(50);
    expect(waiting!.reason).toBe('abort');
    expect(waiting!.usage.completionTokens).toBe(0);
    expect(runs[1]!.map((e) => e.type)).toEqual(['failed', 'finished']);
    const s = engine.stats();
    expect([s.running, s.waiting, s.kvBlocksInUse]).toEqual([0, 0, 0]);
  });

  it('gives more total throughput at higher concurrency until the batch is bound', () => {
    const tput = (concurrency: number) => {
      const { clock, engine } = setup({ maxNumSeqs: 16 });
      range(concurrency).forEach((i) => collect(engine, request(range(50, i * 100), 20)));
      clock.runUntilIdle();
      return (concurrency * 20) / clock.now();
    };
    const [t1, t4, t16, t64] = [tput(1), tput(4), tput(16), tput(64)];
    expect(t4).toBeGreaterThan(t1 * 2);
    expect(t16).toBeGreaterThan(t4 * 2);
    // Beyond maxNumSeqs the batch cannot grow: throughput saturates.
    expect(t64 / t16).toBeLessThan(1.1);
  });
});
