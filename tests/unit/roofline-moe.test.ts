/**
 * The step model's mixture-of-experts and tensor-parallel terms: the experts a step reads, the
 * grouped GEMM's tile padding, MXFP4 expert checkpoints (gpt-oss) and the dtypes they compute in,
 * and how the all-reduce grows with the TP size and the link.
 */
import { describe, expect, it } from 'vitest';
import { computeDtypes, resolveDeployment, type Deployment } from '../../src/catalog/deployment.js';
import { EXPERT_TILE_ROWS, MEMORY_STREAM_EFFICIENCY } from '../../src/catalog/efficiency.js';
import { findGpu } from '../../src/catalog/gpus.js';
import { MXFP4_BYTES_PER_WEIGHT, weightBytesTotal } from '../../src/catalog/model-sizing.js';
import { findModel } from '../../src/catalog/models.js';
import { PRECISIONS } from '../../src/catalog/precisions.js';
import type { StepWork } from '../../src/engine/perf-model.js';
import { createRooflinePerfModel, type RooflineSpec } from '../../src/engine/roofline.js';

const GPT_OSS = 'openai/gpt-oss-120b';
const LLAMA_70B = 'meta/llama-3.3-70b-instruct';

function deploy(modelName: string, gpu: string, precision: string, tp: number): Deployment {
  return resolveDeployment({
    modelName,
    gpu,
    gpuCount: tp,
    precision,
    tp,
    gpuMemoryUtilization: 0.9,
    kvBlockSize: 16,
    frontend: 'none',
  });
}

/** `seqs` sequences decoding one token each over an empty context: no attention work. */
function decode(seqs: number): StepWork {
  return { decodeSeqs: seqs, decodeContextTokens: 0, prefillChunks: [], hostLoadTokens: 0 };
}

/** The spec without fixed costs or KV traffic, so a step is its matmul phase alone. */
function matmulOnly(spec: RooflineSpec, overrides: Partial<RooflineSpec> = {}): RooflineSpec {
  return { ...spec, perLayerMs: 0, fixedStepOverheadMs: 0, kvBytesPerTokenPerGpu: 0, ...overrides };
}

describe('mixture-of-experts step time', () => {
  const gptOss = findModel(GPT_OSS)!;
  const moe = gptOss.moe!;

  it('stores gpt-oss-120b with MXFP4 experts and BF16 elsewhere, about 65 GB in any profile precision', () => {
    // 4 bits per value plus an 8-bit scale per 32: 4.25 bits.
    expect(MXFP4_BYTES_PER_WEIGHT).toBe(0.53125);
    const experts = moe.numExperts * moe.paramsPerExpert;
    const expected = experts * 0.53125 + (gptOss.totalParams - experts) * 2;
    for (const precision of ['bf16', 'fp8', 'nvfp4'] as const) {
      expect(weightBytesTotal(gptOss, PRECISIONS[precision])).toBeCloseTo(expected, 0);
    }
    expect(expected / 1e9).toBeGreaterThan(64);
    expect(expected / 1e9).toBeLessThan(66);
  });

  it('reads only the experts the batch is expected to touch: E x (1 - (1 - k/E)^tokens)', () => {
    const spec = matmulOnly(deploy(GPT_OSS, 'h200', 'fp8', 1).roofline, {
      // Compute for free: the phase is its weight read.
      matmulFlopsPerS: 1e30,
      expertFlopsPerS: 1e30,
      attentionFlopsPerS: 1e30,
    });
    const model = createRooflinePerfModel(spec);
    const bytesPerMs = (MEMORY_STREAM_EFFICIENCY * spec.memoryBytesPerS) / 1000;
    for (const tokens of [1, 8, 64, 1024]) {
      const touched = moe.numExperts * (1 - Math.pow(1 - moe.expertsPerToken / moe.numExperts, tokens));
      const expected = (spec.streamedWeightBytesPerGpu + touched * spec.expertBytesPerGpu) / bytesPerMs;
      expect(model.stepMs(decode(tokens))).toBeCloseTo(expected, 9);
    }
    // One token reads its 4 experts of 128; a thousand tokens nearly all of them.
    const one = model.stepMs(decode(1));
    const many = model.stepMs(decode(1024));
    expect(many / one).toBeGreaterThan(10);
  });

  it("pads each touched expert's tokens to whole grouped-GEMM tiles", () => {
    const spec = matmulOnly(deploy(GPT_OSS, 'gb200', 'nvfp4', 1).roofline, { memoryBytesPerS: 1e30 });
    const padded = createRooflinePerfModel(spec);
    const unpadded = createRooflinePerfModel({ ...spec, expertTileRows: 0 });
    // One row of one expert, all layers: 2 FLOPs per parameter at the experts' rate.
    const rowMs = ((2 * moe.paramsPerExpert) / spec.expertFlopsPerS) * 1000;
    // One token: its 4 experts each cost a whole tile instead of one row.
    expect(padded.stepMs(decode(1)) - unpadded.stepMs(decode(1))).toBeCloseTo(
      4 * (EXPERT_TILE_ROWS - 1) * rowMs,
      9,
    );
    // 4,096 tokens: every expert touched with 128 rows on average, half a tile more each.
    const touched = moe.numExperts * (1 - Math.pow(1 - moe.expertsPerToken / moe.numExperts, 4096));
    expect(padded.stepMs(decode(4096)) - unpadded.stepMs(decode(4096))).toBeCloseTo(
      ((touched * EXPERT_TILE_ROWS) / 2) * rowMs,
      6,
    );
    // The padding's share falls as tokens per expert grow.
    const share = (tokens: number) => padded.stepMs(decode(tokens)) / unpadded.stepMs(decode(tokens));
    expect(share(64)).toBeGreaterThan(share(4096));
    expect(share(4096)).toBeGreaterThan(1);
  });

  it('runs MXFP4 experts in FP8 on Blackwell and BF16 on Hopper, their other layers in BF16, attention in the KV type', () => {
    const h200 = findGpu('h200')!;
    const b200 = findGpu('b200')!;
    expect(computeDtypes(gptOss, b200, PRECISIONS.nvfp4)).toEqual({
      matmul: 'bf16',
      experts: 'fp8',
      attention: 'fp8',
    });
    expect(computeDtypes(gptOss, h200, PRECISIONS.fp8)).toEqual({
      matmul: 'bf16',
      experts: 'bf16',
      attention: 'fp8',
    });
    expect(computeDtypes(gptOss, h200, PRECISIONS.bf16).attention).toBe('bf16');
    // A dense NVFP4 checkpoint computes its matmuls in FP4 and attention over its FP8 cache in FP8.
    expect(computeDtypes(findModel(LLAMA_70B)!, b200, PRECISIONS.nvfp4)).toEqual({
      matmul: 'fp4',
      experts: 'fp4',
      attention: 'fp8',
    });
  });
});

