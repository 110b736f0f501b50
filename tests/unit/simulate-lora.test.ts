/**
 * `simulate --loras N` (docs/lora.md#simulate): sessions spread over N adapters pay for the
 * cache's isolation (a shared prefix is cached once per adapter) and for max LoRAs per batch, and
 * the report says how the requests were spread; without the flag the report has no `lora` field.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { runSimulation } from '../../src/simulate/simulate.js';
import type { WorkloadOptions } from '../../src/simulate/workload.js';

const workload: WorkloadOptions = {
  concurrency: 16,
  requests: 160,
  inputTokens: 200,
  outputTokens: 40,
  sharedPrefixTokens: 1600,
  turns: 1,
  thinkTimeMs: 0,
};
const run = (w: WorkloadOptions, settings: Record<string, string> = {}) =>
  runSimulation(loadConfig({}, { gpu: 'h100-sxm', precision: 'fp8', tp: '1', ...settings }), w);

describe('simulate --loras', () => {
  it('spreads sessions over the adapters, uniformly with Zipf 0 and most to adapter 0 with Zipf 1', () => {
    const uniform = run({ ...workload, loras: { adapters: 4, zipf: 0, rank: 16 } }).lora!;
    expect(uniform).toMatchObject({ adapters: 4, zipf: 0, rank: 16, max_loras: 8 });
    expect(uniform.requests_by_adapter.reduce((a, b) => a + b, 0)).toBe(160);
    for (const n of uniform.requests_by_adapter) expect(n).toBeGreaterThan(20);
    const skewed = run({ ...workload, loras: { adapters: 4, zipf: 1, rank: 16 } }).lora!;
    expect(Math.max(...skewed.requests_by_adapter)).toBe(skewed.requests_by_adapter[0]);
    expect(skewed.requests_by_adapter[0]).toBeGreaterThan(skewed.requests_by_adapter[3]! * 2);
    // all-linear on Llama 3.1 8B at rank 16: 16 × 32 layers × Σ(d_in + d_out).
    expect(uniform.adapter_params).toBe(16 * 32 * (8192 + 5120 + 5120 + 8192 + 3 * (4096 + 14337)));
  });

  it('caches the shared prefix once per adapter: the more adapters, the lower the hit rate', () => {
    const one = run({ ...workload, loras: { adapters: 1, zipf: 0, rank: 16 } });
    const many = run({ ...workload, loras: { adapters: 64, zipf: 0, rank: 16 } });
    expect(many.prefix_cache_hit_rate).toBeLessThan(one.prefix_cache_hit_rate - 0.1);
    expect(many.ttft_ms.mean).toBeGreaterThan(one.ttft_ms.mean);
  });

  it('makes requests of more adapters than max LoRAs wait their turn', () => {
    const w = { ...workload, loras: { adapters: 8, zipf: 0, rank: 16 } };
    const wide = run(w, { maxGpuLoras: '8' });
    const narrow = run(w, { maxGpuLoras: '1' });
    expect(narrow.lora!.max_loras).toBe(1);
    expect(narrow.requests).toBe(160);
    expect(narrow.duration_s).toBeGreaterThan(wide.duration_s * 2);
    expect(narrow.ttft_ms.p90).toBeGreaterThan(wide.ttft_ms.p90 * 2);
  });

  it('costs decode time per distinct adapter: a higher rank is slower', () => {
    const low = run({ ...workload, loras: { adapters: 8, zipf: 0, rank: 8 } });
    const high = run({ ...workload, loras: { adapters: 8, zipf: 0, rank: 128 } });
    expect(high.itl_ms.mean).toBeGreaterThan(low.itl_ms.mean);
  });

  it('leaves the report as it was without --loras', () => {
    expect(run(workload)).not.toHaveProperty('lora');
  });
});
