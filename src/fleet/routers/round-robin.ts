/** Round robin: replica 0, 1, …, N−1, 0, … whatever their state (Dynamo's `--router-mode round-robin`). */
import type { Router } from '../router.js';

export function createRoundRobinRouter(replicas: number): Router {
  let next = 0;
  return {
    name: 'round-robin',
    usesCacheState: false,
    route() {
      const r = next;
      next = next + 1 === replicas ? 0 : next + 1;
      return r;
    },
  };
}
