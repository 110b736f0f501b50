import { describe, expect, it } from 'vitest';
import { FRONTEND_INTAKE_MS, FRONTEND_MS_PER_SEQ } from '../../src/catalog/efficiency.js';
import { resolveDeployment } from '../../src/catalog/deployment.js';
import type { Deployment } from '../../src/catalog/deployment.js';
import type { PerfModel, StepWork } from '../../src/engine/perf-model.js';
import { createRooflinePerfModel } from '../../src/engine/roofline.js';

function deploy(
  modelName: string,
  gpu: string,
  precision: string,
  tp: number,
  gpuCount = tp,
  frontend: 'nim' | 'none' = 'nim',
): Deployment {
  return resolveDeployment({
    modelName,
    gpu,
    gpuCount,
    precision,
    tp,
    gpuMemoryUtilization: 0.9,
    kvBlockSize: 16,
    frontend,
  });
}

function modelOf(deployment: Deployment): PerfModel {
  return createRooflinePerfModel(deployment.roofline);
}

const LLAMA_8B = 'meta/llama-3.1-8b-instruct';
const LLAMA_70B = 'meta/llama-3.3-70b-instruct';

function decode(seqs: number, contextPerSeq: number): StepWork {
  return {
    decodeSeqs: seqs,
    decodeContextTokens: seqs * contextPerSeq,
    prefillChunks: [],
    hostLoadTokens: 0,
  };
}

function prefill(tokens: number, contextTokens = 0): StepWork {
  return {
    decodeSeqs: 0,
    decodeContextTokens: 0,
    prefillChunks: [{ tokens, contextTokens }],
    hostLoadTokens: 0,
  };
}

/** Work shapes from memory-bound decode to compute-bound prefill, used for the ordering checks. */
const WORKS: readonly StepWork[] = [
  decode(1, 100),
  decode(8, 2000),
  decode(64, 1000),
  decode(256, 4000),
  prefill(128),
  prefill(2048),
  prefill(8192, 8192),
  {
    decodeSeqs: 100,
    decodeContextTokens: 100 * 500,
    prefillChunks: [{ tokens: 512, contextTokens: 0 }],
    hostLoadTokens: 0,
  },
];

