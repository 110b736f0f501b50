/**
 * Numeric precisions a NIM profile can run a model in: how many bytes a weight costs in memory,
 * which tensor-core rate the matmuls run at, how wide the KV cache is, and which GPU
 * architectures have the kernels. Sources: perf-data.md §2 ("Precision support") and §3.4.
 */
import type { ComputeDtype, GpuArchitecture } from './gpus.js';

export type PrecisionKey = 'bf16' | 'fp16' | 'fp8' | 'nvfp4' | 'int4_awq';

export interface PrecisionSpec {
  readonly key: PrecisionKey;
  /**
   * Bytes per quantized weight of the transformer blocks' linear layers, scales included. The
   * embedding table and the LM head stay 16-bit in every recipe (see `models.ts`).
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
    bytesPerWeight: 2, // perf-data.md §3.4 "bytes/param = 2 (BF16)"
    computeDtype: 'bf16',
    kvBytesPerElement: 2, // perf-data.md §4 "BF16 KV/token" column (2 bytes per element)
    architectures: ALL, // every NIM-supported GPU has BF16 tensor cores (compute capability >= 8.0, NIM support matrix)
    requirement: 'a GPU with BF16 tensor cores',
  },
  fp16: {
    key: 'fp16',
    bytesPerWeight: 2, // (derived: IEEE half precision, 16 bits)
    computeDtype: 'fp16',
    kvBytesPerElement: 2, // (derived: the KV cache keeps the model dtype, vLLM kv_cache_dtype "auto")
    architectures: ALL, // perf-data.md §1.3 runs FP16 on A100
    requirement: 'a GPU with FP16 tensor cores',
  },
  fp8: {
    key: 'fp8',
    bytesPerWeight: 1, // perf-data.md §3.4 "1 (FP8/INT8)"; per-tensor scales are negligible
    computeDtype: 'fp8',
    kvBytesPerElement: 1, // perf-data.md §4 "FP8 KV/token" and §3.4 "FP8 KV cache allows 2-3x larger batch"
    architectures: ['ada', 'hopper', 'blackwell'], // perf-data.md §2 "FP8 needs Ada/Hopper or newer (not A100)"
    requirement: 'an Ada, Hopper or Blackwell GPU (l40s, h100-sxm, h200, b200, gb200)',
  },
  nvfp4: {
    key: 'nvfp4',
    // (derived: 4-bit E2M1 values plus one FP8 E4M3 scale per block of 16 = 0.5 + 1/16; perf-data.md §3.4 "~0.56")
    bytesPerWeight: 0.5625,
    computeDtype: 'fp4',
    // perf-data.md §1.5: the FP4 recipes keep an FP8 KV cache ("FP4 MoE, FP8 KV")
    kvBytesPerElement: 1,
    architectures: ['blackwell'], // perf-data.md §2 "FP4/NVFP4 needs Blackwell"
    requirement: 'a Blackwell GPU (b200, gb200)',
  },
  int4_awq: {
    key: 'int4_awq',
    // (derived: 4-bit weights plus an FP16 scale and a 4-bit zero point per group of 128 = 0.5 + 2.5/128)
    bytesPerWeight: 0.5 + 2.5 / 128,
    // perf-data.md §3.4: W4A16 dequantizes and computes in BF16
    computeDtype: 'bf16',
    kvBytesPerElement: 2, // (derived: weight-only quantization leaves the KV cache in the activation dtype)
    architectures: ALL, // perf-data.md §2 "INT4-AWQ (W4A16) runs everywhere via weight-only kernels"
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
