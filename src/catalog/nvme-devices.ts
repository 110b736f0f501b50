/**
 * The NVMe SSDs a local-disk KV tier can sit on (NIMSIM_KV_DISK; docs/kv-tiers.md#devices): the
 * drive's sequential read and write bandwidth and its typical latency, as the vendor rates them
 * (decimal units: 1 MB/s = 1e6 bytes/s). A disk hit is read at the sequential read rate, after
 * one read latency per request (perf-model.ts). Writes (offloads) are asynchronous in Dynamo's
 * KVBM and cost no step time here; their figures are informational.
 */

export interface NvmeDeviceSpec {
  /** Catalog key (`NIMSIM_KV_DISK`). */
  readonly key: string;
  /** Vendor and model. */
  readonly displayName: string;
  /** Host interface, e.g. `PCIe Gen5 x4`. */
  readonly interface: string;
  /** Sequential read bandwidth, bytes/s. */
  readonly seqReadBytesPerS: number;
  /** Sequential write bandwidth, bytes/s. */
  readonly seqWriteBytesPerS: number;
  /** Typical read latency (4 KiB, queue depth 1), ms. */
  readonly readLatencyMs: number;
  /** Typical write latency, ms. */
  readonly writeLatencyMs: number;
}

const MB = 1e6;

export const NVME_DEVICES: Readonly<Record<string, NvmeDeviceSpec>> = {
  // Micron's 9550 table as reproduced in
  // https://www.storagereview.com/review/micron-9550-max-review-balanced-performance-for-ai-db-and-analytics
  // ("Seq. Read 14,000", "Seq. Write 10,000" MB/s; "Typical Latency (µs) Read 60, Write 15").
  'micron-9550': {
    key: 'micron-9550',
    displayName: 'Micron 9550 (data-centre NVMe SSD)',
    interface: 'PCIe Gen5 x4',
    seqReadBytesPerS: 14_000 * MB,
    seqWriteBytesPerS: 10_000 * MB,
    readLatencyMs: 0.06,
    writeLatencyMs: 0.015,
  },
  // Bandwidth: https://www.tomshardware.com/news/kioxia-pcie-5-ssd-just-hit-140000-mbps ("CM6
  // PCIe 4.0 drive puts out 6,900 MBps reads and 4,200 MBps writes"). Latency: Kioxia's China
  // Flash Market Summit 2021 slide comparing its Gen5 prototype with that Gen4 drive, reported at
  // https://www.hwcooling.net/en/kioxia-pci-express-ssd-will-have-speeds-up-to-14-000-mb-s/
  // ("from 90 μs to 70 μs for reads and from 20 to 10 μs when writing"; Tom's Hardware above gives
  // the same ratios, 77 % and 50 %).
  'kioxia-cm6': {
    key: 'kioxia-cm6',
    displayName: 'KIOXIA CM6 (data-centre NVMe SSD)',
    interface: 'PCIe Gen4 x4',
    seqReadBytesPerS: 6_900 * MB,
    seqWriteBytesPerS: 4_200 * MB,
    readLatencyMs: 0.09,
    writeLatencyMs: 0.02,
  },
  // Micron 9200 datasheet, copy at
  // https://vdocument.in/9200-nvme-ssds-2-steady-state-as-defined-by-snia-solid-state-storage-performance.html
  // ("Sequential 128KB read: Up to 3.50 GB/s", "write: Up to 3.50 GB/s"; "Latency ... typical
  // (QD = 1) READ: 92–150µs, WRITE: 21µs": the best case is kept).
  'micron-9200': {
    key: 'micron-9200',
    displayName: 'Micron 9200 (data-centre NVMe SSD)',
    interface: 'PCIe Gen3 x4',
    seqReadBytesPerS: 3_500 * MB,
    seqWriteBytesPerS: 3_500 * MB,
    readLatencyMs: 0.092,
    writeLatencyMs: 0.021,
  },
};

/** A PCIe Gen5 data-centre drive: what a current GPU server's local NVMe is. */
export const DEFAULT_NVME_DEVICE = 'micron-9550';

export const NVME_DEVICE_KEYS: readonly string[] = Object.keys(NVME_DEVICES);

/** The drive with that catalog key, or undefined. */
export function findNvmeDevice(key: string): NvmeDeviceSpec | undefined {
  return Object.hasOwn(NVME_DEVICES, key) ? NVME_DEVICES[key] : undefined;
}
