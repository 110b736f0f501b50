import { describe, expect, it } from 'vitest';
import {
  DeploymentError,
  describeDeployment,
  formatProfileList,
  listModelProfiles,
  resolveDeployment,
} from '../../src/catalog/deployment.js';
import type { DeploymentOptions } from '../../src/catalog/deployment.js';
import { GPU_KEYS } from '../../src/catalog/gpus.js';
import { kvBytesPerTokenPerGpu } from '../../src/catalog/model-sizing.js';
import { MODELS, MODEL_NAMES, findModel } from '../../src/catalog/models.js';
import { PRECISIONS } from '../../src/catalog/precisions.js';
import { enumerateProfiles } from '../../src/catalog/profiles.js';

const LLAMA_8B = 'meta/llama-3.1-8b-instruct';
const LLAMA_70B = 'meta/llama-3.3-70b-instruct';
const LLAMA_405B = 'meta/llama-3.1-405b-instruct';

function options(overrides: Partial<DeploymentOptions> = {}): DeploymentOptions {
  return {
    modelName: LLAMA_8B,
    gpu: 'h100-sxm',
    gpuCount: 1,
    gpuMemoryUtilization: 0.9,
    kvBlockSize: 16,
    ...overrides,
  };
}

function errorOf(overrides: Partial<DeploymentOptions>): DeploymentError {
  try {
    resolveDeployment(options(overrides));
  } catch (error) {
    if (error instanceof DeploymentError) return error;
    throw error;
  }
  throw new Error('resolveDeployment did not throw');
}

function reasonFor(
  modelName: string,
  gpu: string,
  gpuCount: number,
  profileName: string,
): string | undefined {
  const listing = listModelProfiles(modelName, gpu, gpuCount);
  if (listing.compatible.some((p) => p.name === profileName)) return undefined;
  const entry = listing.incompatible.find((e) => e.profile.name === profileName);
  if (!entry) throw new Error(`no profile ${profileName}`);
  return entry.reason;
}

describe('model profiles', () => {
  it('gives every profile a 64-hex id that is unique and stable across calls', () => {
    for (const name of MODEL_NAMES) {
      const model = MODELS[name];
      if (!model) throw new Error(name);
      const first = enumerateProfiles(model);
      const second = enumerateProfiles(model);
      expect(second.map((p) => p.id)).toEqual(first.map((p) => p.id));
      for (const profile of first) expect(profile.id).toMatch(/^[0-9a-f]{64}$/);
      expect(new Set(first.map((p) => p.id)).size).toBe(first.length);
    }
  });

  it('names profiles in NIM styles', () => {
    const names = listModelProfiles(LLAMA_8B, 'h100-sxm', 2).compatible.map((p) => p.name);
    expect(names).toEqual([
      'tensorrt_llm-h100-bf16-tp1-pp1-throughput',
      'tensorrt_llm-h100-bf16-tp2-pp1-latency',
      'tensorrt_llm-h100-fp8-tp1-pp1-throughput',
      'tensorrt_llm-h100-fp8-tp2-pp1-latency',
      'vllm-bf16-tp1-pp1',
      'vllm-bf16-tp2-pp1',
      'vllm-fp16-tp1-pp1',
      'vllm-fp16-tp2-pp1',
      'vllm-fp8-tp1-pp1',
      'vllm-fp8-tp2-pp1',
      'vllm-int4_awq-tp1-pp1',
      'vllm-int4_awq-tp2-pp1',
    ]);
  });

  it('marks FP8 incompatible on A100', () => {
    expect(reasonFor(LLAMA_8B, 'a100-80gb', 1, 'vllm-fp8-tp1-pp1')).toBe(
      'fp8 needs an Ada, Hopper or Blackwell GPU (l40s, h100-sxm, h200, b200, gb200)',
    );
    expect(reasonFor(LLAMA_8B, 'l40s', 1, 'vllm-fp8-tp1-pp1')).toBeUndefined();
  });

  it('runs NVFP4 only on B200 and GB200', () => {
    for (const gpu of GPU_KEYS) {
      const reason = reasonFor(LLAMA_8B, gpu, 1, 'vllm-nvfp4-tp1-pp1');
      if (gpu === 'b200' || gpu === 'gb200') expect(reason).toBeUndefined();
      else expect(reason).toBe('nvfp4 needs a Blackwell GPU (b200, gb200)');
    }
  });

  it('marks 405B BF16 incompatible on one H100 because the weights do not fit', () => {
    expect(reasonFor(LLAMA_405B, 'h100-sxm', 1, 'vllm-bf16-tp1-pp1')).toBe(
      'bf16 weights need 813.7 GB per GPU at tp1 (with activations), more than the 77.0 GB usable on h100-sxm',
    );
  });

  it('marks engines built for another GPU and TPs beyond the GPU count incompatible', () => {
    expect(reasonFor(LLAMA_8B, 'h100-sxm', 1, 'tensorrt_llm-a100-bf16-tp1-pp1-throughput')).toBe(
      'the engine is built for a100-80gb, not h100-sxm',
    );
    expect(reasonFor(LLAMA_8B, 'h100-sxm', 1, 'vllm-fp8-tp2-pp1')).toBe('tp2 needs 2 GPUs, the system has 1');
  });

  it('lists every profile once, compatible or not', () => {
    const model = findModel(LLAMA_8B);
    if (!model) throw new Error(LLAMA_8B);
    const listing = listModelProfiles(LLAMA_8B, 'h100-sxm', 1);
    expect(listing.compatible.length + listing.incompatible.length).toBe(enumerateProfiles(model).length);
  });

  it('prints the list like NIM list-model-profiles', () => {
    const listing = listModelProfiles(LLAMA_8B, 'h100-sxm', 2);
    const lines = formatProfileList(listing).split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'SYSTEM INFO',
      '- Free GPUs:',
      '  -  [2330:10de] (0) NVIDIA H100 80GB HBM3 (h100-sxm) [current utilization: 0%]',
      '  -  [2330:10de] (1) NVIDIA H100 80GB HBM3 (h100-sxm) [current utilization: 0%]',
    ]);
    expect(lines[4]).toBe('MODEL PROFILES');
    expect(lines[5]).toBe('- Compatible with system and runnable:');
    const incompatibleAt = lines.indexOf('- Incompatible with system:');
    expect(incompatibleAt).toBe(6 + listing.compatible.length);
    const profileLines = lines.filter((line) => /^ {2}- [0-9a-f]{64} \(\S+\)$/.test(line));
    expect(profileLines.length).toBe(listing.compatible.length + listing.incompatible.length);
    expect(lines[6]).toBe(`  - ${listing.compatible[0]?.id} (${listing.compatible[0]?.name})`);
  });
});

