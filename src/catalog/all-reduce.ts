/**
 * The two ways a tensor-parallel all-reduce runs (docs/performance-model.md#step-time), as the
 * roofline's per-call cost: min over the two of latency + ring-volume bytes / bandwidth.
 *
 * - One-shot, for small messages (TensorRT-LLM's custom all-reduce picks it for decode-sized
 *   messages; NCCL's LL protocol behaves alike): a start (the kernel inside the CUDA graph and the
 *   flag exchange) plus 2 x log2(tp) link hops, and every rank reads all tp - 1 peers' whole
 *   message, tp / 2 times the ring's 2 (tp - 1) / tp volume; its bandwidth on the ring volume is
 *   therefore the link's x 2 / tp.
 * - Ring, for large messages (NCCL's LL128 protocol on NVLink): NCCL's own cost model, a base
 *   latency plus a hardware latency for each of the ring's 2 (tp - 1) steps, at 0.92 of the link
 *   (LL128 carries 120 data bytes of every 128; `baseLat`, `hwLat` and the LL128 refinement in
 *   src/graph/tuning.cc of https://github.com/NVIDIA/nccl).
 *
 * The constants and their sources are in efficiency.ts.
 */
import type { Efficiency } from './efficiency.js';

export type AllReduceLink = 'nvlink' | 'pcie';

/** One way to run the all-reduce: fixed latency per call, and bandwidth on the ring volume. */
export interface AllReducePath {
  readonly latencyMs: number;
  readonly bytesPerS: number;
}

/** 0 for one GPU (no all-reduce); otherwise the one-shot start plus 2 x log2(tp) link hops. */
export function allReduceLatencyMs(
  tp: number,
  link: AllReduceLink,
  eff: Pick<Efficiency, 'allReduceBaseMs' | 'allReduceHopMs'>,
): number {
  if (tp <= 1) return 0;
  return eff.allReduceBaseMs[link] + 2 * Math.log2(tp) * eff.allReduceHopMs[link];
}

/**
 * The one-shot and ring paths of a TP group of `tp` GPUs whose link carries `linkBytesPerS` per
 * direction; bandwidths are per byte of the ring volume 2 (tp - 1) / tp x message.
 */
export function allReducePaths(
  tp: number,
  link: AllReduceLink,
  linkBytesPerS: number,
  eff: Pick<Efficiency, 'allReduceBaseMs' | 'allReduceHopMs' | 'allReduceLinkEfficiency' | 'allReduceRing'>,
): { oneShot: AllReducePath; ring: AllReducePath } {
  const achieved = linkBytesPerS * eff.allReduceLinkEfficiency;
  const ring = eff.allReduceRing[link];
  return {
    oneShot: {
      latencyMs: allReduceLatencyMs(tp, link, eff),
      bytesPerS: tp > 1 ? (achieved * 2) / tp : achieved,
    },
    ring: {
      latencyMs: tp > 1 ? ring.baseMs + 2 * (tp - 1) * ring.stepMs : 0,
      bytesPerS: achieved * ring.bandwidthShare,
    },
  };
}
