/** `simulate --slo-ttft-ms / --slo-itl-ms`: goodput, the completed requests that met the objectives. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { runSimulation } from '../../src/simulate/simulate.js';
import { parseTrace } from '../../src/simulate/trace.js';
import { runTraceSimulation, TRACE_BLOCK_SIZE } from '../../src/simulate/trace-replay.js';
import type { WorkloadOptions } from '../../src/simulate/workload.js';

const config = loadConfig({});
const base: WorkloadOptions = {
  concurrency: 64,
  requests: 600,
  inputTokens: 800,
  outputTokens: 100,
  sharedPrefixTokens: 0,
  turns: 1,
  thinkTimeMs: 0,
  inputTokensStddev: 400,
};

describe('simulate goodput', () => {
  it('is absent without objectives', () => {
    expect(runSimulation(config, base)).not.toHaveProperty('goodput');
  });

  it('counts every request under objectives nothing misses', () => {
    const r = runSimulation(config, { ...base, slo: { ttftMs: 1e9, itlMs: 1e9 } });
    expect(r.goodput).toEqual({
      slo_ttft_ms: 1e9,
      slo_itl_ms: 1e9,
      requests_per_s: r.requests_per_s,
      fraction: 1,
    });
  });

  it('counts the requests within each objective, and within both only those within each', () => {
    const plain = runSimulation(config, base);
    // The report rounds percentiles to 0.001 ms: half of that more takes in every value they stand for.
    const p50Ttft = plain.ttft_ms.p50 + 0.0005;
    const p90Itl = plain.itl_ms.p90 + 0.0005;
    const ttft = runSimulation(config, { ...base, slo: { ttftMs: p50Ttft } }).goodput!;
    const itl = runSimulation(config, { ...base, slo: { itlMs: p90Itl } }).goodput!;
    const both = runSimulation(config, { ...base, slo: { ttftMs: p50Ttft, itlMs: p90Itl } }).goodput!;
    // Nearest-rank p50 and p90: at least half, and at least nine in ten, are within them.
    expect(ttft.fraction).toBeGreaterThanOrEqual(0.5);
    expect(ttft.fraction).toBeLessThan(0.6);
    expect(itl.fraction).toBeGreaterThanOrEqual(0.9);
    expect(itl.fraction).toBeLessThan(1);
    expect(both.fraction).toBeLessThanOrEqual(Math.min(ttft.fraction, itl.fraction));
    expect(both.fraction).toBeGreaterThanOrEqual(ttft.fraction + itl.fraction - 1);
    expect(both).not.toHaveProperty('slo_e2e_ms');
    expect(ttft).not.toHaveProperty('slo_itl_ms');
    expect(both.requests_per_s).toBeCloseTo(plain.requests_per_s * both.fraction, 1);
  });

  it('is reported for trace replays too', () => {
    const entries = parseTrace(
      Array.from({ length: 30 }, (_, i) =>
        JSON.stringify({ timestamp: i * 20, input_length: 2000, output_length: 30 }),
      ).join('\n'),
    );
    const r = runTraceSimulation(config, entries, { blockSize: TRACE_BLOCK_SIZE, slo: { ttftMs: 1e9 } });
    expect(r.goodput).toEqual({ slo_ttft_ms: 1e9, requests_per_s: r.requests_per_s, fraction: 1 });
  });
});