describe('tensor-parallel all-reduce', () => {
  it('starts each all-reduce (1 µs on NVLink) and adds 2 x log2(tp) hops of the link: 0.6 µs on NVLink, 10 µs over PCIe', () => {
    expect(deploy(LLAMA_70B, 'h200', 'fp8', 1).roofline.allReduceLatencyMs).toBe(0);
    expect(deploy(LLAMA_70B, 'h100-sxm', 'fp8', 2).roofline.allReduceLatencyMs).toBeCloseTo(0.0022, 12);
    expect(deploy(LLAMA_70B, 'h100-sxm', 'fp8', 4).roofline.allReduceLatencyMs).toBeCloseTo(0.0034, 12);
    expect(deploy(LLAMA_70B, 'h100-sxm', 'fp8', 8).roofline.allReduceLatencyMs).toBeCloseTo(0.0046, 12);
    expect(deploy(LLAMA_70B, 'l40s', 'fp8', 4).roofline.allReduceLatencyMs).toBeCloseTo(0.04, 12);
  });

  it('moves 2 (tp - 1) / tp of each token’s activations per all-reduce, twice per layer, the cheaper way', () => {
    for (const tp of [2, 4, 8]) {
      const spec = deploy(LLAMA_70B, 'h100-sxm', 'fp8', tp).roofline;
      const model = createRooflinePerfModel(spec);
      const noLink = createRooflinePerfModel({
        ...spec,
        allReduceBytesPerS: 1e30,
        allReduceLatencyMs: 0,
        allReduceRingBytesPerS: 1e30,
        allReduceRingLatencyMs: 0,
      });
      for (const tokens of [1, 512]) {
        const volume = tokens * ((2 * (tp - 1)) / tp) * spec.hiddenSize * 2;
        const oneShotMs = (volume / spec.allReduceBytesPerS) * 1000 + spec.allReduceLatencyMs;
        const ringMs = (volume / spec.allReduceRingBytesPerS!) * 1000 + spec.allReduceRingLatencyMs!;
        expect(model.stepMs(decode(tokens)) - noLink.stepMs(decode(tokens))).toBeCloseTo(
          2 * spec.numLayers * Math.min(oneShotMs, ringMs),
          6,
        );
      }
    }
  });

  it('sends one token one-shot and a 512-token batch over the ring at TP8, one-shot reading every peer', () => {
    const spec = deploy(LLAMA_70B, 'h100-sxm', 'fp8', 8).roofline;
    const cost = (tokens: number) => {
      const volume = tokens * (14 / 8) * spec.hiddenSize * 2;
      return {
        oneShot: (volume / spec.allReduceBytesPerS) * 1000 + spec.allReduceLatencyMs,
        ring: (volume / spec.allReduceRingBytesPerS!) * 1000 + spec.allReduceRingLatencyMs!,
      };
    };
    expect(cost(1).oneShot).toBeLessThan(cost(1).ring);
    expect(cost(512).ring).toBeLessThan(cost(512).oneShot);
    // One-shot: each rank reads 7 peers' whole message, 4x the ring volume at TP8.
    expect(spec.allReduceRingBytesPerS! / spec.allReduceBytesPerS).toBeCloseTo(0.92 * 4, 9);
    // NCCL's ring latency at TP8: 14 us + 14 steps x 1.9 us.
    expect(spec.allReduceRingLatencyMs).toBeCloseTo(0.0406, 12);
  });
});
