/**
 * LoRA's cost on the roofline (docs/lora.md#timing): 2 FLOPs per adapter parameter per token and
 * each distinct adapter's weights read once per step; and the adapter sizes behind those counts.
 */
import { describe, expect, it } from 'vitest';
import { loraParamsPerRank, mlpWidth, resolveTargetModules } from '../../src/catalog/lora-shapes.js';
import { findModel } from '../../src/catalog/models.js';
import type { StepWork } from '../../src/engine/perf-model.js';
import { createRooflinePerfModel } from '../../src/engine/roofline.js';
import { deploymentUnderTest } from '../helpers/engine-under-test.js';

const LLAMA_8B = findModel('meta/llama-3.1-8b-instruct')!;

const perf = createRooflinePerfModel(
  deploymentUnderTest({ modelName: LLAMA_8B.name, precision: 'bf16' }).roofline,
);

const decode = (seqs: number): StepWork => ({
  decodeSeqs: seqs,
  decodeContextTokens: seqs * 1000,
  prefillChunks: [],
  hostLoadTokens: 0,
});
const prefill = (tokens: number): StepWork => ({
  decodeSeqs: 0,
  decodeContextTokens: 0,
  prefillChunks: [{ tokens, contextTokens: 0 }],
  hostLoadTokens: 0,
});

describe('LoRA adapter sizes', () => {
  it("derives Llama 3.1 8B's MLP width (14336) within a unit from its parameter count", () => {
    expect(Math.abs(mlpWidth(LLAMA_8B) - 14336)).toBeLessThanOrEqual(1);
  });

  it('counts rank × (d_in + d_out) per adapted module and layer', () => {
    // q_proj 4096→4096 and v_proj 4096→1024, 32 layers.
    expect(loraParamsPerRank(LLAMA_8B, ['q_proj', 'v_proj'])).toBe(32 * (8192 + 5120));
    expect(loraParamsPerRank(LLAMA_8B, ['q_proj', 'q_proj'])).toBe(32 * 8192);
  });

  it("reads target_modules as PEFT does: a list, 'all-linear', a regex; q_proj and v_proj by default", () => {
    expect(resolveTargetModules(undefined)).toEqual(['q_proj', 'v_proj']);
    expect(resolveTargetModules(['o_proj', 'lm_head'])).toEqual(['o_proj']);
    expect(resolveTargetModules('all-linear')).toHaveLength(7);
    expect(resolveTargetModules('.*\\.(k_proj|down_proj)')).toEqual(['k_proj', 'down_proj']);
    expect(resolveTargetModules('(')).toEqual(['q_proj', 'v_proj']);
  });
});

describe('LoRA on the roofline', () => {
  it('adds nothing to a step without LoRA fields, and nothing for zero LoRA tokens', () => {
    const w = decode(32);
    expect(perf.stepMs({ ...w, loraTokenParams: 0, loraAdapterParams: 0 })).toBe(perf.stepMs(w));
  });

  it('makes a compute-bound prefill slower by 2 FLOPs per adapter parameter per token', () => {
    const params = 16 * loraParamsPerRank(LLAMA_8B, resolveTargetModules('all-linear'));
    const base = perf.stepMs(prefill(4096));
    const withLora = perf.stepMs({
      ...prefill(4096),
      loraTokenParams: 4096 * params,
      loraAdapterParams: params,
    });
    // A rank-16 adapter on every linear layer is ~0.5% of the model's 8B parameters.
    expect(withLora / base).toBeGreaterThan(1.002);
    expect(withLora / base).toBeLessThan(1.01);
  });

  it('makes a bandwidth-bound decode slower by the distinct adapters it reads, not by the tokens', () => {
    const params = 16 * loraParamsPerRank(LLAMA_8B, resolveTargetModules('all-linear'));
    const w = decode(8);
    const one = perf.stepMs({ ...w, loraTokenParams: 8 * params, loraAdapterParams: params });
    const eight = perf.stepMs({ ...w, loraTokenParams: 8 * params, loraAdapterParams: 8 * params });
    expect(one).toBeGreaterThan(perf.stepMs(w));
    expect(eight).toBeGreaterThan(one);
  });
});