describe('createRooflinePerfModel', () => {
  const h100Fp8 = modelOf(deploy(LLAMA_8B, 'h100-sxm', 'fp8', 1));

  it('takes no time for an empty step', () => {
    expect(
      h100Fp8.stepMs({ decodeSeqs: 0, decodeContextTokens: 0, prefillChunks: [], hostLoadTokens: 0 }),
    ).toBe(0);
  });

  it('never gets faster as more sequences decode', () => {
    let previous = 0;
    for (let seqs = 1; seqs <= 1024; seqs += 1) {
      const ms = h100Fp8.stepMs(decode(seqs, 1000));
      expect(ms).toBeGreaterThan(previous);
      previous = ms;
    }
  });

  it('never gets faster as the decode context grows', () => {
    let previous = 0;
    for (let context = 0; context <= 128_000; context += 1000) {
      const ms = h100Fp8.stepMs(decode(32, context));
      expect(ms).toBeGreaterThan(previous);
      previous = ms;
    }
  });

  it('never gets faster as a prefill chunk sees more cached context', () => {
    let previous = 0;
    for (let context = 0; context <= 64_000; context += 2000) {
      const ms = h100Fp8.stepMs(prefill(1024, context));
      expect(ms).toBeGreaterThan(previous);
      previous = ms;
    }
  });

  it('grows with sequences for a mixture-of-experts model as more experts are touched', () => {
    const mixtral = modelOf(deploy('mistralai/mixtral-8x7b-instruct-v01', 'h100-sxm', 'fp8', 1));
    const one = mixtral.stepMs(decode(1, 100));
    const two = mixtral.stepMs(decode(2, 100));
    const eight = mixtral.stepMs(decode(8, 100));
    expect(two).toBeGreaterThan(one);
    expect(eight).toBeGreaterThan(two);
    // One token reads 2 of 8 experts, eight tokens nearly all of them: the step costs far more than 1 token's.
    expect(eight / one).toBeGreaterThan(2);
  });

  it('never makes a faster precision slower for the same work', () => {
    // The GPU's time alone: NIM's front end can bound a step whatever the precision (see the next test).
    const gpuOnly = (gpu: string, precision: string) =>
      modelOf(deploy(LLAMA_8B, gpu, precision, 1, 1, 'none'));
    const h100 = {
      bf16: gpuOnly('h100-sxm', 'bf16'),
      fp8: gpuOnly('h100-sxm', 'fp8'),
      int4: gpuOnly('h100-sxm', 'int4_awq'),
    };
    const b200 = {
      bf16: gpuOnly('b200', 'bf16'),
      fp8: gpuOnly('b200', 'fp8'),
      nvfp4: gpuOnly('b200', 'nvfp4'),
    };
    for (const work of WORKS) {
      expect(h100.fp8.stepMs(work)).toBeLessThan(h100.bf16.stepMs(work));
      expect(h100.int4.stepMs(work)).toBeLessThanOrEqual(h100.bf16.stepMs(work));
      expect(b200.fp8.stepMs(work)).toBeLessThan(b200.bf16.stepMs(work));
      expect(b200.nvfp4.stepMs(work)).toBeLessThan(b200.fp8.stepMs(work));
    }
  });

  it('runs FP4 on B200 faster than FP8 on H100', () => {
    const b200 = modelOf(deploy(LLAMA_8B, 'b200', 'nvfp4', 1));
    const b200Big = modelOf(deploy(LLAMA_70B, 'b200', 'nvfp4', 1));
    const h100Big = modelOf(deploy(LLAMA_70B, 'h100-sxm', 'fp8', 2));
    for (const work of WORKS) {
      expect(b200.stepMs(work)).toBeLessThan(h100Fp8.stepMs(work));
      expect(b200Big.stepMs(work)).toBeLessThan(h100Big.stepMs(work));
    }
  });

  it('makes a 70B step faster at TP2 than at TP1 where both fit', () => {
    const tp1 = modelOf(deploy(LLAMA_70B, 'h200', 'fp8', 1, 2));
    const tp2 = modelOf(deploy(LLAMA_70B, 'h200', 'fp8', 2, 2));
    for (const work of WORKS) expect(tp2.stepMs(work)).toBeLessThan(tp1.stepMs(work));
  });

  it('charges tensor-parallel all-reduces that a single GPU does not pay', () => {
    const deployment = deploy(LLAMA_70B, 'h200', 'fp8', 2);
    const withAllReduce = createRooflinePerfModel(deployment.roofline);
    const withoutLatency = createRooflinePerfModel({ ...deployment.roofline, allReduceLatencyMs: 0 });
    // 2 all-reduces x 80 layers x 2.2 us each (a 1 us start and 2 x log2(2) hops of 0.6 us,
    // src/catalog/efficiency.ts): one token's message goes one-shot.
    expect(withAllReduce.stepMs(decode(1, 100)) - withoutLatency.stepMs(decode(1, 100))).toBeCloseTo(
      0.352,
      9,
    );
  });

  it("lets NIM's front end bound a step once its per-sequence CPU time exceeds the GPU's", () => {
    const gpuOnly = modelOf(deploy(LLAMA_8B, 'h100-sxm', 'fp8', 1, 1, 'none'));
    const streams = 2000 * FRONTEND_MS_PER_SEQ;
    // One sequence: the GPU's time; 2,000 short sequences: 2,000 x the per-sequence front end.
    expect(h100Fp8.stepMs(decode(1, 100))).toBe(gpuOnly.stepMs(decode(1, 100)));
    expect(h100Fp8.stepMs(decode(2000, 10))).toBeCloseTo(streams, 6);
    expect(gpuOnly.stepMs(decode(2000, 10))).toBeLessThan(streams);
    // The intake of new requests is the engine's to share (frontend-intake.ts), not a step term.
    expect(h100Fp8.frontend).toEqual({ intakeMs: FRONTEND_INTAKE_MS, msPerSeq: FRONTEND_MS_PER_SEQ });
    expect(gpuOnly.frontend).toBeUndefined();
  });

  it('scales prefill time with the uncached tokens', () => {
    // Compute-bound sizes: twice the tokens cost about twice the time (attention adds a little).
    const ratio = h100Fp8.stepMs(prefill(8192)) / h100Fp8.stepMs(prefill(4096));
    expect(ratio).toBeGreaterThan(2);
    expect(ratio).toBeLessThan(2.15);
    // A prefix hit of half the prompt leaves half the tokens to compute, over the cached half.
    const hit = h100Fp8.stepMs(prefill(4096, 4096));
    const miss = h100Fp8.stepMs(prefill(8192));
    expect(hit / miss).toBeGreaterThan(0.5);
    expect(hit / miss).toBeLessThan(0.6);
    let previous = 0;
    for (let tokens = 16; tokens <= 16_384; tokens *= 2) {
      const ms = h100Fp8.stepMs(prefill(tokens));
      expect(ms).toBeGreaterThan(previous);
      previous = ms;
    }
  });

  it('adds the PCIe transfer of KV loaded from the host tier', () => {
    const deployment = deploy(LLAMA_8B, 'h100-sxm', 'fp8', 1);
    const model = modelOf(deployment);
    const work = decode(16, 1000);
    const loaded: StepWork = { ...work, hostLoadTokens: 10_000 };
    // 10,000 tokens x 64 KiB over a 64 GB/s PCIe Gen5 x16 link = 10.24 ms.
    expect(deployment.kvBytesPerToken).toBe(65_536);
    expect(deployment.hostLinkBytesPerS).toBe(64e9);
    expect(model.stepMs(loaded) - model.stepMs(work)).toBeCloseTo(10.24, 9);
  });

  it('adds the read of KV loaded from the disk tier, at the slower of the drive and the host link, plus a read latency per request', () => {
    const deployment = deploy(LLAMA_8B, 'h100-sxm', 'fp8', 1);
    const model = modelOf(deployment);
    const work = decode(16, 1000);
    // 10,000 tokens x 64 KiB at the Micron 9550's 14 GB/s = 46.811428… ms; two requests, 60 µs each.
    const disk: StepWork = { ...work, diskLoadTokens: 10_000, diskLoadRequests: 2 };
    expect(model.stepMs(disk) - model.stepMs(work)).toBeCloseTo((655_360_000 / 14e9) * 1000 + 0.12, 9);
    // Host and disk loads add up: KVBM onboards them one after the other.
    const both: StepWork = { ...disk, hostLoadTokens: 10_000 };
    expect(model.stepMs(both) - model.stepMs(disk)).toBeCloseTo(10.24, 9);
    // Behind a host link slower than the drive (a hypothetical 7 GB/s), the link sets the pace.
    const slowLink = { ...deployment.roofline, hostLinkBytesPerS: 7e9 };
    const held = createRooflinePerfModel(slowLink);
    expect(held.stepMs(disk) - held.stepMs(work)).toBeCloseTo((655_360_000 / 7e9) * 1000 + 0.12, 9);
  });

  it('charges a step that only loads from disk its fixed overhead and the read', () => {
    const deployment = deploy(LLAMA_8B, 'h100-sxm', 'fp8', 1);
    const idle = { decodeSeqs: 0, decodeContextTokens: 0, prefillChunks: [], hostLoadTokens: 0 };
    const ms = modelOf(deployment).stepMs({ ...idle, diskLoadTokens: 16, diskLoadRequests: 1 });
    expect(ms).toBeCloseTo(deployment.roofline.fixedStepOverheadMs + ((16 * 65_536) / 14e9) * 1000 + 0.06, 9);
  });
});
