/**
 * The simulated GPUs: memory, bandwidth, dense tensor-core rates and links, as published
 * (docs/hardware.md#gpus). How much of each peak an engine reaches is not here but in
 * efficiency.ts, with the data it was fitted on.
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
  /** Device memory in bytes, as the driver reports it (nvidia-smi MiB where known, docs/hardware.md#gpus). */
  readonly memoryBytes: number;
  /** Peak device-memory bandwidth in bytes/s. */
  readonly memoryBytesPerS: number;
  /** Dense (no 2:4 sparsity) peak tensor FLOP/s per input type; absent = no hardware support. */
  readonly denseFlops: Readonly<Partial<Record<ComputeDtype, number>>>;
  /** GPU-to-GPU link used by tensor-parallel all-reduce: its kind and bytes/s per direction. */
  readonly allReduceLink: 'nvlink' | 'pcie';
  readonly allReduceBytesPerS: number;
  /** Host (CPU memory) to GPU link used by the host KV tier, bytes/s per direction. */
  readonly hostLinkBytesPerS: number;
}

const MIB = 1024 * 1024;

export const GPUS: Readonly<Record<string, GpuSpec>> = {
  'a100-80gb': {
    key: 'a100-80gb',
    displayName: 'NVIDIA A100-SXM4-80GB',
    profileToken: 'a100',
    pciId: '20b2:10de', // NVIDIA driver README supported-GPU table, "NVIDIA A100-SXM4-80GB 20B2"
    architecture: 'ampere',
    memoryBytes: 81_920 * MIB, // nvidia-smi 81920MiB (docs/hardware.md#gpus); 80 GB nominal
    memoryBytesPerS: 2.039e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 312e12, // docs/hardware.md#gpus
      fp16: 312e12, // glennklockwood.com/garden/processors/A100 (FP16 matrix 312)
    },
    allReduceLink: 'nvlink',
    allReduceBytesPerS: 300e9, // glennklockwood.com/garden/processors/A100 "300+300 GB/s NVLink"
    hostLinkBytesPerS: 32e9, // glennklockwood.com/garden/processors/A100 "32+32 GB/s PCIe Gen4"
  },
  l40s: {
    key: 'l40s',
    displayName: 'NVIDIA L40S',
    profileToken: 'l40s',
    pciId: '26b9:10de', // PCI ID repository, "AD102GL [L40S]" 10de:26b9
    architecture: 'ada',
    memoryBytes: 46_068 * MIB, // nvidia-smi 46068MiB (docs/hardware.md#gpus); 48 GB nominal
    memoryBytesPerS: 0.864e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 362.05e12, // https://www.mullet.se/product.html?product_id=355414 (733 sparse)
      fp16: 362.05e12, // same datasheet
      fp8: 733e12, // docs/hardware.md#gpus (1,466 sparse halved)
    },
    // No NVLink: all-reduce crosses PCIe (datasheet "PCIe Gen4 x16: 64GB/s bidirectional", mullet.se above)
    allReduceLink: 'pcie',
    allReduceBytesPerS: 32e9,
    hostLinkBytesPerS: 32e9, // same datasheet line, one direction
  },
  'h100-sxm': {
    key: 'h100-sxm',
    displayName: 'NVIDIA H100 80GB HBM3',
    profileToken: 'h100',
    pciId: '2330:10de', // PCI ID repository, "GH100 [H100 SXM5 80GB]" 10de:2330
    architecture: 'hopper',
    memoryBytes: 81_559 * MIB, // nvidia-smi 81559MiB (docs/hardware.md#gpus); 80 GB nominal
    memoryBytesPerS: 3.35e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 989.4e12, // docs/hardware.md#gpus
      fp16: 989.4e12, // glennklockwood.com/garden/processors/h100 (FP16 = BF16)
      fp8: 1978.9e12, // docs/hardware.md#gpus
    },
    // https://hawkvelt.id.au/post/2024-08-04-nvidia-h100 "NVLink Speed: 900 GB/sec" (both directions)
    allReduceLink: 'nvlink',
    allReduceBytesPerS: 450e9,
    hostLinkBytesPerS: 64e9, // same page "PCIe Gen5 Speed: 128 GB/sec" (both directions)
  },
  h200: {
    key: 'h200',
    displayName: 'NVIDIA H200',
    profileToken: 'h200',
    pciId: '2335:10de', // PCI ID repository, "GH100 [H200 SXM 141GB]" 10de:2335
    architecture: 'hopper',
    memoryBytes: 143_771 * MIB, // nvidia-smi 143771MiB (docs/hardware.md#gpus); "H200 141GB" is 140.4 GiB
    memoryBytesPerS: 4.8e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 989e12, // docs/hardware.md#gpus (same compute as H100)
      fp16: 989e12, // same compute as H100
      fp8: 1979e12, // docs/hardware.md#gpus
    },
    allReduceLink: 'nvlink',
    allReduceBytesPerS: 450e9, // (derived: HGX H200 keeps the H100 baseboard's NVLink 4, 900 GB/s total)
    hostLinkBytesPerS: 64e9, // (derived: PCIe Gen5 x16 like H100 SXM)
  },
  b200: {
    key: 'b200',
    displayName: 'NVIDIA B200',
    profileToken: 'b200',
    pciId: '2901:10de', // PCI ID repository, "GB100 [B200]" 10de:2901
    architecture: 'blackwell',
    memoryBytes: 183_359 * MIB, // nvidia-smi 183359MiB on a DGX B200 (docs/hardware.md#gpus); "B200 180GB"
    memoryBytesPerS: 8e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 2250e12, // docs/hardware.md#gpus
      fp16: 2250e12, // glennklockwood.com/garden/processors/B200 HGX table (FP16 = BF16)
      fp8: 4500e12, // docs/hardware.md#gpus
      fp4: 9000e12, // docs/hardware.md#gpus
    },
    allReduceLink: 'nvlink',
    allReduceBytesPerS: 900e9, // glennklockwood.com/garden/processors/B200 "2x 900 GB/s NVLink 5"
    // (derived: the GPU side is PCIe Gen6 (same page) but the x86 host of an HGX B200 runs Gen5 x16)
    hostLinkBytesPerS: 64e9,
  },
  gb200: {
    key: 'gb200',
    displayName: 'NVIDIA GB200',
    profileToken: 'gb200',
    pciId: '2941:10de', // PCI ID repository / NVIDIA mig-parted#227 lspci, device 10de:2941
    architecture: 'blackwell',
    memoryBytes: 192e9, // "GB200 192GB", decimal (docs/hardware.md#gpus: no driver figure found)
    memoryBytesPerS: 8e12, // docs/hardware.md#gpus
    denseFlops: {
      bf16: 2500e12, // docs/hardware.md#gpus (1,200 W variant)
      fp16: 2500e12, // glennklockwood.com/garden/processors/B200 GB200 table
      fp8: 5000e12, // docs/hardware.md#gpus
      fp4: 10000e12, // docs/hardware.md#gpus
    },
    allReduceLink: 'nvlink',
    allReduceBytesPerS: 900e9, // glennklockwood.com/garden/processors/B200 "2x 900 GB/s NVLink 5"
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
