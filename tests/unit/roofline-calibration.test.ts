/**
 * The roofline against published measurements (docs/calibration.md).
 *
 * (a) Batch-1 first-token latency, TensorRT-LLM docs/source/performance.md (v0.5), LLaMA 7B TP1,
 *     simulated with Llama-3.1-8B: one prefill step of 128 or 2048 tokens. Tolerance ±35 %.
 *
 * (b) NIM 1.8.0 Llama-3.1-8B-Instruct, https://docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance
 *     (table B). Headers: the stored copies of that page show, for the 70B section of the same
 *     release, "2 x H100 80G / fp8 TP2 / 5000 Input Tokens / 500 Output Tokens" and "500 / 2000";
 *     the 8B section's GPU, precision and ISL/OSL headers are not in any stored copy (searched the
 *     docs and pages corpora, HTML and .md renderings). What the numbers fix:
 *     - OSL = 200 (derived): closed-loop throughput = c x OSL / (TTFT + (OSL - 1) x ITL) solves to
 *       OSL = 183-203 at every concurrency (c=25: 203, c=250: 188); OSL 2000 would miss c=250 by 17 %.
 *     - 1 x H100 FP8 (inferred; docs/calibration.md#nim-benchmark-tables): ITL 4.63 ms is below BF16's
 *       weight-read floor.
 *     - ISL = 200 (assumed): TTFT at c=1 is 10.26 ms, which a 1000-token prefill (17.6 ms here)
 *       exceeds; 200 (4.9 ms + HTTP) or 500 (9.0 ms) fit. With ISL 500 the prefill per step is 2.5x
 *       larger and this model lands 25 % high at c=100 and 35 % high at c=250, so ISL 200 is also the
 *       reading the roofline agrees with; the assumption matters only at high load.
 *     Per-step work at concurrency c (steady state): c decoding sequences with context ISL + OSL/2,
 *     plus the prefill of c/OSL new prompts (c x ISL/OSL tokens). Measured ITL at high concurrency
 *     also contains those interleaved prefill chunks. Tolerance ±30 %.
 */
import { describe, expect, it } from 'vitest';
import type { PerfModel } from '../../src/engine/perf-model.js';
import { createRooflinePerfModel } from '../../src/engine/roofline.js';
import { deploymentUnderTest } from '../helpers/engine-under-test.js';

function llama8b(gpu: string, precision: string): PerfModel {
  return createRooflinePerfModel(deploymentUnderTest({ gpu, precision }).roofline);
}

function relativeError(predicted: number, published: number): number {
  return Math.abs(predicted / published - 1);
}

describe('roofline calibration: batch-1 prefill (TensorRT-LLM performance.md, LLaMA 7B TP1)', () => {
  const points = [
    { gpu: 'h100-sxm', precision: 'fp8', inputTokens: 128, publishedMs: 7 },
    { gpu: 'h100-sxm', precision: 'fp8', inputTokens: 2048, publishedMs: 36 },
    { gpu: 'a100-80gb', precision: 'fp16', inputTokens: 128, publishedMs: 16 },
    { gpu: 'a100-80gb', precision: 'fp16', inputTokens: 2048, publishedMs: 133 },
    { gpu: 'l40s', precision: 'fp8', inputTokens: 128, publishedMs: 14 },
    { gpu: 'l40s', precision: 'fp8', inputTokens: 2048, publishedMs: 73 },
  ] as const;

  for (const point of points) {
    it(`predicts ${point.gpu} ${point.precision} first-token latency for ${point.inputTokens} tokens within 35 %`, () => {
      const model = llama8b(point.gpu, point.precision);
      const predictedMs = model.stepMs({
        decodeSeqs: 0,
        decodeContextTokens: 0,
        prefillChunks: [{ tokens: point.inputTokens, contextTokens: 0 }],
        hostLoadTokens: 0,
      });
      expect(relativeError(predictedMs, point.publishedMs)).toBeLessThanOrEqual(0.35);
    });
  }
});

describe('roofline calibration: NIM 1.8.0 Llama-3.1-8B ITL vs concurrency (1 x H100 FP8, ISL 200 / OSL 200)', () => {
  const inputTokens = 200;
  const outputTokens = 200;
  const published: readonly (readonly [concurrency: number, itlMs: number])[] = [
    [1, 4.63],
    [5, 4.58],
    [25, 5.19],
    [50, 5.91],
    [100, 7.57],
    [150, 9.81],
    [200, 12.65],
    [250, 16.14],
  ];
  const model = llama8b('h100-sxm', 'fp8');

  for (const [concurrency, itlMs] of published) {
    it(`predicts the ITL at concurrency ${concurrency} within 30 %`, () => {
      const predictedMs = model.stepMs({
        decodeSeqs: concurrency,
        decodeContextTokens: concurrency * (inputTokens + outputTokens / 2),
        prefillChunks: [{ tokens: (concurrency * inputTokens) / outputTokens, contextTokens: 0 }],
        hostLoadTokens: 0,
      });
      expect(relativeError(predictedMs, itlMs)).toBeLessThanOrEqual(0.3);
    });
  }
});
