/** `simulate --turns`: the per-turn breakdown shows what the prefix cache does for later turns. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { runSimulation } from '../../src/simulate/simulate.js';
import type { WorkloadOptions } from '../../src/simulate/workload.js';

const workload: WorkloadOptions = {
  concurrency: 4,
  requests: 48,
  inputTokens: 1000,
  outputTokens: 50,
  sharedPrefixTokens: 0,
  turns: 3,
  thinkTimeMs: 0,
};
const run = (reuse: '0' | '1', w: WorkloadOptions = workload) =>
  runSimulation(loadConfig({}, { gpu: 'h100-sxm', precision: 'fp8', tp: '1', enableKvCacheReuse: reuse }), w);

describe('simulate per-turn report', () => {
  it('shows later turns served from the cache, and faster than without it', () => {
    const on = run('1');
    const off = run('0');
    expect(on.by_turn?.map((t) => t.turn)).toEqual([1, 2, 3]);
    expect(on.by_turn?.map((t) => t.requests)).toEqual([16, 16, 16]);
    const [first, second] = on.by_turn!;
    expect(first!.prompt_tokens_mean).toBe(1000);
    expect(first!.cached_tokens_mean).toBe(0);
    // Turn 2 resends turn 1's prompt and answer: all but the last partial block is cached.
    const resent = first!.prompt_tokens_mean + workload.outputTokens;
    expect(second!.cached_tokens_mean).toBeGreaterThan(resent - 2 * 16);
    expect(second!.cached_tokens_mean).toBeLessThanOrEqual(resent);
    expect(off.by_turn?.[1]?.cached_tokens_mean).toBe(0);
    expect(second!.ttft_ms.mean).toBeLessThan(off.by_turn![1]!.ttft_ms.mean / 1.5);
  });

  it('is left out of single-turn runs', () => {
    expect(run('1', { ...workload, turns: 1 })).not.toHaveProperty('by_turn');
  });
});
