/**
 * NIM model profiles: the (runtime, GPU, precision, tensor-parallel) builds a model ships in, named
 * in NIM's styles and identified by a stable 64-hex id; whether a profile runs on the simulated
 * system; and NIM's automatic choice among the ones that do.
 *
 * The profile set is simulated, not copied from NGC manifests: for every catalog GPU and precision
 * the GPU supports, a GPU-specific `tensorrt_llm-<gpu>-<precision>-tp<N>-pp1-throughput` profile at
 * the smallest TP that fits and a `-latency` one at twice that TP (NIM's optimization page: latency
 * variants "use additional GPUs"), plus generic `vllm-<precision>-tp<N>-pp1` profiles for
 * N = 1, 2, 4, 8 that run on any GPU with enough memory (docs/nim-api.md#profiles).
 */
import { createHash } from 'node:crypto';
import { GPUS } from './gpus.js';
import type { GpuSpec } from './gpus.js';
import type { ModelCard } from './model-card.js';
import { kvBytesPerTokenPerGpu, weightBytesPerGpu } from './model-sizing.js';
import { PRECISIONS, precisionSupportedOn } from './precisions.js';
import type { PrecisionKey } from './precisions.js';

export type ProfileRuntime = 'tensorrt_llm' | 'vllm';
export type ProfileVariant = 'throughput' | 'latency';

export interface ModelProfile {
  /** sha256 of the canonical description, 64 lowercase hex digits. */
  readonly id: string;
  readonly name: string;
  readonly modelName: string;
  readonly runtime: ProfileRuntime;
  /** Catalog key of the GPU a `tensorrt_llm` engine was built for; undefined for generic profiles. */
  readonly gpuKey: string | undefined;
  readonly precision: PrecisionKey;
  readonly tp: number;
  readonly pp: number;
  readonly variant: ProfileVariant | undefined;
}

/** Why a profile cannot run; `kind` tells the caller which setting to blame. */
export interface Incompatibility {
  readonly kind: 'gpu' | 'precision' | 'gpu-count' | 'memory' | 'context';
  readonly reason: string;
}

export interface FitOptions {
  /** Context length that must fit in the KV cache (defaults to the model's). */
  readonly maxModelLen?: number | undefined;
  /** Fraction of GPU memory the server may use (vLLM `gpu_memory_utilization`), default 0.9. */
  readonly gpuMemoryUtilization?: number | undefined;
  /** Skip the "one max-length sequence fits in the KV cache" check (capacity is overridden). */
  readonly ignoreKvCapacity?: boolean | undefined;
}

/** Per-GPU memory plan of one model, precision and TP on one GPU type. */
export interface MemoryPlan {
  readonly weightBytesPerGpu: number;
  readonly usableBytesPerGpu: number;
  /** Bytes left for the KV cache (negative when the weights do not fit). */
  readonly kvBytesPerGpu: number;
  readonly kvBytesPerTokenPerGpu: number;
  /** Tokens the KV cache holds (0 when nothing is left). */
  readonly kvTokens: number;
}

/**
 * The default memory fraction: vLLM's `gpu_memory_utilization` (a fraction of all GPU memory) and
 * TensorRT-LLM's `kv_cache_free_gpu_mem_fraction` (a fraction of the memory left after weights and
 * activations) both default to 0.9 (docs/performance-model.md#kv-memory).
 */
export const DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;
/** Activations, CUDA graphs and workspace per GPU, bytes (an estimate, docs/performance-model.md#kv-memory). */
export const ACTIVATION_RESERVE_BYTES = 2e9;
/** Tensor-parallel sizes profiles are built for (one 8-GPU node, pipeline parallelism 1). */
export const PROFILE_TP_SIZES: readonly number[] = [1, 2, 4, 8];
/** Precisions NIM ships GPU-specific TensorRT-LLM engines in (docs/nim-api.md#profiles). */
const TRTLLM_PRECISIONS: readonly PrecisionKey[] = ['bf16', 'fp8', 'nvfp4'];
/**
 * Precision preference of the automatic choice: the fastest precision that keeps quality
 * (FP4 > FP8 > 16-bit); INT4-AWQ is lossy and only runs when asked for. See `selectDefaultProfile`.
 */
