import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { runSimulation } from '../../src/simulate/simulate.js';
import type { WorkloadOptions } from '../../src/simulate/workload.js';

const config = loadConfig({}, { gpu: 'h100-sxm', precision: 'fp8', tp: '1' });
const workload = (over: Partial<WorkloadOptions>): WorkloadOptions => ({
  concurrency: 1,
  requests: 600,
  inputTokens: 200,
  outputTokens: 200,
  sharedPrefixTokens: 0,
  turns: 1,
  thinkTimeMs: 0,
  ...over,
});

describe('simulate in open loop (--request-rate)', () => {
  it('delivers the offered rate with near-idle latency well below capacity', () => {
    const idle = runSimulation(config, workload({ concurrency: 1, requests: 50 }));
    const light = runSimulation(config, workload({ requestRate: 5 }));
    expect(light.requests).toBe(600);
    expect(light.requests_per_s / 5).toBeGreaterThan(0.85);
    expect(light.requests_per_s / 5).toBeLessThan(1.15);
    expect(light.ttft_ms.mean).toBeLessThan(2 * idle.ttft_ms.mean + 5);
    expect(light.itl_ms.mean).toBeLessThan(1.5 * idle.itl_ms.mean);
  });

  it('queues past capacity: throughput saturates while time to first token grows without bound', () => {
    const capacity = runSimulation(config, workload({ concurrency: 256, requests: 1000 }));
    const over = runSimulation(
      config,
      workload({ requestRate: 2 * capacity.requests_per_s, requests: 1500 }),
    );
    const under = runSimulation(
      config,
      workload({ requestRate: 0.5 * capacity.requests_per_s, requests: 1500 }),
    );
    expect(over.output_tokens_per_s / capacity.output_tokens_per_s).toBeLessThan(1.15);
    expect(over.ttft_ms.p90).toBeGreaterThan(20 * under.ttft_ms.p90);
  });

  it('draws the same arrivals for the same seed', () => {
    const a = runSimulation(config, workload({ requestRate: 30, requests: 300 }));
    const b = runSimulation(config, workload({ requestRate: 30, requests: 300 }));
    expect({ ...a, wall_s: 0, speedup: 0 }).toEqual({ ...b, wall_s: 0, speedup: 0 });
    const other = runSimulation(
      loadConfig({}, { gpu: 'h100-sxm', precision: 'fp8', tp: '1', seed: '7' }),
      workload({ requestRate: 30, requests: 300 }),
    );
    expect(other.duration_s).not.toBe(a.duration_s);
  });
});
