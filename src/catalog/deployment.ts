/**
 * Resolves the settings (model, GPU, GPU count, profile or precision/TP shortcut, memory) into one
 * Deployment: the model card, the GPU, the chosen NIM profile, the KV capacity in blocks and the
 * roofline spec the engine's performance model runs on. Bad settings throw a DeploymentError whose
 * message is one line naming the setting.
 */
import { unknownValue } from '../config/setting-names.js';
import type { RooflineSpec } from '../engine/roofline.js';
import { GPU_KEYS, findGpu } from './gpus.js';
import type { ComputeDtype, GpuSpec } from './gpus.js';
import { currentEfficiency } from './efficiency.js';
import { allReducePaths } from './all-reduce.js';
import { DEFAULT_NVME_DEVICE, NVME_DEVICE_KEYS, findNvmeDevice } from './nvme-devices.js';
import type { NvmeDeviceSpec } from './nvme-devices.js';
import type { ModelCard } from './model-card.js';
import {
  embeddingParams,
  expertBytesPerGpu,
  expertParamsPerToken,
  matmulParamsPerToken,
  streamedWeightBytesPerGpu,
} from './model-sizing.js';
import { MODEL_NAMES, findModel } from './models.js';
import { PRECISIONS, PRECISION_KEYS, isPrecisionKey } from './precisions.js';
import type { PrecisionSpec } from './precisions.js';
import { DeploymentError, chooseProfile } from './profile-choice.js';
import { checkCompatibility, enumerateProfiles, planMemory } from './profiles.js';
import type { FitOptions, ModelProfile } from './profiles.js';

export { DeploymentError } from './profile-choice.js';

/** Serving front ends: NIM's HTTP/streaming stage, or none (a benchmark driving the engine in-process). */
export type Frontend = 'nim' | 'none';
export const FRONTENDS: readonly Frontend[] = ['nim', 'none'];

/**
 * How the runtime admits requests into its running batch: vLLM's (admit on the prompt's blocks,
 * preempt the newest when blocks run out) or TensorRT-LLM's default GUARANTEED_NO_EVICT (admit only
 * when the whole request, prompt and output, fits beside what the running requests will need; never
 * preempt), `SchedulerConfig.capacity_scheduler_policy` in tensorrt_llm/llmapi/llm_args.py.
 */
export type CapacityPolicy = 'vllm' | 'guaranteed-no-evict';

export interface DeploymentOptions {
  modelName: string;
  gpu: string;
  gpuCount: number;
  profile?: string | undefined;
  precision?: string | undefined;
  tp?: number | undefined;
  maxModelLen?: number | undefined;
  gpuMemoryUtilization: number;
  kvBlockSize: number;
  kvCacheBlocks?: number | undefined;
  /** The serving front end: its streaming overlaps each step, its intake precedes queueing (default `nim`). */
  frontend?: Frontend | undefined;
  /** The local-disk KV tier's drive, an nvme-devices.ts key (NIMSIM_KV_DISK; default micron-9550). */
  kvDisk?: string | undefined;
}

export interface Deployment {
  readonly model: ModelCard;
  readonly gpu: GpuSpec;
  readonly gpuCount: number;
  readonly precision: PrecisionSpec;
  readonly tp: number;
  readonly profile: { readonly id: string; readonly name: string };
  /** Context length in tokens (prompt + output). */
  readonly maxModelLen: number;
  /** KV-cache bytes per token on one GPU. */
  readonly kvBytesPerToken: number;
  readonly kvBlockSize: number;
  /** GPU KV capacity in blocks of `kvBlockSize` tokens (the override when one is set). */
  readonly kvCacheBlocks: number;
  /** Host (CPU) to GPU bandwidth per GPU, bytes/s, for the host KV tier. */
  readonly hostLinkBytesPerS: number;
  /** The drive under the local-disk KV tier (used when NIMSIM_KV_DISK_CACHE_BLOCKS > 0). */
  readonly kvDisk: NvmeDeviceSpec;
  readonly roofline: RooflineSpec;
  /** The runtime's admission policy (TensorRT-LLM profiles: guaranteed-no-evict). */
  readonly capacityPolicy: CapacityPolicy;
}

