/**
 * The simulated GPUs: memory, bandwidth, dense tensor-core rates, links, and the efficiency
 * factors the roofline applies to them. Peak numbers come from the datasheets of docs/hardware.md#gpus;
 * efficiency factors are fitted on docs/calibration.md and say how in their comments.
 */

export type GpuArchitecture = 'ampere' | 'ada' | 'hopper' | 'blackwell';
/** Tensor-core input types with distinct peak rates. */
export type ComputeDtype = 'bf16' | 'fp16' | 'fp8' | 'fp4';

export interface GpuSpec {
  /** Catalog key (`NIMSIM_GPU`). */
  readonly key: string;
  /** Name as `nvidia-smi` prints it (shown by `list-model-profiles`). */
  readonly displayName: string;
  /** Token used in GPU-specific profile names (`tensorrt_llm-<token>-fp8-…`). */
  readonly profileToken: string;
  /** PCI vendor:device id, shown in SYSTEM INFO like NIM's tool does. */
  readonly pciId: string;
  readonly architecture: GpuArchitecture;
  /** Device memory in bytes (decimal GB as published). */
  readonly memoryBytes: number;
  /** Peak device-memory bandwidth in bytes/s. */
  readonly memoryBytesPerS: number;
  /** Dense (no 2:4 sparsity) peak tensor FLOP/s per input type; absent = no hardware support. */
  readonly denseFlops: Readonly<Partial<Record<ComputeDtype, number>>>;
  /** Achieved fraction of `denseFlops` on large matmuls (model FLOPs utilisation). */
  readonly mfu: Readonly<Partial<Record<ComputeDtype, number>>>;
  /** Achieved fraction of `memoryBytesPerS` when streaming weights and KV (bandwidth utilisation). */
  readonly mbu: number;
  /** GPU-to-GPU link used by tensor-parallel all-reduce, bytes/s per direction. */
  readonly allReduceBytesPerS: number;
  /** Fixed latency of one all-reduce call, ms. */
  readonly allReduceLatencyMs: number;
  /** Host (CPU memory) to GPU link used by the host KV tier, bytes/s per direction. */
  readonly hostLinkBytesPerS: number;
}

/*
 * Efficiency factors, shared reasoning:
 * - MFU is fitted on the batch-1 prefill points (docs/calibration.md#fitted-factors: LLaMA 7B, 2048 tokens,
 *   where compute dominates), using Llama-3.1-8B's matmul FLOPs, after the roofline's fixed step
 *   overhead. BF16 on Hopper/Blackwell is FP8's achieved rate divided by the measured FP8/FP16
 *   speed-up of 1.45x (docs/calibration.md#precision-speed-ups: 1.40-1.51x on H100).
 * - MBU is fitted on two points that pull apart: the NIM decode ITL at concurrency 1 (4.63 ms,
 *   Llama-3.1-8B FP8 on one H100, docs/calibration.md#nim-benchmark-table), alone asking for 0.59
 *   after the step overhead, and the 128-token prefill latencies
 *   (docs/calibration.md#tensorrt-llm-first-token-latencies), which are memory-bound too (H100 7 ms asks
 *   for ~0.37, A100 16 ms for ~0.48, L40S 14 ms for ~0.69). 0.55 keeps all of them within the
 *   calibration tolerance;
 *   the points support 0.5-0.6 at small batch (docs/calibration.md#fitted-factors). The other GPUs have
 *   no decode point and share it.
 * - All-reduce latency 20 us per call: inference-sim (BLIS) hardware_config.json `allReduceLatency`
 *   (docs/performance-model.md#overheads); no separate figure was found for PCIe-only systems.
 */
const MBU = 0.55; // (derived: see above)
const ALL_REDUCE_LATENCY_MS = 0.02; // BLIS allReduceLatency 20 us (docs/performance-model.md#overheads)

