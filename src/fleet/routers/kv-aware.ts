/**
 * Dynamo's KV-aware router (DefaultWorkerSelector, lib/llm/src/kv_router/scheduler.rs, with the
 * loads of ActiveSequences, lib/llm/src/kv_router/sequence.rs). For each replica w, the cost of
 * sending it the request, lower is better:
 *
 *   logit(w) = overlap_score_weight × prefill_blocks(w) + decode_blocks(w)
 *   prefill_blocks(w) = (prefill tokens w has pending + prompt tokens − overlap(w) × block size) / block size
 *   decode_blocks(w)  = blocks w's active requests hold + the request's blocks they do not
 *
 * where overlap(w) is the prompt blocks w's cache holds in a row (the prefix index). The replica
 * is drawn by softmax over the negated, range-normalized logits at `router_temperature`; at 0 it is
 * the cheapest, a tie going to the replica with the fewest cached blocks (Dynamo's tree size), and
 * a tie of those to a random one (seeded here).
 */
import type { Random } from '../../util/random.js';
import type { KvRouterConfig, Router, RoutingState } from '../router.js';

export function createKvAwareRouter(state: RoutingState, config: KvRouterConfig, rng: Random): Router {
  const n = state.replicas.length;
  const bs = state.blockSize;
  const logits = new Float64Array(n);
  const depths = new Int32Array(n);
  const candidates: number[] = [];
  return {
    name: 'kv-aware',
    usesCacheState: true,
    route(q) {
      const keys = q.keys();
      const overlaps = q.overlaps();
      state.active.activeDepths(keys, depths);
      const isl = q.request.promptTokenIds.length;
      for (let w = 0; w < n; w++) {
        const prefillTokens = state.active.prefillTokens[w]! + Math.max(0, isl - overlaps[w]! * bs);
        const decodeBlocks = state.active.activeBlocks(w) + (keys.length - depths[w]!);
        logits[w] = config.overlapScoreWeight * (prefillTokens / bs) + decodeBlocks;
      }
      softmaxSample(logits, config.routerTemperature, rng, candidates);
      if (candidates.length === 1) return candidates[0]!;
      // Tied: the replica with the fewest cached blocks, then a random one of those.
      let fewest = Infinity;
      for (const w of candidates) fewest = Math.min(fewest, state.index.blocksOf(w));
      const smallest = candidates.filter((w) => state.index.blocksOf(w) === fewest);
      return smallest.length === 1 ? smallest[0]! : smallest[rng.nextInt(smallest.length)]!;
    },
  };
}

/**
 * Dynamo's `softmax_sample`: at temperature 0 every replica of the lowest logit (ties kept);
 * otherwise one replica drawn with probability ∝ exp(−(logit / (max − min)) / temperature)
 * (uniform when all logits are equal). Writes the candidates to `out`.
 */
export function softmaxSample(logits: Float64Array, temperature: number, rng: Random, out: number[]): void {
  out.length = 0;
  const n = logits.length;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    min = Math.min(min, logits[i]!);
    max = Math.max(max, logits[i]!);
  }
  if (temperature === 0) {
    for (let i = 0; i < n; i++) if (logits[i] === min) out.push(i);
    return;
  }
  if (min === max) {
    out.push(rng.nextInt(n));
    return;
  }
  const range = max - min;
  // exp(−(v / range) / T) relative to its largest value (at v = min), so nothing overflows.
  const top = -(min / range) / temperature;
  let sum = 0;
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) sum += weights[i] = Math.exp(-(logits[i]! / range) / temperature - top);
  const sample = rng.nextFloat() * sum;
  let cumulative = 0;
  for (let i = 0; i < n; i++) {
    cumulative += weights[i]!;
    if (sample < cumulative) {
      out.push(i);
      return;
    }
  }
  out.push(n - 1);
}
