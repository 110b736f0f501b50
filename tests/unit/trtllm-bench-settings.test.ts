/**
 * calibration/trtllm-bench.ts against hand-worked cases of trtllm-bench's heuristic
 * (tensorrt_llm/bench/build/tuning.py: calc_engine_setting, finetune_setting), its fallback for
 * untuned quantizations (build.py) and its token budget without chunked prefill (general.py).
 */
import { describe, expect, it } from 'vitest';
import { trtllmBenchSettings } from '../../calibration/trtllm-bench.js';
import { findGpu } from '../../src/catalog/gpus.js';
import { findModel } from '../../src/catalog/models.js';

describe("trtllm-bench's max batch size and token budget", () => {
  it('caps the batch at 4,096 and the budget at (1 + ISL/OSL) x batch when the KV cache is large', () => {
    // 8B FP8 on one H100: (79.65 GiB - 7.48 GiB) x 0.95 / (64 KiB x 256 tokens) = 4,388 requests.
    const s = trtllmBenchSettings(
      findModel('meta/llama-3.1-8b-instruct')!,
      findGpu('h100-sxm')!,
      'fp8',
      1,
      128,
      128,
    );
    expect(s).toEqual({ maxBatchSize: 4096, maxNumTokens: 8192 });
  });

  it('rounds a small batch up to 64, and the budget holds the longest prompt beside the batch', () => {
    // 405B FP8 on 8 x H100 at 20000/2000: (637 - 378 GiB) x 0.95 / (252 KiB x 22,000) = 46.6 requests.
    // The heuristic's budget rounds up to 2,048; without chunked prefill general.py raises it to
    // the prompt plus the batch, 20,000 + 64.
    const s = trtllmBenchSettings(
      findModel('meta/llama-3.1-405b-instruct')!,
      findGpu('h100-sxm')!,
      'fp8',
      8,
      20000,
      2000,
    );
    expect(s).toEqual({ maxBatchSize: 64, maxNumTokens: 20064 });
  });

  it("takes BuildConfig's defaults for an MXFP4 checkpoint, which the heuristic does not size", () => {
    const model = findModel('openai/gpt-oss-120b')!;
    expect(trtllmBenchSettings(model, findGpu('gb200')!, 'nvfp4', 1, 1024, 1024)).toEqual({
      maxBatchSize: 2048,
      maxNumTokens: 8192,
    });
    expect(trtllmBenchSettings(model, findGpu('h200')!, 'bf16', 1, 32768, 1024)).toEqual({
      maxBatchSize: 2048,
      maxNumTokens: 32768 + 2048,
    });
  });

  it('rounds a batch from 256 to 1,024 up to a multiple of 128', () => {
    // 70B FP8 on 2 x H100 at 1000/1000: (159.3 - 65.7 GiB) x 0.95 / (160 KiB x 2,000) = 291 requests;
    // 291 x (1 + 1) = 582 tokens, below the 2,048 floor.
    const s = trtllmBenchSettings(
      findModel('meta/llama-3.3-70b-instruct')!,
      findGpu('h100-sxm')!,
      'fp8',
      2,
      1000,
      1000,
    );
    expect(s.maxBatchSize).toBe(384);
    expect(s.maxNumTokens).toBe(2048);
  });
});