export interface ProfileListing {
  readonly model: ModelCard;
  readonly gpu: GpuSpec;
  readonly gpuCount: number;
  readonly compatible: readonly ModelProfile[];
  readonly incompatible: readonly { readonly profile: ModelProfile; readonly reason: string }[];
}

function requireModel(name: string): ModelCard {
  const model = findModel(name);
  if (!model)
    throw new DeploymentError('NIM_MODEL_NAME', name, unknownValue('model', name, MODEL_NAMES, 'models'));
  return model;
}

function requireGpu(key: string): GpuSpec {
  const gpu = findGpu(key);
  if (!gpu) throw new DeploymentError('NIMSIM_GPU', key, unknownValue('GPU', key, GPU_KEYS, 'GPUs'));
  return gpu;
}

function requireNvme(key: string): NvmeDeviceSpec {
  const device = findNvmeDevice(key);
  if (!device)
    throw new DeploymentError(
      'NIMSIM_KV_DISK',
      key,
      unknownValue('NVMe drive', key, NVME_DEVICE_KEYS, 'drives'),
    );
  return device;
}

function requirePositiveInteger(setting: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new DeploymentError(setting, value, 'must be an integer ≥ 1');
  }
}

/** Every profile of the model, split into runnable and not on `gpuCount` x `gpu`, with reasons. */
export function listModelProfiles(
  modelName: string,
  gpuKey: string,
  gpuCount: number,
  options: FitOptions = {},
): ProfileListing {
  const model = requireModel(modelName);
  const gpu = requireGpu(gpuKey);
  requirePositiveInteger('NIMSIM_GPUS', gpuCount);
  const compatible: ModelProfile[] = [];
  const incompatible: { profile: ModelProfile; reason: string }[] = [];
  for (const profile of enumerateProfiles(model)) {
    const misfit = checkCompatibility(model, profile, gpu, gpuCount, options);
    if (misfit) incompatible.push({ profile, reason: misfit.reason });
    else compatible.push(profile);
  }
  return { model, gpu, gpuCount, compatible, incompatible };
}

/**
 * Text in the shape of NIM's `list-model-profiles`: SYSTEM INFO with the simulated GPUs, then the
 * compatible and incompatible profiles as `  - <id> (<name>)`. `withReasons` appends why each
 * incompatible profile cannot run.
 */
export function formatProfileList(listing: ProfileListing, withReasons = false): string {
  const lines = ['SYSTEM INFO', '- Free GPUs:'];
  for (let index = 0; index < listing.gpuCount; index += 1) {
    const gpu = listing.gpu;
    lines.push(`  -  [${gpu.pciId}] (${index}) ${gpu.displayName} (${gpu.key}) [current utilization: 0%]`);
  }
  lines.push('MODEL PROFILES', '- Compatible with system and runnable:');
  if (listing.compatible.length === 0) lines.push('  <None>');
  for (const profile of listing.compatible) lines.push(`  - ${profile.id} (${profile.name})`);
  lines.push('- Incompatible with system:');
  if (listing.incompatible.length === 0) lines.push('  <None>');
  for (const { profile, reason } of listing.incompatible) {
    lines.push(`  - ${profile.id} (${profile.name})${withReasons ? `: ${reason}` : ''}`);
  }
  return lines.join('\n');
}

/**
 * The dtypes a deployment's matmuls and attention run in. A checkpoint with MXFP4 experts (gpt-oss)
 * keeps its other layers in BF16, and TensorRT-LLM runs the experts as W4A8_MXFP4_MXFP8 (FP8 tensor
 * cores) on Blackwell and W4A16_MXFP4 (BF16) on Hopper and older ("Using the MXFP4 Checkpoints",
 * docs/source/blogs/tech_blog/blog9_Deploying_GPT_OSS_on_TRTLLM.md in
 * https://github.com/NVIDIA/TensorRT-LLM). Attention runs in the KV cache's type: FP8 attention
 * kernels over an FP8 cache, 16-bit over a 16-bit one; no engine has FP4 attention.
 */
