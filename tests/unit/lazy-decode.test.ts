/**
 * Lazy decoding (src/engine/lazy-decode.ts) must be invisible: a workload run with token events
 * (every sequence updated every step) and without them (sequences cruise between their events)
 * gives the same steps, the same finished requests and the same cache, whatever the pressure —
 * preemption, chunked prefill, a token budget smaller than the running set, aborts mid-run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineObserver, FinishedRequest } from '../../src/engine/engine.js';
import type { EvictionPolicyName } from '../../src/engine/kv-cache/kv-cache-manager.js';
import { createObserverHub } from '../../src/engine/observer-hub.js';
import type { PerfModel, StepWork } from '../../src/engine/perf-model.js';
import type { EngineRequest } from '../../src/engine/types.js';
import { engineUnderTest, testKvCache } from '../helpers/engine-under-test.js';

/** Step time depends on every field of the work, so any difference in a plan shows in the timings. */
const model: PerfModel = {
  stepMs: (w: StepWork) =>
    5 +
    0.3 * w.decodeSeqs +
    0.001 * w.decodeContextTokens +
    w.prefillChunks.reduce((a, c) => a + 0.01 * c.tokens + 0.0001 * c.contextTokens, 0),
};

interface Workload {
  /** Token capacity in 16-token blocks, whatever the block size. */
  blocks: number;
  blockSize: number;
  budget: number;
  maxNumSeqs: number;
  eviction: EvictionPolicyName;
  requests: {
    atMs: number;
    prefix: number;
    ownTokens: number;
    outputTokens: number;
    abortAfterMs?: number;
  }[];
}

const workloadArb: fc.Arbitrary<Workload> = fc.record({
  blocks: fc.integer({ min: 40, max: 400 }),
  // Down to one token per block, where a decode step both fills a block and needs the next.
  blockSize: fc.constantFrom(1, 2, 5, 16),
  // Budgets below the running set's size make sequences sit steps out.
  budget: fc.oneof(fc.integer({ min: 4, max: 20 }), fc.integer({ min: 21, max: 600 })),
  maxNumSeqs: fc.integer({ min: 1, max: 32 }),
  eviction: fc.constantFrom<EvictionPolicyName>('lru', 'fifo', 'lfu'),
  requests: fc.array(
    fc.record(
      {
        atMs: fc.integer({ min: 0, max: 400 }),
        prefix: fc.integer({ min: 0, max: 2 }),
        ownTokens: fc.integer({ min: 1, max: 300 }),
        outputTokens: fc.integer({ min: 0, max: 90 }),
        abortAfterMs: fc.integer({ min: 0, max: 300 }),
      },
      { requiredKeys: ['atMs', 'prefix', 'ownTokens', 'outputTokens'] },
    ),
    { minLength: 1, maxLength: 30, size: 'max' },
  ),
});

/** Three shared prefixes of different lengths (index 0: none), so prompts share cached blocks. */
const PREFIXES = [
  [],
  Array.from({ length: 40 }, (_, i) => 7 + i),
  Array.from({ length: 100 }, (_, i) => 900 + i),
];

function run(w: Workload, tokenEvents: boolean, observer?: EngineObserver) {
  const kv = testKvCache({
    blockSize: w.blockSize,
    gpuBlocks: Math.ceil((w.blocks * 16) / w.blockSize),
    eviction: w.eviction,
  });
  const steps: StepWork[] = [];
  const hub = createObserverHub();
  hub.add({ onStep: (s) => steps.push(s.work) });
  if (observer) hub.add(observer);
  const { clock, engine } = engineUnderTest({
    perf: model,
    kv,
    maxNumSeqs: w.maxNumSeqs,
    maxNumBatchedTokens: w.budget,
    maxWaiting: 1000,
    observer: hub,
  });
  const finished: (Omit<FinishedRequest, 'request'> & { id: string })[] = [];
  w.requests.forEach((r, i) => {
    clock.schedule(r.atMs, () => {
      const req: EngineRequest = {
        id: `r${i}`,
        promptTokenIds: [
          ...PREFIXES[r.prefix]!,
          ...Array.from({ length: r.ownTokens }, (_, k) => 5000 + i * 1000 + k),
        ],
        outputTokenIds: Array.from({ length: r.outputTokens }, (_, k) => 50_000 + i * 1000 + k),
        finishReason: 'length',
        modelName: 'm',
      };
      const abort = engine.submit(
        req,
        (ev) => {
          if (ev.type !== 'finished') return;
          const { request, ...rest } = ev;
          finished.push({ id: request.id, ...rest });
        },
        undefined,
        { tokenEvents },
      );
      if (r.abortAfterMs !== undefined) clock.schedule(r.atMs + r.abortAfterMs, abort);
    });
  });
  clock.runUntilIdle();
  return { finished, steps, stats: kv.stats(), inUse: engine.stats().kvBlocksInUse, blocks: kv.inspect() };
}

describe('lazy decoding', () => {
  it('gives exactly the results of eager decoding, under any pressure', () => {
    fc.assert(
      fc.property(workloadArb, (w) => {
        const eager = run(w, true);
        const lazy = run(w, false);
        expect(lazy.finished).toEqual(eager.finished);
        expect(lazy.steps).toEqual(eager.steps);
        expect(lazy.stats).toEqual(eager.stats);
        expect(lazy.blocks).toEqual(eager.blocks);
        expect(lazy.inUse).toBe(0);
        expect(lazy.finished).toHaveLength(w.requests.length);
      }),
      { numRuns: 150 },
    );
  });

  it('is not used while a token observer listens: it sees every token', () => {
    const w: Workload = {
      blocks: 200,
      blockSize: 16,
      budget: 512,
      maxNumSeqs: 8,
      eviction: 'lru',
      requests: Array.from({ length: 6 }, (_, i) => ({
        atMs: i * 3,
        prefix: 1,
        ownTokens: 50,
        outputTokens: 40,
      })),
    };
    let tokens = 0;
    const lazy = run(w, false, { onToken: () => tokens++ });
    expect(tokens).toBe(6 * 40);
    expect(lazy.finished.map((f) => f.usage.completionTokens)).toEqual(Array(6).fill(40));
  });
});
