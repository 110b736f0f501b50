/** Builds the router a setting names (NIMSIM_ROUTER), each from its own seeded random stream. */
import { createRandom, hashSeed } from '../util/random.js';
import type { KvRouterConfig, Router, RouterName, RoutingState } from './router.js';
import { createKvAwareRouter } from './routers/kv-aware.js';
import { createLeastLoadedRouter } from './routers/least-loaded.js';
import { createRandomRouter } from './routers/random.js';
import { createRoundRobinRouter } from './routers/round-robin.js';
import { createSessionRouter } from './routers/session.js';

export function createRouter(
  name: RouterName,
  state: RoutingState,
  kv: KvRouterConfig,
  seed: number,
): Router {
  const n = state.replicas.length;
  switch (name) {
    case 'round-robin':
      return createRoundRobinRouter(n);
    case 'random':
      return createRandomRouter(n, createRandom(hashSeed(seed, 'router-random')));
    case 'least-loaded':
      return createLeastLoadedRouter(state.replicas);
    case 'kv-aware':
      return createKvAwareRouter(state, kv, createRandom(hashSeed(seed, 'router-kv-aware')));
    case 'session':
      return createSessionRouter(
        createKvAwareRouter(state, kv, createRandom(hashSeed(seed, 'router-kv-aware'))),
        (r) => state.replicas[r]!.waitingRoom(),
      );
  }
}
