import { describe, expect, it } from 'vitest';
import { aggregate, requestMetrics } from '../../load-tests/lib/metrics.js';
import { percentile, summarize } from '../../load-tests/lib/percentiles.js';
import type { StreamResult } from '../../load-tests/lib/sse-client.js';

/** A successful stream: sent at `sent`, content chunks at `chunks`, ended at `end`. */
function stream(
  sent: number,
  chunks: number[],
  end: number,
  extra: Partial<StreamResult> = {},
): StreamResult {
  return {
    status: 200,
    sentAtMs: sent,
    headersAtMs: sent + 1,
    contentChunkMs: chunks,
    completionTokens: chunks.length,
    promptTokens: 100,
    cachedTokens: 0,
    text: '',
    endAtMs: end,
    done: true,
    error: undefined,
    ...extra,
  };
}

describe('load-test percentiles', () => {
  it('uses nearest rank: p50 of 1..10 is 5, p90 is 9, p99 is 10', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect([percentile(xs, 50), percentile(xs, 90), percentile(xs, 99)]).toEqual([5, 9, 10]);
  });

  it('summarizes any order and an empty sample as zeros', () => {
    expect(summarize([3, 1, 2])).toEqual({ count: 3, mean: 2, p50: 2, p90: 3, p99: 3, max: 3 });
    expect(summarize([])).toEqual({ count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });
});

describe('AIPerf record metrics', () => {
  it('TTFT is first content chunk minus send; ITL is (last − first) / (tokens − 1); e2e ends with the stream', () => {
    const m = requestMetrics(stream(1000, [1100, 1120, 1140, 1160, 1180], 1185));
    expect(m).toEqual({ ttftMs: 100, e2eMs: 185, itlMs: 20, tokensPerSPerUser: 50, outputTokens: 5 });
  });

  it('counts output tokens from usage, not chunks (several tokens per chunk)', () => {
    // 3 chunks carrying 9 tokens: ITL = 80 ms / 8 = 10 ms.
    const m = requestMetrics(stream(0, [50, 90, 130], 131, { completionTokens: 9 }));
    expect(m?.outputTokens).toBe(9);
    expect(m?.itlMs).toBe(10);
  });

  it('has no ITL for a one-token reply', () => {
    const m = requestMetrics(stream(0, [40], 41));
    expect(m?.itlMs).toBeUndefined();
    expect(m?.tokensPerSPerUser).toBeUndefined();
    expect(m?.ttftMs).toBe(40);
  });

  it('scales client wall times to simulated times by the time scale', () => {
    const m = requestMetrics(stream(0, [10, 12, 14], 15), 10);
    expect(m).toEqual({ ttftMs: 100, e2eMs: 150, itlMs: 20, tokensPerSPerUser: 50, outputTokens: 3 });
  });

  it('treats non-200, in-band errors, missing [DONE] and empty replies as failures', () => {
    expect(requestMetrics(stream(0, [], 5, { status: 429, error: 'HTTP 429' }))).toBeUndefined();
    expect(requestMetrics(stream(0, [5], 6, { error: 'in-band error: {}' }))).toBeUndefined();
    expect(requestMetrics(stream(0, [5], 6, { done: false }))).toBeUndefined();
    expect(requestMetrics(stream(0, [], 6))).toBeUndefined();
  });
});

describe('AIPerf run aggregates', () => {
  it('computes duration from first send to last response, throughputs, errors by cause and hit rate', () => {
    const records = [
      stream(0, [100, 110, 120], 125, { promptTokens: 200, cachedTokens: 150 }),
      stream(500, [600, 620], 1000, { promptTokens: 200, cachedTokens: 50 }),
      stream(700, [], 710, { status: 429, error: 'HTTP 429' }),
      stream(800, [], 900, { status: 0, error: 'ECONNRESET' }),
    ];
    const m = aggregate(records);
    expect(m.requests).toBe(4);
    expect(m.succeeded).toBe(2);
    expect(m.errorsByStatus).toEqual({ 'HTTP 429': 1, transport: 1 });
    expect(m.durationS).toBe(1);
    expect(m.requestsPerS).toBe(2);
    expect(m.outputTokensTotal).toBe(5);
    expect(m.outputTokensPerS).toBe(5);
    expect(m.ttftMs.mean).toBe(100);
    expect(m.itlMs.mean).toBe(15);
    expect(m.cacheHitRate).toBe(0.5);
  });

  it('divides rates by the time scale', () => {
    const m = aggregate([stream(0, [10, 20], 20), stream(0, [10, 20], 20)], 10);
    expect(m.durationS).toBe(0.2);
    expect(m.requestsPerS).toBe(10);
    expect(m.outputTokensPerS).toBe(20);
  });

  it('reports a zero hit rate when the server sends no cached_tokens (caching off)', () => {
    const m = aggregate([stream(0, [10, 20], 20, { cachedTokens: undefined })]);
    expect(m.cacheHitRate).toBe(0);
  });
});

describe('ITL and tok/s/user columns agree', () => {
  it('shows the median user (1000 / ITL p50), not the mean of 1/ITL a burst dominates', async () => {
    const { METRIC_COLUMNS, metricCells, medianTokensPerSPerUser } =
      await import('../../load-tests/lib/metrics-table.js');
    // Four requests streaming at ~6 ms a token and one whose 64 tokens arrived in one burst
    // 1.7 ms long: its 1/ITL is ~37,000 tokens/s.
    const steady = (sent: number, itl: number) =>
      stream(
        sent,
        Array.from({ length: 64 }, (_, i) => sent + 50 + i * itl),
        sent + 50 + 64 * itl,
      );
    const burst = stream(0, [100, 101.7], 102, { completionTokens: 64 });
    const m = aggregate([steady(0, 5.8), steady(10, 5.9), steady(20, 6.0), steady(30, 6.1), burst]);
    // AIPerf's per-request Output TPS/User averaged: the burst makes it ~7,600 tokens/s.
    expect(m.tokensPerSPerUser.mean).toBeGreaterThan(7000);
    const cells = Object.fromEntries(METRIC_COLUMNS.map((c, i) => [c, metricCells(m)[i]]));
    expect(cells['ITL p50 ms']).toBe('5.90');
    expect(cells['tok/s/user p50']).toBe('169.5');
    expect(medianTokensPerSPerUser(m)).toBeCloseTo(1000 / m.itlMs.p50, 9);
    // With an odd count the median of per-request 1/ITL is exactly 1000 / ITL p50.
    expect(m.tokensPerSPerUser.p50).toBeCloseTo(medianTokensPerSPerUser(m), 9);
  });
});
