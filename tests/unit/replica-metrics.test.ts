/**
 * Several engines behind one registry: each replica's `vllm:` series carry its `engine` label (as
 * vLLM's data-parallel engines do), NIM 1.x's unprefixed series are the sums over replicas, and the
 * router's counters follow its running totals per replica.
 */
import { describe, expect, it } from 'vitest';
import type { FinishedRequest } from '../../src/engine/engine.js';
import type { EngineRequest, EngineStats } from '../../src/engine/types.js';
import { createMetrics, type RouterReplicaCounters } from '../../src/metrics/metrics.js';
import { parseExposition, sampleValue } from '../helpers/prom-text.js';

const MODEL = 'meta/llama-3.1-8b-instruct';

function stats(running: number, waiting: number, hitTokens: number): EngineStats {
  return {
    running,
    waiting,
    maxNumSeqs: 64,
    kvBlocksTotal: 100,
    kvBlocksInUse: running * 2,
    kvUsage: running / 50,
    stepLagMs: 0,
    steps: running * 10,
    kvCache: {
      blockSize: 16,
      gpu: { total: 100, inUse: running * 2, reusable: 0, free: 100 - running * 2, cached: 0 },
      host: { total: 0, used: 0 },
      disk: { total: 0, used: 0 },
      queryTokens: hitTokens * 2,
      hitTokens,
      hostHitTokens: 0,
      diskHitTokens: 0,
      preemptedQueryTokens: 0,
      preemptedHitTokens: 0,
      evictions: 0,
      hostEvictions: 0,
      diskEvictions: 0,
    },
  };
}

function sumStats(all: readonly EngineStats[]): EngineStats {
  const [first] = all;
  return {
    ...first!,
    running: all.reduce((a, s) => a + s.running, 0),
    waiting: all.reduce((a, s) => a + s.waiting, 0),
    steps: all.reduce((a, s) => a + s.steps, 0),
  };
}

const request = (promptTokens: number): EngineRequest => ({
  id: 'r',
  promptTokenIds: new Array<number>(promptTokens).fill(1),
  outputTokenIds: [1, 2],
  finishReason: 'stop',
  modelName: MODEL,
});

function finished(req: EngineRequest): FinishedRequest {
  return {
    request: req,
    reason: 'stop',
    usage: { promptTokens: req.promptTokenIds.length, completionTokens: 2, cachedTokens: 0 },
    timings: { arrivalMs: 0, scheduledMs: 1, firstTokenMs: 10, finishedMs: 20 },
    preemptions: 0,
  };
}

describe('metrics of several replicas', () => {
  const replicas = [stats(3, 1, 100), stats(5, 0, 300)];
  const router: RouterReplicaCounters[] = [
    { requests: 0, predictedCachedTokens: 0, actualCachedTokens: 0 },
    { requests: 0, predictedCachedTokens: 0, actualCachedTokens: 0 },
  ];
  const metrics = createMetrics({
    primaryModel: MODEL,
    maxModelLen: 8192,
    maxNumSeqs: 64,
    stats: () => sumStats(replicas),
    engineStats: replicas.map((s) => () => s),
    router: () => router,
    cacheConfig: { block_size: '16', engine: '0' },
    processMetrics: false,
  });

  it('labels each replica’s vllm: series with its engine index and sums NIM’s', async () => {
    // Two requests on replica 1, one on replica 0.
    for (const [engine, prompt] of [
      [1, 10],
      [1, 30],
      [0, 7],
    ] as const) {
      const o = metrics.observerFor(engine);
      const req = request(prompt);
      o.onToken!(req, 5, true);
      o.onToken!(req, 2, false);
      o.onFinished!(finished(req));
      o.onStep!({ startMs: 0, durationMs: 1, work: {} as never, lagMs: 0, preemptions: 0, kvUsage: 0 });
    }
    router[0] = { requests: 1, predictedCachedTokens: 0, actualCachedTokens: 0 };
    router[1] = { requests: 2, predictedCachedTokens: 32, actualCachedTokens: 16 };
    const exp = parseExposition(await metrics.render());
    const m = { model_name: MODEL };
    expect(sampleValue(exp, 'vllm:prompt_tokens_total', { ...m, engine: '0' })).toBe(7);
    expect(sampleValue(exp, 'vllm:prompt_tokens_total', { ...m, engine: '1' })).toBe(40);
    expect(sampleValue(exp, 'prompt_tokens_total', m)).toBe(47);
    expect(sampleValue(exp, 'vllm:generation_tokens_total', { ...m, engine: '1' })).toBe(4);
    expect(sampleValue(exp, 'generation_tokens_total', m)).toBe(6);
    expect(sampleValue(exp, 'vllm:num_requests_running', { ...m, engine: '0' })).toBe(3);
    expect(sampleValue(exp, 'vllm:num_requests_running', { ...m, engine: '1' })).toBe(5);
    expect(sampleValue(exp, 'num_requests_running', m)).toBe(8);
    expect(sampleValue(exp, 'vllm:prefix_cache_hits_total', { ...m, engine: '1' })).toBe(300);
    expect(sampleValue(exp, 'vllm:iteration_tokens_total_count', { ...m, engine: '1' })).toBe(2);
    expect(sampleValue(exp, 'vllm:cache_config_info', { engine: '1' })).toBe(1);
    expect(sampleValue(exp, 'nimsim_engine_steps_total', m)).toBe(80);
    expect(sampleValue(exp, 'nimsim_router_requests_total', { ...m, replica: '1' })).toBe(2);
    expect(sampleValue(exp, 'nimsim_router_predicted_cached_tokens_total', { replica: '1' })).toBe(32);
    expect(sampleValue(exp, 'nimsim_router_actual_cached_tokens_total', { replica: '1' })).toBe(16);
    expect(sampleValue(exp, 'nimsim_router_actual_cached_tokens_total', { replica: '0' })).toBe(0);
  });

  it('refuses an engine index it has no series for', () => {
    expect(() => metrics.observerFor(2)).toThrow(/engine 2/);
  });
});