export function computeDtypes(
  model: ModelCard,
  gpu: GpuSpec,
  precision: PrecisionSpec,
): { readonly matmul: ComputeDtype; readonly experts: ComputeDtype; readonly attention: ComputeDtype } {
  const sixteenBit: ComputeDtype = precision.computeDtype === 'fp16' ? 'fp16' : 'bf16';
  const attention: ComputeDtype = precision.kvBytesPerElement === 1 ? 'fp8' : sixteenBit;
  if (!model.moe?.mxfp4Experts) {
    return { matmul: precision.computeDtype, experts: precision.computeDtype, attention };
  }
  return { matmul: 'bf16', experts: gpu.architecture === 'blackwell' ? 'fp8' : 'bf16', attention };
}

function buildRoofline(
  model: ModelCard,
  gpu: GpuSpec,
  precision: PrecisionSpec,
  tp: number,
  frontend: Frontend,
  disk: NvmeDeviceSpec,
): RooflineSpec {
  const eff = currentEfficiency();
  const dtypes = computeDtypes(model, gpu, precision);
  // Achieved FLOP/s of a dtype on this GPU: its dense peak times the MFU fitted for it (efficiency.ts).
  const achieved = (dtype: ComputeDtype) =>
    (gpu.denseFlops[dtype] ?? 0) * (eff.mfu[gpu.architecture][dtype] ?? 0);
  const plan = planMemory(model, precision.key, gpu, tp);
  // One-shot for small messages, NCCL's ring for large ones (all-reduce.ts; constants in efficiency.ts).
  const allReduce = allReducePaths(tp, gpu.allReduceLink, gpu.allReduceBytesPerS, eff);
  return {
    numLayers: model.numLayers,
    hiddenSize: model.hiddenSize,
    numAttentionHeads: model.numAttentionHeads,
    attnQkHeadDim: model.attnQkHeadDim,
    attnVHeadDim: model.attnVHeadDim,
    slidingWindowLayers: model.slidingWindow?.layers ?? 0,
    slidingWindowTokens: model.slidingWindow?.tokens ?? 0,
    matmulParamsPerToken: matmulParamsPerToken(model),
    lmHeadParams: embeddingParams(model),
    totalParams: model.totalParams,
    numExperts: model.moe?.numExperts ?? 0,
    expertsPerToken: model.moe?.expertsPerToken ?? 0,
    expertBytesPerGpu: expertBytesPerGpu(model, precision, tp),
    streamedWeightBytesPerGpu: streamedWeightBytesPerGpu(model, precision, tp),
    weightBytesPerGpu: plan.weightBytesPerGpu,
    kvBytesPerTokenPerGpu: plan.kvBytesPerTokenPerGpu,
    expertParamsPerToken: expertParamsPerToken(model),
    matmulFlopsPerS: achieved(dtypes.matmul),
    expertFlopsPerS: achieved(dtypes.experts),
    attentionFlopsPerS: achieved(dtypes.attention),
    expertTileRows: eff.expertTileRows,
    memoryBytesPerS: gpu.memoryBytesPerS,
    memoryEfficiency: eff.memoryStreamEfficiency,
    tp,
    allReduceBytesPerS: allReduce.oneShot.bytesPerS,
    allReduceLatencyMs: allReduce.oneShot.latencyMs,
    allReduceRingBytesPerS: allReduce.ring.bytesPerS,
    allReduceRingLatencyMs: allReduce.ring.latencyMs,
    fixedStepOverheadMs: eff.fixedStepMs,
    perLayerMs: eff.perLayerMs,
    frontendMsPerSeq: frontend === 'nim' ? eff.frontendMsPerSeq : 0,
    frontendIntakeMs: frontend === 'nim' ? eff.frontendIntakeMs : 0,
    hostLinkBytesPerS: gpu.hostLinkBytesPerS,
    diskReadBytesPerS: disk.seqReadBytesPerS,
    diskReadLatencyMs: disk.readLatencyMs,
  };
}

