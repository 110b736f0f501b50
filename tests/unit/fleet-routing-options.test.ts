import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createPromptBlockKeys } from '../../src/engine/prompt-blocks.js';
import { fleetRoutingOf } from '../../src/fleet/routing-options.js';

describe('fleetRoutingOf', () => {
  it('routes kv-aware with Dynamo-like weights when the router is unset', () => {
    const routing = fleetRoutingOf(loadConfig({}));
    expect(routing.router).toBe('kv-aware');
    expect(routing.kvRouter).toEqual({ overlapScoreWeight: 1, routerTemperature: 0 });
    expect(routing.seed).toBe(0);
    expect(routing.blockSize).toBe(16);
  });

  it('takes the router, its weights, the seed and the block size from the settings', () => {
    const config = loadConfig({
      NIMSIM_ROUTER: 'session',
      NIMSIM_KV_OVERLAP_SCORE_WEIGHT: '2.5',
      NIMSIM_ROUTER_TEMPERATURE: '0.7',
      NIMSIM_SEED: '42',
      NIMSIM_KV_BLOCK_SIZE: '32',
    });
    const routing = fleetRoutingOf(config);
    expect(routing.router).toBe('session');
    expect(routing.kvRouter).toEqual({ overlapScoreWeight: 2.5, routerTemperature: 0.7 });
    expect(routing.seed).toBe(42);
    expect(routing.blockSize).toBe(32);
    // The block keys the engines' prefix cache uses: same model, same block size.
    const prompt = Array.from({ length: 100 }, (_, i) => i);
    expect(routing.blockKeys(prompt)).toEqual(createPromptBlockKeys(config.modelName, 32)(prompt));
    expect(routing.blockKeys(prompt)).toHaveLength(3);
  });
});
