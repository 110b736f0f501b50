/**
 * The links a disaggregated deployment moves KV blocks over, from a prefill replica's GPUs to a
 * decode replica's (NIMSIM_KV_TRANSFER_LINK; docs/disaggregation.md#links). Bandwidth is per GPU
 * and per direction, the nominal rate: each GPU of a replica sends or receives its own shard of
 * the KV cache over its own link or NIC, all of them at once. Latency is what one transfer adds
 * beyond its bytes: the upper end of the published range, since a NIXL read is a request and a
 * completion notification, not one message.
 *
 * Sources (public):
 * - NVLink 4 / 5, NVLink Switch: NVIDIA's NVLink page ("A single NVIDIA Blackwell Tensor Core GPU
 *   supports up to 18 NVLink 100 GB/s connections for a total bandwidth of 1.8 TB/s", "NVLink
 *   Switch enables 130TB/s of GPU bandwidth in one NVL72"), https://www.nvidia.com/en-us/data-center/nvlink/
 * - H100's NVLink 4 "900 GB/sec" and "PCIe Gen5 Speed: 128 GB/sec", both directions together:
 *   https://hawkvelt.id.au/post/2024-08-04-nvidia-h100 (as src/catalog/gpus.ts)
 * - ConnectX-7 "Single-port OSFP: NDR 400Gb/s and 400GbE":
 *   https://docs.nvidia.com/networking/display/ConnectX7VPI/Introduction
 * - ConnectX-8 "InfiniBand and Ethernet networking at up to 800 gigabits per second":
 *   https://docs.nvidia.com/networking/display/connectx8supernic/introduction
 * - Latencies, "NVLink 4.0 … ~1-2 us", "PCIe Gen5 x16 … ~2-5 us", "NDR 400G … ~1-5 us", "400GbE
 *   RoCE … ~2-10 us": https://fridayswithfaraday.com/posts/gpu-hw-nvlink-nvswitch-interconnect
 */
import type { ModelCard } from './model-card.js';
import { kvBytesPerTokenPerGpu } from './model-sizing.js';
import type { PrecisionSpec } from './precisions.js';

export interface KvLink {
  /** Catalog key (NIMSIM_KV_TRANSFER_LINK). */
  readonly key: string;
  readonly description: string;
  /** Bytes/s one GPU sends or receives, one direction. */
  readonly bytesPerSPerGpu: number;
  /** What one transfer adds beyond its bytes, ms. */
  readonly latencyMs: number;
}

const GB = 1e9;

