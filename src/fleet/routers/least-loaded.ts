/**
 * Least loaded, as vLLM's internal data-parallel load balancer picks an engine
 * (`DPLBAsyncMPClient.get_core_engine_for_request`, vllm/v1/engine/core_client.py): the lowest
 * `waiting × 4 + running`, first one found on a tie. vLLM weighs a waiting request four times a
 * running one, since queueing is what lengthens TTFT. vLLM reads counts its coordinator publishes
 * every 100 ms and bumps its own estimate in between; here each replica's counts are read exact.
 */
import type { ReplicaLoad, Router } from '../router.js';

/** vLLM's weight of a waiting request against a running one. */
export const WAITING_WEIGHT = 4;

export function createLeastLoadedRouter(replicas: readonly ReplicaLoad[]): Router {
  return {
    name: 'least-loaded',
    usesCacheState: false,
    route() {
      let best = 0;
      let bestScore = Infinity;
      for (let i = 0; i < replicas.length; i++) {
        const s = replicas[i]!.stats();
        const score = s.waiting * WAITING_WEIGHT + s.running;
        if (score < bestScore) {
          bestScore = score;
          best = i;
        }
      }
      return best;
    },
  };
}
