/**
 * Latency of one tensor-parallel all-reduce call, ms, before its bytes cross the link
 * (docs/performance-model.md#step-time). A small all-reduce captured in a CUDA graph pays a fixed
 * start (the kernel's launch inside the graph and the flag exchange that tells every rank its peers'
 * data is there) and then the link latency of each step of the algorithm: NCCL's tree and NVLS
 * algorithms go up and down a tree, 2 x log2(tp) steps. The constants and their sources are in
 * efficiency.ts (ALL_REDUCE_BASE_MS, ALL_REDUCE_HOP_MS).
 */
import type { Efficiency } from './efficiency.js';

export type AllReduceLink = 'nvlink' | 'pcie';

/** 0 for one GPU (no all-reduce); otherwise the start plus 2 x log2(tp) link hops. */
export function allReduceLatencyMs(
  tp: number,
  link: AllReduceLink,
  eff: Pick<Efficiency, 'allReduceBaseMs' | 'allReduceHopMs'>,
): number {
  if (tp <= 1) return 0;
  return eff.allReduceBaseMs[link] + 2 * Math.log2(tp) * eff.allReduceHopMs[link];
}
