/**
 * Numeric precisions a NIM profile can run a model in: how many bytes a weight costs in memory,
 * which tensor-core rate the matmuls run at, how wide the KV cache is, and which GPU
 * architectures have the kernels. Sources: docs/hardware.md#precisions.
 */
import type { ComputeDtype, GpuArchitecture } from './gpus.js';

export type PrecisionKey = 'bf16' | 'fp16' | 'fp8' | 'nvfp4' | 'int4_awq';

export interface PrecisionSpec {
  readonly key: PrecisionKey;
  /**
   * Bytes per quantized weight of the transformer blocks' linear layers, scales included. The
   * embedding table and the LM head stay 16-bit in every recipe (see `model-sizing.ts`).
   */
  readonly bytesPerWeight: number;
  /** The tensor-core rate the matmuls run at (key into `GpuSpec.denseFlops`). */
  readonly computeDtype: ComputeDtype;
  /** Bytes per KV-cache element. */
  readonly kvBytesPerElement: number;
  /** GPU architectures with kernels for this precision. */
  readonly architectures: readonly GpuArchitecture[];
  /** Human wording of the hardware requirement, used in incompatibility reasons. */
  readonly requirement: string;
}

const ALL: readonly GpuArchitecture[] = ['ampere', 'ada', 'hopper', 'blackwell'];

export const PRECISIONS: Readonly<Record<PrecisionKey, PrecisionSpec>> = {
  bf16: {
    key: 'bf16',
    bytesPerWeight: 2, // BF16 is 2 bytes (docs/hardware.md#precisions)
    computeDtype: 'bf16',
    kvBytesPerElement: 2, // 2 bytes per element (docs/performance-model.md#kv-memory, BF16 KV)
    architectures: ALL, // every NIM-supported GPU has BF16 tensor cores (compute capability >= 8.0, NIM support matrix)
    requirement: 'a GPU with BF16 tensor cores',
  },
  fp16: {
    key: 'fp16',
    bytesPerWeight: 2, // (derived: IEEE half precision, 16 bits)
    computeDtype: 'fp16',
    kvBytesPerElement: 2, // (derived: the KV cache keeps the model dtype, vLLM kv_cache_dtype "auto")
    // TensorRT-LLM's A100 latencies are FP16 (docs/calibration.md#tensorrt-llm-first-token-latencies)
    architectures: ALL,
    requirement: 'a GPU with FP16 tensor cores',
  },
  fp8: {
    key: 'fp8',
    bytesPerWeight: 1, // docs/hardware.md#precisions; per-tensor scales are negligible
    computeDtype: 'fp8',
    kvBytesPerElement: 1, // FP8 KV halves the bytes, "2-3x larger batch" (docs/hardware.md#precisions)
    architectures: ['ada', 'hopper', 'blackwell'], // FP8 on "Ada and Later" (docs/hardware.md#precisions)
    requirement: 'an Ada, Hopper or Blackwell GPU (l40s, h100-sxm, h200, b200, gb200)',
  },
  nvfp4: {
    key: 'nvfp4',
    // (derived: 4-bit E2M1 values plus an FP8 E4M3 scale per 16 = 0.5 + 1/16; docs/hardware.md#precisions)
    bytesPerWeight: 0.5625,
    computeDtype: 'fp4',
    // the FP4 recipes keep an FP8 KV cache (TensorRT-LLM's DeepSeek-R1 recipe, docs/hardware.md#precisions)
    kvBytesPerElement: 1,
    architectures: ['blackwell'], // FP4 on "Blackwell and Later" (docs/hardware.md#precisions)
    requirement: 'a Blackwell GPU (b200, gb200)',
  },
  int4_awq: {
    key: 'int4_awq',
    // (derived: 4-bit weights plus an FP16 scale and a 4-bit zero point per group of 128 = 0.5 + 2.5/128)
    bytesPerWeight: 0.5 + 2.5 / 128,
    // W4A16 dequantizes and computes in BF16 (docs/hardware.md#precisions)
    computeDtype: 'bf16',
    kvBytesPerElement: 2, // (derived: weight-only quantization leaves the KV cache in the activation dtype)
    architectures: ALL, // W4A16 on "Ampere and Later" (docs/hardware.md#precisions)
    requirement: 'a GPU with BF16 tensor cores',
  },
};

export const PRECISION_KEYS: readonly PrecisionKey[] = ['bf16', 'fp16', 'fp8', 'nvfp4', 'int4_awq'];

/** Type guard for user input (`--precision`). */
export function isPrecisionKey(value: string): value is PrecisionKey {
  return (PRECISION_KEYS as readonly string[]).includes(value);
}

/** True when the precision has kernels on that GPU architecture. */
export function precisionSupportedOn(precision: PrecisionSpec, architecture: GpuArchitecture): boolean {
  return precision.architectures.includes(architecture);
}