describe('default profile selection', () => {
  const cases: readonly (readonly [model: string, gpu: string, gpus: number, profile: string])[] = [
    [LLAMA_8B, 'h100-sxm', 1, 'tensorrt_llm-h100-fp8-tp1-pp1-throughput'],
    [LLAMA_8B, 'h100-sxm', 8, 'tensorrt_llm-h100-fp8-tp1-pp1-throughput'],
    [LLAMA_8B, 'a100-80gb', 1, 'tensorrt_llm-a100-bf16-tp1-pp1-throughput'],
    [LLAMA_8B, 'l40s', 1, 'tensorrt_llm-l40s-fp8-tp1-pp1-throughput'],
    [LLAMA_8B, 'b200', 1, 'tensorrt_llm-b200-nvfp4-tp1-pp1-throughput'],
    [LLAMA_70B, 'h100-sxm', 4, 'tensorrt_llm-h100-fp8-tp2-pp1-throughput'],
    [LLAMA_70B, 'h200', 1, 'tensorrt_llm-h200-fp8-tp1-pp1-throughput'],
    [LLAMA_405B, 'h100-sxm', 8, 'tensorrt_llm-h100-fp8-tp8-pp1-throughput'],
    ['deepseek-ai/deepseek-r1', 'h200', 8, 'tensorrt_llm-h200-fp8-tp8-pp1-throughput'],
  ];
  for (const [modelName, gpu, gpuCount, profile] of cases) {
    it(`picks ${profile} for ${modelName} on ${gpuCount} x ${gpu}`, () => {
      expect(resolveDeployment(options({ modelName, gpu, gpuCount })).profile.name).toBe(profile);
    });
  }

  it('picks the compatible profile with the requested precision and TP', () => {
    expect(resolveDeployment(options({ precision: 'bf16' })).profile.name).toBe(
      'tensorrt_llm-h100-bf16-tp1-pp1-throughput',
    );
    expect(resolveDeployment(options({ precision: 'fp8', tp: 2, gpuCount: 2 })).profile.name).toBe(
      'tensorrt_llm-h100-fp8-tp2-pp1-latency',
    );
    expect(resolveDeployment(options({ precision: 'int4_awq' })).profile.name).toBe('vllm-int4_awq-tp1-pp1');
  });

  it('selects a profile by name or by id and reports it for /v1/metadata', () => {
    const byName = resolveDeployment(options({ profile: 'vllm-fp8-tp1-pp1' }));
    const byId = resolveDeployment(options({ profile: byName.profile.id }));
    expect(byId.profile).toEqual(byName.profile);
    expect(describeDeployment(byId)).toEqual({
      selectedModelProfileId: byName.profile.id,
      profileName: 'vllm-fp8-tp1-pp1',
      gpu: 'h100-sxm',
      gpuCount: 1,
      precision: 'fp8',
      tp: 1,
    });
  });
});