export const KV_LINKS = {
  // 1.8 TB/s both directions (NVLink page above) / 2
  'nvlink-5': {
    key: 'nvlink-5',
    description: 'NVLink 5 within an HGX B200 node (1.8 TB/s per GPU, both directions)',
    bytesPerSPerGpu: 900 * GB,
    latencyMs: 0.002,
  },
  // 900 GB/s both directions (hawkvelt.id.au above) / 2; "~1-2 us"
  'nvlink-4': {
    key: 'nvlink-4',
    description: 'NVLink 4 within an HGX H100/H200 node (900 GB/s per GPU, both directions)',
    bytesPerSPerGpu: 450 * GB,
    latencyMs: 0.002,
  },
  // 130 TB/s over 72 GPUs = 1.8 TB/s per GPU both directions; one NVLink Switch hop, same range
  'nvlink-nvl72': {
    key: 'nvlink-nvl72',
    description: 'NVLink Switch across a GB200 NVL72 rack (130 TB/s over 72 GPUs)',
    bytesPerSPerGpu: 900 * GB,
    latencyMs: 0.002,
  },
  // ConnectX-7 400 Gb/s = 50 GB/s per direction; "~1-5 us"
  'ib-ndr': {
    key: 'ib-ndr',
    description: 'InfiniBand NDR, one 400 Gb/s ConnectX-7 per GPU',
    bytesPerSPerGpu: 50 * GB,
    latencyMs: 0.005,
  },
  // ConnectX-8 800 Gb/s = 100 GB/s per direction; InfiniBand's range as NDR
  'ib-xdr': {
    key: 'ib-xdr',
    description: 'InfiniBand XDR, one 800 Gb/s ConnectX-8 per GPU',
    bytesPerSPerGpu: 100 * GB,
    latencyMs: 0.005,
  },
  // ConnectX-7 400GbE = 50 GB/s per direction; "~2-10 us"
  'roce-400g': {
    key: 'roce-400g',
    description: 'RoCE over 400 GbE, one 400 Gb/s ConnectX-7 per GPU',
    bytesPerSPerGpu: 50 * GB,
    latencyMs: 0.01,
  },
  // 128 GB/s both directions / 2; "~2-5 us"
  'pcie-5': {
    key: 'pcie-5',
    description: 'PCIe 5.0 x16 between GPUs of one host, no NVLink',
    bytesPerSPerGpu: 64 * GB,
    latencyMs: 0.005,
  },
  // (derived: A100's "300+300 GB/s NVLink", as src/catalog/gpus.ts cites; NVLink's latency range)
  'nvlink-3': {
    key: 'nvlink-3',
    description: 'NVLink 3 within an HGX A100 node (600 GB/s per GPU, both directions)',
    bytesPerSPerGpu: 300 * GB,
    latencyMs: 0.002,
  },
  // (derived: L40S "PCIe Gen4 x16: 64GB/s bidirectional", as src/catalog/gpus.ts cites; PCIe's range)
  'pcie-4': {
    key: 'pcie-4',
    description: 'PCIe 4.0 x16 between GPUs of one host, no NVLink',
    bytesPerSPerGpu: 32 * GB,
    latencyMs: 0.005,
  },
} as const satisfies Record<string, KvLink>;

export type KvLinkKey = keyof typeof KV_LINKS;
export const KV_LINK_KEYS = Object.keys(KV_LINKS) as [KvLinkKey, ...KvLinkKey[]];

/** The default link of each GPU: its own NVLink generation (PCIe where it has none). */
const DEFAULT_LINK: Readonly<Record<string, KvLinkKey>> = {
  'a100-80gb': 'nvlink-3',
  l40s: 'pcie-4',
  'h100-sxm': 'nvlink-4',
  h200: 'nvlink-4',
  b200: 'nvlink-5',
  gb200: 'nvlink-nvl72',
};

/** The link named, or the GPU's default one (its NVLink). */
export function resolveKvLink(key: string | undefined, gpuKey: string): KvLink {
  return KV_LINKS[(key as KvLinkKey | undefined) ?? DEFAULT_LINK[gpuKey] ?? 'pcie-5'];
}

/**
 * What moving one token's KV costs when the prefill replicas run tensor-parallel size `prefillTp`
 * and the decode replicas `decodeTp` (same model and KV dtype). Every GPU holds its shard of each
 * token (kvBytesPerTokenPerGpu: its KV heads, or the whole MLA latent) and the shards move in
 * parallel, each GPU over its own link: the transfer lasts as long as the largest shard one GPU
 * sends or receives. With prefill TP 2 and decode TP 4, each decode GPU pulls half of one prefill
 * GPU's heads, and each prefill GPU sends its whole shard: the prefill side's shard sets the time.
 */
export interface KvTransferCost {
  /** Bytes one link carries per token: the larger of a prefill GPU's and a decode GPU's shard. */
  readonly bytesPerTokenPerLink: number;
  /** Bytes landing in the decode replica per token, over all its GPUs (what the byte counters count). */
  readonly bytesPerTokenTotal: number;
}

export function kvTransferCost(
  model: ModelCard,
  precision: PrecisionSpec,
  prefillTp: number,
  decodeTp: number,
): KvTransferCost {
  const prefillShard = kvBytesPerTokenPerGpu(model, precision, prefillTp);
  const decodeShard = kvBytesPerTokenPerGpu(model, precision, decodeTp);
  return {
    bytesPerTokenPerLink: Math.max(prefillShard, decodeShard),
    bytesPerTokenTotal: decodeShard * decodeTp,
  };
}
