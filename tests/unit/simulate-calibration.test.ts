/**
 * `simulate` against the published Llama-3.1-8B-Instruct NIM table (docs/calibration.md#nim-benchmark-tables,
 * NIM 1.8.0; client-side AIPerf means). The page's 8B headers were not captured: OSL 200 is
 * derived from the closed-loop throughput identity, 1 × H100 FP8 is inferred from the c=1 ITL, ISL 200
 * is assumed (see tests/unit/roofline-calibration.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { runSimulation } from '../../src/simulate/simulate.js';

const TABLE_B = [
  { c: 1, itlMs: 4.63, tokS: 214.56 },
  { c: 5, itlMs: 4.58, tokS: 1076.88 },
  { c: 25, itlMs: 5.19, tokS: 4678.88 },
  { c: 50, itlMs: 5.91, tokS: 8018.23 },
  { c: 100, itlMs: 7.57, tokS: 12214.97 },
  { c: 150, itlMs: 9.81, tokS: 12988.89 },
  { c: 200, itlMs: 12.65, tokS: 13348.4 },
  { c: 250, itlMs: 16.14, tokS: 12964.72 },
];

const simulate = (c: number, settings: Record<string, string> = {}, io = { input: 200, output: 200 }) =>
  runSimulation(loadConfig({}, { gpu: 'h100-sxm', precision: 'fp8', tp: '1', ...settings }), {
    concurrency: c,
    requests: Math.max(4 * c, 40),
    inputTokens: io.input,
    outputTokens: io.output,
    sharedPrefixTokens: 0,
    turns: 1,
    thinkTimeMs: 0,
  });

describe('simulate calibration: Llama-3.1-8B NIM on 1 x H100 FP8, ISL/OSL 200/200', () => {
  for (const row of TABLE_B) {
    it(`matches ITL and throughput within ±30 % at concurrency ${row.c}`, () => {
      const r = simulate(row.c);
      expect(r.itl_ms.mean / row.itlMs).toBeGreaterThan(0.7);
      expect(r.itl_ms.mean / row.itlMs).toBeLessThan(1.3);
      expect(r.output_tokens_per_s / row.tokS).toBeGreaterThan(0.7);
      expect(r.output_tokens_per_s / row.tokS).toBeLessThan(1.3);
    });
  }
});

describe("simulate calibration: TTFT through NIM's front-end intake (docs/performance-model.md#front-end)", () => {
  // Published AIPerf means, NIM 1.8.0: one request alone, a burst of 25 taken in one after another,
  // and 250 users with the front end as the bottleneck (TTFT ≈ 2.4 ms per user).
  const points = [
    { c: 1, ttftMs: 10.26 },
    { c: 25, ttftMs: 36.34 },
    { c: 250, ttftMs: 605.6 },
  ];
  for (const p of points) {
    it(`matches TTFT within ±50 % at concurrency ${p.c}`, () => {
      const r = simulate(p.c);
      expect(r.ttft_ms.mean / p.ttftMs).toBeGreaterThan(0.5);
      expect(r.ttft_ms.mean / p.ttftMs).toBeLessThan(1.5);
    });
  }

  it('has no intake without a front end: TTFT is the engine alone', () => {
    const nim = simulate(1);
    const none = simulate(1, { frontend: 'none' });
    expect(nim.ttft_ms.mean - none.ttft_ms.mean).toBeCloseTo(2.4, 6);
  });
});

describe('the queueing knee when KV memory fills', () => {
  // 2,000 blocks × 16 = 32k tokens: about 40 sequences of 800 tokens fit at once.
  const tight = { kvCacheBlocks: '2000' };
  const io = { input: 600, output: 200 };

  it('keeps ITL and throughput flat past the point where the cache is full, while TTFT grows by queueing', () => {
    const below = simulate(32, tight, io);
    const at = simulate(64, tight, io);
    const beyond = simulate(160, tight, io);
    expect(below.kv_cache_peak_usage).toBeLessThan(0.9);
    expect(beyond.kv_cache_peak_usage).toBeGreaterThan(0.9);
    expect(beyond.output_tokens_per_s / at.output_tokens_per_s).toBeLessThan(1.15);
    expect(beyond.itl_ms.mean / at.itl_ms.mean).toBeLessThan(1.3);
    expect(beyond.ttft_ms.mean).toBeGreaterThan(5 * below.ttft_ms.mean);
  });
});