const PRECISION_RANK: Readonly<Record<PrecisionKey, number>> = {
  nvfp4: 0,
  fp8: 1,
  bf16: 2,
  fp16: 3,
  int4_awq: 4,
};

/**
 * Memory plan per GPU for `model` in `precision` at `tp` on `gpu` (docs/performance-model.md#kv-memory).
 * vLLM gives the KV cache what is left of `fraction` x memory after weights and activations;
 * TensorRT-LLM gives it `fraction` of the memory left after weights and activations.
 */
export function planMemory(
  model: ModelCard,
  precision: PrecisionKey,
  gpu: GpuSpec,
  tp: number,
  gpuMemoryUtilization: number = DEFAULT_GPU_MEMORY_UTILIZATION,
  runtime: ProfileRuntime = 'vllm',
): MemoryPlan {
  const spec = PRECISIONS[precision];
  const weights = weightBytesPerGpu(model, spec, tp);
  const usable = runtime === 'vllm' ? gpu.memoryBytes * gpuMemoryUtilization : gpu.memoryBytes;
  const left = usable - weights - ACTIVATION_RESERVE_BYTES;
  const kvBytes = runtime === 'vllm' || left <= 0 ? left : left * gpuMemoryUtilization;
  const perToken = kvBytesPerTokenPerGpu(model, spec, tp);
  return {
    weightBytesPerGpu: weights,
    usableBytesPerGpu: usable,
    kvBytesPerGpu: kvBytes,
    kvBytesPerTokenPerGpu: perToken,
    kvTokens: kvBytes > 0 ? Math.floor(kvBytes / perToken) : 0,
  };
}

/** Why the model does not fit at that precision and TP, or undefined when it does. */
function memoryMisfit(
  model: ModelCard,
  precision: PrecisionKey,
  gpu: GpuSpec,
  tp: number,
  options: FitOptions,
  runtime: ProfileRuntime,
): Incompatibility | undefined {
  const utilization = options.gpuMemoryUtilization ?? DEFAULT_GPU_MEMORY_UTILIZATION;
  const plan = planMemory(model, precision, gpu, tp, utilization, runtime);
  if (plan.kvBytesPerGpu <= 0) {
    const needGb = (plan.weightBytesPerGpu + ACTIVATION_RESERVE_BYTES) / 1e9;
    return {
      kind: 'memory',
      reason:
        `${precision} weights need ${needGb.toFixed(1)} GB per GPU at tp${tp} (with activations), ` +
        `more than the ${(plan.usableBytesPerGpu / 1e9).toFixed(1)} GB usable on ${gpu.key}`,
    };
  }
  const maxModelLen = options.maxModelLen ?? model.maxModelLen;
  if (!options.ignoreKvCapacity && plan.kvTokens < maxModelLen) {
    return {
      kind: 'context',
      reason: `the KV cache left at tp${tp} holds ${plan.kvTokens} tokens, less than max_model_len ${maxModelLen}`,
    };
  }
  return undefined;
}

function profileId(model: ModelCard, name: string): string {
  // Canonical description: model and profile name (the name encodes runtime, GPU, precision, TP, PP, variant).
  return createHash('sha256').update(`nimsim-profile\n${model.name}\n${name}`).digest('hex');
}

function makeProfile(
  model: ModelCard,
  runtime: ProfileRuntime,
  gpu: GpuSpec | undefined,
  precision: PrecisionKey,
  tp: number,
  variant: ProfileVariant | undefined,
): ModelProfile {
  const name =
    runtime === 'tensorrt_llm'
      ? `tensorrt_llm-${gpu?.profileToken ?? 'unknown'}-${precision}-tp${tp}-pp1-${variant ?? 'throughput'}`
      : `vllm-${precision}-tp${tp}-pp1`;
  return {
    id: profileId(model, name),
    name,
    modelName: model.name,
    runtime,
    gpuKey: gpu?.key,
    precision,
    tp,
    pp: 1,
    variant,
  };
}