describe('resolveDeployment errors', () => {
  const cases: readonly (readonly [
    overrides: Partial<DeploymentOptions>,
    setting: string,
    message: string,
  ])[] = [
    [
      { profile: 'vllm-nvfp4-tp1-pp1' },
      'NIM_MODEL_PROFILE',
      'NIM_MODEL_PROFILE=vllm-nvfp4-tp1-pp1: profile vllm-nvfp4-tp1-pp1 is incompatible with 1 x h100-sxm: nvfp4 needs a Blackwell GPU (b200, gb200)',
    ],
    [
      { gpu: 'x' },
      'NIMSIM_GPU',
      'NIMSIM_GPU=x: unknown GPU; allowed: a100-80gb, l40s, h100-sxm, h200, b200, gb200',
    ],
    [
      { modelName: 'acme/nope' },
      'NIM_MODEL_NAME',
      `NIM_MODEL_NAME=acme/nope: unknown model; allowed: the ${MODEL_NAMES.length} models --help lists`,
    ],
    [
      { precision: 'fp7' },
      'NIMSIM_PRECISION',
      'NIMSIM_PRECISION=fp7: unknown precision; allowed: bf16, fp16, fp8, nvfp4, int4_awq',
    ],
    [
      { tp: 3, gpuCount: 4 },
      'NIMSIM_TP',
      'NIMSIM_TP=3: meta/llama-3.1-8b-instruct has no tp3 profile; allowed: 1, 2, 4, 8',
    ],
    [
      { precision: 'fp8', gpu: 'a100-80gb' },
      'NIMSIM_PRECISION',
      'NIMSIM_PRECISION=fp8: no fp8 profile of meta/llama-3.1-8b-instruct runs on 1 x a100-80gb: fp8 needs an Ada, Hopper or Blackwell GPU (l40s, h100-sxm, h200, b200, gb200)',
    ],
    [
      { modelName: LLAMA_405B },
      'NIMSIM_GPUS',
      'NIMSIM_GPUS=1: meta/llama-3.1-405b-instruct does not fit on 1 x h100-sxm; it needs 8 GPUs (tensorrt_llm-h100-fp8-tp8-pp1-throughput)',
    ],
    [
      { maxModelLen: 200_000 },
      'NIM_MAX_MODEL_LEN',
      'NIM_MAX_MODEL_LEN=200000: exceeds the context length of meta/llama-3.1-8b-instruct (131072)',
    ],
    [
      { profile: 'nope' },
      'NIM_MODEL_PROFILE',
      expect.stringMatching(/^NIM_MODEL_PROFILE=nope: no such profile of meta\/llama-3\.1-8b-instruct; /),
    ],
    [{ gpuCount: 0 }, 'NIMSIM_GPUS', 'NIMSIM_GPUS=0: must be an integer ≥ 1'],
    [{ kvCacheBlocks: -5 }, 'NIMSIM_KV_CACHE_BLOCKS', 'NIMSIM_KV_CACHE_BLOCKS=-5: must be an integer ≥ 1'],
  ];
  for (const [overrides, setting, message] of cases) {
    it(`names ${setting} in one line for ${JSON.stringify(overrides)}`, () => {
      const error = errorOf(overrides);
      expect(error.setting).toBe(setting);
      expect(error.message).toEqual(message);
      expect(error.message.includes('\n')).toBe(false);
    });
  }
});

describe('KV capacity', () => {
  it('holds about 950k tokens for 8B FP8 on one H100 at 0.9 utilisation (docs/performance-model.md#kv-memory)', () => {
    const deployment = resolveDeployment(options({ precision: 'fp8' }));
    const tokens = deployment.kvCacheBlocks * deployment.kvBlockSize;
    expect(Math.abs(tokens / 950_000 - 1)).toBeLessThanOrEqual(0.15);
  });

  it('uses the NIMSIM_KV_CACHE_BLOCKS override instead of the memory-derived capacity', () => {
    expect(resolveDeployment(options({ kvCacheBlocks: 1234 })).kvCacheBlocks).toBe(1234);
    // The override also lifts the rule that one max-length sequence must fit in memory-derived KV.
    expect(resolveDeployment(options({ kvCacheBlocks: 8 })).maxModelLen).toBe(131072);
  });

  it('sizes KV per token from the architecture (docs/performance-model.md#kv-memory)', () => {
    const bf16 = PRECISIONS.bf16;
    const size = (name: string, tp = 1): number => {
      const model = findModel(name);
      if (!model) throw new Error(name);
      return kvBytesPerTokenPerGpu(model, bf16, tp);
    };
    expect(size(LLAMA_8B)).toBe(131_072);
    expect(size(LLAMA_70B)).toBe(327_680);
    expect(size(LLAMA_70B, 2)).toBe(163_840);
    expect(size(LLAMA_405B)).toBe(516_096);
    expect(size('deepseek-ai/deepseek-r1')).toBe(70_272);
    expect(size('deepseek-ai/deepseek-r1', 8)).toBe(70_272);
    expect(size('openai/gpt-oss-120b')).toBe(73_728);
  });

  it('keeps mixture-of-experts parameter counts consistent', () => {
    for (const model of Object.values(MODELS)) {
      if (!model.moe) continue;
      const { numExperts, expertsPerToken, paramsPerExpert, sharedParams } = model.moe;
      expect(sharedParams + numExperts * paramsPerExpert).toBe(model.totalParams);
      const active = sharedParams + expertsPerToken * paramsPerExpert;
      expect(Math.abs(active / model.activeParams - 1)).toBeLessThan(0.03);
    }
  });
});
