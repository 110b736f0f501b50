/**
 * The engine's facade: what metrics, /admin and the simulate report read instead of the KV cache
 * itself — one stats() snapshot with the cache's counters, topPrefixes(n), resetPrefixCache() and
 * each step's KV usage.
 */
import { describe, expect, it } from 'vitest';
import type { Engine, FinishedRequest, StepRecord } from '../../src/engine/engine.js';
import type { EngineRequest } from '../../src/engine/types.js';
import { engineUnderTest, TEN_MS_STEPS, testKvCache } from '../helpers/engine-under-test.js';

const range = (n: number, start = 0) => Array.from({ length: n }, (_, i) => start + i);
const KV_SETTINGS = { gpuBlocks: 100 };
const LIMITS = { perf: TEN_MS_STEPS, maxNumSeqs: 8, maxWaiting: 16 };

let nextId = 0;
/** Submits a request and returns a getter of its finished event. */
function submit(engine: Engine, prompt: number[], outputLen: number, tokenEvents = true) {
  const req: EngineRequest = {
    id: `r${nextId++}`,
    promptTokenIds: prompt,
    outputTokenIds: range(outputLen, 1000),
    finishReason: 'length',
    modelName: 'm',
  };
  let done: FinishedRequest | undefined;
  engine.submit(req, (ev) => (ev.type === 'finished' ? (done = ev) : undefined), undefined, { tokenEvents });
  return () => done;
}

describe('engine facade', () => {
  it("carries the KV cache's counters in its stats snapshot, exactly the cache's own", () => {
    const kv = testKvCache(KV_SETTINGS);
    const { clock, engine } = engineUnderTest({ ...LIMITS, kv });
    submit(engine, range(100), 4);
    clock.runUntilIdle();
    // The second prompt starts with the first: its 6 full blocks (96 tokens) hit.
    const second = submit(engine, [...range(100), ...range(20, 900)], 4);
    clock.advanceTo(clock.now() + 15); // admitted, running
    const during = engine.stats();
    expect(during.kvCache).toEqual({ blockSize: 16, ...kv.stats() });
    expect(during.kvCache.gpu.inUse).toBe(8); // 124 tokens of blocks
    expect(during.kvUsage).toBe(0.08);
    clock.runUntilIdle();
    expect(second()!.usage.cachedTokens).toBe(96);
    const after = engine.stats();
    expect(after.kvCache).toEqual({ blockSize: 16, ...kv.stats() });
    expect(after.kvCache).toMatchObject({
      queryTokens: 220,
      hitTokens: 96,
      hostHitTokens: 0,
      preemptedQueryTokens: 0,
      evictions: 0,
    });
    expect(after.kvCache.gpu).toEqual({ total: 100, inUse: 0, reusable: 7, free: 93, cached: 7 });
    expect([after.kvBlocksTotal, after.kvBlocksInUse, after.kvUsage]).toEqual([100, 0, 0]);
    // A snapshot is a new plain object: the next one does not change it.
    submit(engine, range(50, 5000), 2);
    clock.runUntilIdle();
    expect(after.kvCache.queryTokens).toBe(220);
    expect(engine.stats().kvCache.queryTokens).toBe(270);
    expect(engine.topPrefixes(5)).toEqual(kv.topPrefixes(5));
    expect(engine.topPrefixes(5)).toEqual([{ blocks: 6, tokens: 96, hits: 1, firstTokenIds: range(16) }]);
  });

  it('builds and owns its cache from settings; resetPrefixCache drops what no request holds, keeps the counters', () => {
    const { clock, engine } = engineUnderTest({ ...LIMITS, kvCache: KV_SETTINGS });
    submit(engine, range(100), 4);
    clock.runUntilIdle();
    // A request still running keeps its blocks and their keys through the reset.
    const running = submit(engine, range(64, 3000), 50);
    clock.advanceTo(clock.now() + 15);
    const before = engine.stats().kvCache;
    expect(before.gpu).toEqual({ total: 100, inUse: 5, reusable: 6, free: 89, cached: 10 });
    engine.resetPrefixCache();
    const after = engine.stats().kvCache;
    expect(after.gpu).toEqual({ total: 100, inUse: 5, reusable: 0, free: 95, cached: 4 });
    expect(engine.topPrefixes(5)).toEqual([]);
    expect([after.queryTokens, after.hitTokens]).toEqual([before.queryTokens, before.hitTokens]);
    clock.runUntilIdle();
    expect(running()!.usage.completionTokens).toBe(50);
    // The first prompt's blocks are gone: asked again, nothing hits.
    const again = submit(engine, range(100), 1);
    clock.runUntilIdle();
    expect(again()!.usage.cachedTokens).toBe(0);
  });

  it("gives each step's KV usage once it completed, lazily decoding sequences included", () => {
    const steps: StepRecord[] = [];
    const { clock, engine } = engineUnderTest({
      ...LIMITS,
      kvCache: KV_SETTINGS,
      observer: { onStep: (s) => steps.push(s) },
    });
    // 7 blocks hold the 100-token prompt and 12 more. Step k > 1 computes output token k-1: step 14
    // computes token 113 and needs an 8th block; step 15 ends the request and frees them all.
    submit(engine, range(100), 15, false);
    clock.runUntilIdle();
    expect(steps.map((s) => s.kvUsage)).toEqual([...Array<number>(13).fill(0.07), 0.08, 0]);
  });
});
