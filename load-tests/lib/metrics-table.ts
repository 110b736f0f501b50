/**
 * The standard columns for AIPerf-style run metrics in a report table, and the checks every run
 * must pass (no errors, tokens counted, latencies positive).
 */
import { errorCount, type RunMetrics } from './metrics.js';
import { num, type Check } from './report.js';

export const METRIC_COLUMNS = [
  'requests ok',
  'errors',
  'TTFT mean ms',
  'TTFT p50',
  'TTFT p90',
  'TTFT p99',
  'ITL mean ms',
  'ITL p99',
  'e2e p50 ms',
  'tok/s/user',
  'output tok/s',
  'req/s',
  'ISL billed',
  'cache hit %',
] as const;

/** The METRIC_COLUMNS cells of `m`. */
export function metricCells(m: RunMetrics): string[] {
  return [
    `${m.succeeded}/${m.requests}`,
    String(errorCount(m)),
    num(m.ttftMs.mean),
    num(m.ttftMs.p50),
    num(m.ttftMs.p90),
    num(m.ttftMs.p99),
    num(m.itlMs.mean, 2),
    num(m.itlMs.p99, 2),
    num(m.e2eMs.p50, 0),
    num(m.tokensPerSPerUser.mean),
    num(m.outputTokensPerS, 0),
    num(m.requestsPerS, 2),
    num(m.promptTokens.mean, 0),
    num(m.cacheHitRate * 100),
  ];
}

/**
 * The sanity checks of one run: every request succeeded, output tokens were counted from usage
 * (exactly `expectedOutputTokens` each when given), TTFT and ITL positive.
 */
export function runChecks(label: string, m: RunMetrics, expectedOutputTokens?: number): Check[] {
  const errors = errorCount(m);
  const checks: Check[] = [
    {
      name: `${label}: no errors`,
      ok: errors === 0 && m.requests > 0,
      detail: `${m.succeeded}/${m.requests} ok${errors > 0 ? `, errors ${JSON.stringify(m.errorsByStatus)}` : ''}`,
    },
    {
      name: `${label}: latencies positive`,
      ok: m.ttftMs.count > 0 && m.ttftMs.p50 > 0 && m.itlMs.count > 0 && m.itlMs.p50 > 0,
      detail: `TTFT p50 ${num(m.ttftMs.p50)} ms, ITL p50 ${num(m.itlMs.p50, 2)} ms`,
    },
  ];
  if (expectedOutputTokens !== undefined) {
    const expected = expectedOutputTokens * m.succeeded;
    checks.push({
      name: `${label}: output tokens counted`,
      ok: m.outputTokensTotal === expected && expected > 0,
      detail: `${m.outputTokensTotal} tokens from usage (expected ${expected})`,
    });
  }
  return checks;
}