export const GPUS: Readonly<Record<string, GpuSpec>> = {
  'a100-80gb': {
    key: 'a100-80gb',
    displayName: 'NVIDIA A100-SXM4-80GB',
    profileToken: 'a100',
    pciId: '20b2:10de', // NVIDIA driver README supported-GPU table, "NVIDIA A100-SXM4-80GB 20B2"
    architecture: 'ampere',
    memoryBytes: 80e9, // glennklockwood.com/garden/processors/A100 (docs/hardware.md#gpus)
    memoryBytesPerS: 2.039e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 312e12, // docs/hardware.md#gpus
      fp16: 312e12, // glennklockwood.com/garden/processors/A100 (FP16 matrix 312)
    },
    mfu: {
      bf16: 0.72, // (derived: docs/calibration.md#fitted-factors, A100 FP16 LLaMA 7B 2048 tokens 133 ms -> 224 TFLOPS)
      fp16: 0.72, // same point
    },
    mbu: MBU,
    allReduceBytesPerS: 300e9, // glennklockwood.com/garden/processors/A100 "300+300 GB/s NVLink"
    allReduceLatencyMs: ALL_REDUCE_LATENCY_MS,
    hostLinkBytesPerS: 32e9, // glennklockwood.com/garden/processors/A100 "32+32 GB/s PCIe Gen4"
  },
  l40s: {
    key: 'l40s',
    displayName: 'NVIDIA L40S',
    profileToken: 'l40s',
    pciId: '26b9:10de', // PCI ID repository, "AD102GL [L40S]" 10de:26b9
    architecture: 'ada',
    memoryBytes: 48e9, // https://www.mullet.se/product.html?product_id=355414 (docs/hardware.md#gpus)
    memoryBytesPerS: 0.864e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 362.05e12, // https://www.mullet.se/product.html?product_id=355414 (733 sparse)
      fp16: 362.05e12, // same datasheet
      fp8: 733e12, // docs/hardware.md#gpus (1,466 sparse halved)
    },
    mfu: {
      fp8: 0.56, // (derived: docs/calibration.md#fitted-factors, L40S FP8 LLaMA 7B 2048 tokens 73 ms -> 410 TFLOPS)
      bf16: 0.7, // (derived: no BF16 point on L40S; near A100's measured 0.72, docs/calibration.md#fitted-factors)
      fp16: 0.7, // same
    },
    mbu: MBU,
    // No NVLink: all-reduce crosses PCIe (datasheet "PCIe Gen4 x16: 64GB/s bidirectional", mullet.se above)
    allReduceBytesPerS: 32e9,
    allReduceLatencyMs: ALL_REDUCE_LATENCY_MS,
    hostLinkBytesPerS: 32e9, // same datasheet line, one direction
  },
  'h100-sxm': {
    key: 'h100-sxm',
    displayName: 'NVIDIA H100 80GB HBM3',
    profileToken: 'h100',
    pciId: '2330:10de', // PCI ID repository, "GH100 [H100 SXM5 80GB]" 10de:2330
    architecture: 'hopper',
    memoryBytes: 80e9, // docs/hardware.md#gpus
    memoryBytesPerS: 3.35e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 989.4e12, // docs/hardware.md#gpus
      fp16: 989.4e12, // glennklockwood.com/garden/processors/h100 (FP16 = BF16)
      fp8: 1978.9e12, // docs/hardware.md#gpus
    },
    mfu: {
      fp8: 0.42, // (derived: docs/calibration.md#fitted-factors, H100 FP8 LLaMA 7B 2048 tokens 36 ms -> 837 TFLOPS)
      bf16: 0.58, // (derived: 0.42 x 1978.9 / 1.45 / 989.4, FP8/FP16 speed-up, docs/calibration.md#precision-speed-ups)
      fp16: 0.58, // same
    },
    mbu: MBU,
    // https://hawkvelt.id.au/post/2024-08-04-nvidia-h100 "NVLink Speed: 900 GB/sec" (both directions)
    allReduceBytesPerS: 450e9,
    allReduceLatencyMs: ALL_REDUCE_LATENCY_MS,
    hostLinkBytesPerS: 64e9, // same page "PCIe Gen5 Speed: 128 GB/sec" (both directions)
  },
  h200: {
    key: 'h200',
    displayName: 'NVIDIA H200',
    profileToken: 'h200',
    pciId: '2335:10de', // PCI ID repository, "GH100 [H200 SXM 141GB]" 10de:2335
    architecture: 'hopper',
    memoryBytes: 141e9, // docs/hardware.md#gpus
    memoryBytesPerS: 4.8e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 989e12, // docs/hardware.md#gpus (same compute as H100)
      fp16: 989e12, // same compute as H100
      fp8: 1979e12, // docs/hardware.md#gpus
    },
    mfu: { fp8: 0.42, bf16: 0.58, fp16: 0.58 }, // (derived: same die and kernels as H100)
    mbu: MBU,
    allReduceBytesPerS: 450e9, // (derived: HGX H200 keeps the H100 baseboard's NVLink 4, 900 GB/s total)
    allReduceLatencyMs: ALL_REDUCE_LATENCY_MS,
    hostLinkBytesPerS: 64e9, // (derived: PCIe Gen5 x16 like H100 SXM)
  },
  b200: {
    key: 'b200',
    displayName: 'NVIDIA B200',
    profileToken: 'b200',
    pciId: '2901:10de', // PCI ID repository, "GB100 [B200]" 10de:2901
    architecture: 'blackwell',
    memoryBytes: 180e9, // 180 GB in a DGX B200; TRT-LLM perf overview "B200 180GB" (docs/hardware.md#gpus)
    memoryBytesPerS: 8e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 2250e12, // docs/hardware.md#gpus
      fp16: 2250e12, // glennklockwood.com/garden/processors/B200 HGX table (FP16 = BF16)
      fp8: 4500e12, // docs/hardware.md#gpus
      fp4: 9000e12, // docs/hardware.md#gpus
    },
    mfu: {
      fp8: 0.42, // (derived: no Blackwell prefill point; Hopper's FP8 value, docs/calibration.md#fitted-factors)
      bf16: 0.58, // (derived: as H100)
      fp16: 0.58, // (derived: as H100)
      // (derived: FP4 over FP8 on the same B200 gains at most +35 % (SemiAnalysis InferenceMAX,
      // docs/calibration.md#precision-speed-ups): 0.42 x 4500 x 1.35 / 9000)
      fp4: 0.28,
    },
    mbu: MBU,
    allReduceBytesPerS: 900e9, // glennklockwood.com/garden/processors/B200 "2x 900 GB/s NVLink 5"
    allReduceLatencyMs: ALL_REDUCE_LATENCY_MS,
    // (derived: the GPU side is PCIe Gen6 (same page) but the x86 host of an HGX B200 runs Gen5 x16)
    hostLinkBytesPerS: 64e9,
  },
  gb200: {
    key: 'gb200',
    displayName: 'NVIDIA GB200',
    profileToken: 'gb200',
    pciId: '2941:10de', // PCI ID repository / NVIDIA mig-parted#227 lspci, device 10de:2941
    architecture: 'blackwell',
    memoryBytes: 192e9, // TRT-LLM perf overview "GB200 192GB" (docs/hardware.md#gpus)
    memoryBytesPerS: 8e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 2500e12, // docs/hardware.md#gpus (1,200 W variant)
      fp16: 2500e12, // glennklockwood.com/garden/processors/B200 GB200 table
      fp8: 5000e12, // docs/hardware.md#gpus
      fp4: 10000e12, // docs/hardware.md#gpus
    },
    mfu: { fp8: 0.42, bf16: 0.58, fp16: 0.58, fp4: 0.28 }, // (derived: as B200)
    mbu: MBU,
    allReduceBytesPerS: 900e9, // glennklockwood.com/garden/processors/B200 "2x 900 GB/s NVLink 5"
    allReduceLatencyMs: ALL_REDUCE_LATENCY_MS,
    // (derived: NVLink-C2C 900 GB/s both directions, https://www.elprocus.com/nvidia-gb200-ai-chip,
    // shared by the Grace CPU's two GPUs: 450 GB/s per GPU, 225 GB/s per direction)
    hostLinkBytesPerS: 225e9,
  },
};

export const GPU_KEYS: readonly string[] = Object.keys(GPUS);

/** The GPU with that catalog key, or undefined. */
export function findGpu(key: string): GpuSpec | undefined {
  return Object.hasOwn(GPUS, key) ? GPUS[key] : undefined;
}
