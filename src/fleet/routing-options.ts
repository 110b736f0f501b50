/**
 * How a fleet routes, from the settings: the same for a fleet of whole replicas (src/runtime.ts)
 * and for disaggregated prefill and decode pools (disagg/disagg-runtime.ts), so the two cannot
 * drift apart (a default router, a seed or a block size read one way here and another there).
 */
import type { Config } from '../config/config.js';
import { createPromptBlockKeys } from '../engine/prompt-blocks.js';
import type { FleetOptions } from './fleet.js';

/** The options of a fleet that say how it routes. */
export type FleetRouting = Pick<FleetOptions, 'router' | 'kvRouter' | 'seed' | 'blockSize' | 'blockKeys'>;

/** The router a fleet runs (NIMSIM_ROUTER, kv-aware when unset), its kv-aware weights and its seed. */
export function fleetRoutingOf(config: Config): FleetRouting {
  return {
    router: config.router ?? 'kv-aware',
    kvRouter: {
      overlapScoreWeight: config.kvOverlapScoreWeight,
      routerTemperature: config.routerTemperature,
    },
    seed: config.seed,
    blockSize: config.kvBlockSize,
    blockKeys: createPromptBlockKeys(config.modelName, config.kvBlockSize),
  };
}