/** Every profile of `model`, GPU-specific engines first (catalog GPU order), then generic ones. */
export function enumerateProfiles(model: ModelCard): readonly ModelProfile[] {
  const profiles: ModelProfile[] = [];
  for (const gpu of Object.values(GPUS)) {
    for (const precision of model.precisions) {
      if (!TRTLLM_PRECISIONS.includes(precision)) continue;
      if (!precisionSupportedOn(PRECISIONS[precision], gpu.architecture)) continue;
      const tp = PROFILE_TP_SIZES.find(
        (size) => memoryMisfit(model, precision, gpu, size, {}, 'tensorrt_llm') === undefined,
      );
      if (tp === undefined) continue;
      profiles.push(makeProfile(model, 'tensorrt_llm', gpu, precision, tp, 'throughput'));
      if (PROFILE_TP_SIZES.includes(tp * 2)) {
        profiles.push(makeProfile(model, 'tensorrt_llm', gpu, precision, tp * 2, 'latency'));
      }
    }
  }
  for (const precision of model.precisions) {
    for (const tp of PROFILE_TP_SIZES)
      profiles.push(makeProfile(model, 'vllm', undefined, precision, tp, undefined));
  }
  return profiles;
}

/** Why `profile` cannot run on `gpuCount` x `gpu`, or undefined when it can. */
export function checkCompatibility(
  model: ModelCard,
  profile: ModelProfile,
  gpu: GpuSpec,
  gpuCount: number,
  options: FitOptions = {},
): Incompatibility | undefined {
  if (profile.gpuKey !== undefined && profile.gpuKey !== gpu.key) {
    return { kind: 'gpu', reason: `the engine is built for ${profile.gpuKey}, not ${gpu.key}` };
  }
  const precision = PRECISIONS[profile.precision];
  if (!precisionSupportedOn(precision, gpu.architecture)) {
    return { kind: 'precision', reason: `${profile.precision} needs ${precision.requirement}` };
  }
  if (profile.tp * profile.pp > gpuCount) {
    return {
      kind: 'gpu-count',
      reason: `tp${profile.tp} needs ${profile.tp * profile.pp} GPUs, the system has ${gpuCount}`,
    };
  }
  return memoryMisfit(model, profile.precision, gpu, profile.tp, options, profile.runtime);
}

/** Sort key of NIM's automatic choice: lower is preferred. */
export function compareProfilePreference(a: ModelProfile, b: ModelProfile): number {
  return (
    runtimeRank(a) - runtimeRank(b) ||
    PRECISION_RANK[a.precision] - PRECISION_RANK[b.precision] ||
    a.tp - b.tp ||
    variantRank(a) - variantRank(b)
  );
}

function runtimeRank(profile: ModelProfile): number {
  return profile.runtime === 'tensorrt_llm' ? 0 : 1;
}

function variantRank(profile: ModelProfile): number {
  return profile.variant === 'latency' ? 1 : 0;
}

/**
 * NIM's automatic selection, as documented for 1.x ("optimized profiles are preferred over generic
 * profiles when available"; throughput variants use the minimum GPUs): among compatible profiles,
 * a GPU-optimized `tensorrt_llm` engine before a generic `vllm` one, then the fastest precision that
 * keeps quality (nvfp4, fp8, bf16, fp16; int4_awq only on request), then the smallest TP that fits,
 * then the throughput variant. Undefined when nothing fits. `includeInt4Awq` admits INT4-AWQ profiles
 * (for an explicit `--precision int4_awq`).
 */
export function selectDefaultProfile(
  candidates: readonly ModelProfile[],
  isCompatible: (profile: ModelProfile) => boolean,
  options: { readonly includeInt4Awq?: boolean } = {},
): ModelProfile | undefined {
  let best: ModelProfile | undefined;
  for (const profile of candidates) {
    if ((profile.precision === 'int4_awq' && !options.includeInt4Awq) || !isCompatible(profile)) continue;
    if (best === undefined || compareProfilePreference(profile, best) < 0) best = profile;
  }
  return best;
}
