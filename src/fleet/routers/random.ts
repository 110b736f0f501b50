/** Uniformly random replica (Dynamo's `--router-mode random`), from a stream seeded by NIMSIM_SEED. */
import type { Random } from '../../util/random.js';
import type { Router } from '../router.js';

export function createRandomRouter(replicas: number, rng: Random): Router {
  return {
    name: 'random',
    usesCacheState: false,
    route: () => rng.nextInt(replicas),
  };
}