/** The deployment the settings describe; throws DeploymentError (one line naming the setting). */
export function resolveDeployment(opts: DeploymentOptions): Deployment {
  const model = requireModel(opts.modelName);
  const gpu = requireGpu(opts.gpu);
  const kvDisk = requireNvme(opts.kvDisk ?? DEFAULT_NVME_DEVICE);
  requirePositiveInteger('NIMSIM_GPUS', opts.gpuCount);
  requirePositiveInteger('NIMSIM_KV_BLOCK_SIZE', opts.kvBlockSize);
  if (opts.kvCacheBlocks !== undefined) requirePositiveInteger('NIMSIM_KV_CACHE_BLOCKS', opts.kvCacheBlocks);
  if (opts.tp !== undefined) requirePositiveInteger('NIMSIM_TP', opts.tp);
  if (opts.precision !== undefined && !isPrecisionKey(opts.precision)) {
    throw new DeploymentError(
      'NIMSIM_PRECISION',
      opts.precision,
      unknownValue('precision', opts.precision, PRECISION_KEYS, 'precisions'),
    );
  }
  const utilization = opts.gpuMemoryUtilization;
  if (!(utilization > 0 && utilization <= 1)) {
    throw new DeploymentError('NIMSIM_GPU_MEMORY_UTILIZATION', utilization, 'must be a number in (0, 1]');
  }
  const maxModelLen = opts.maxModelLen ?? model.maxModelLen;
  requirePositiveInteger('NIM_MAX_MODEL_LEN', maxModelLen);
  if (maxModelLen > model.maxModelLen) {
    throw new DeploymentError(
      'NIM_MAX_MODEL_LEN',
      maxModelLen,
      `exceeds the context length of ${model.name} (${model.maxModelLen})`,
    );
  }

  const fit: FitOptions = {
    maxModelLen,
    gpuMemoryUtilization: utilization,
    ignoreKvCapacity: opts.kvCacheBlocks !== undefined,
  };
  const profile = chooseProfile(model, gpu, opts, fit);
  const precision = PRECISIONS[profile.precision];
  const plan = planMemory(model, profile.precision, gpu, profile.tp, utilization, profile.runtime);
  const memoryBlocks = Math.floor(
    Math.max(0, plan.kvBytesPerGpu) / (plan.kvBytesPerTokenPerGpu * opts.kvBlockSize),
  );
  return {
    model,
    gpu,
    gpuCount: opts.gpuCount,
    precision,
    tp: profile.tp,
    profile: { id: profile.id, name: profile.name },
    maxModelLen,
    kvBytesPerToken: plan.kvBytesPerTokenPerGpu,
    kvBlockSize: opts.kvBlockSize,
    kvCacheBlocks: opts.kvCacheBlocks ?? memoryBlocks,
    hostLinkBytesPerS: gpu.hostLinkBytesPerS,
    kvDisk,
    roofline: buildRoofline(model, gpu, precision, profile.tp, opts.frontend ?? 'nim', kvDisk),
    capacityPolicy: profile.runtime === 'tensorrt_llm' ? 'guaranteed-no-evict' : 'vllm',
  };
}

/** The fields /v1/metadata reports about the active profile. */
export function describeDeployment(deployment: Deployment): {
  readonly selectedModelProfileId: string;
  readonly profileName: string;
  readonly gpu: string;
  readonly gpuCount: number;
  readonly precision: string;
  readonly tp: number;
} {
  return {
    selectedModelProfileId: deployment.profile.id,
    profileName: deployment.profile.name,
    gpu: deployment.gpu.key,
    gpuCount: deployment.gpuCount,
    precision: deployment.precision.key,
    tp: deployment.tp,
  };
}
