/**
 * The standard columns for AIPerf-style run metrics in a report table, and the checks every run
 * must pass (no errors, tokens counted, latencies positive).
 */
import { errorCount, type RunMetrics } from './metrics.js';
import { num, type Check, type Table } from './report.js';

export const METRIC_COLUMNS = [
  'requests ok',
  'errors',
  'TTFT mean ms',
  'TTFT p50',
  'TTFT p90',
  'TTFT p99',
  'ITL p50 ms',
  'ITL mean ms',
  'ITL p99',
  'tok/s/user p50',
  'e2e p50 ms',
  'output tok/s',
  'req/s',
  'ISL billed',
  'cache hit %',
] as const;

/**
 * The median user's streaming speed, tokens/s: 1000 / ITL p50. AIPerf's "Output TPS/User" is 1 /
 * ITL per request (aiperf/metrics/types/output_token_throughput_metrics.py in
 * github.com/ai-dynamo/aiperf), so its median is this (for an odd count exactly; nearest-rank picks
 * a neighbour for an even one); it is shown instead of that metric's mean, which a few requests
 * whose tokens arrived in one burst (ITL near 0, 1/ITL huge) dominate.
 */
export function medianTokensPerSPerUser(m: RunMetrics): number {
  return m.itlMs.count > 0 && m.itlMs.p50 > 0 ? 1000 / m.itlMs.p50 : NaN;
}

/** What the ITL and tok/s/user columns are; printed under every table of METRIC_COLUMNS. */
export const METRIC_NOTE =
  "ITL is AIPerf's inter-token latency of one request, (last token − first token) / (output tokens − 1) " +
  'with output tokens from usage (aiperf/metrics/types/inter_token_latency_metric.py, github.com/ai-dynamo/aiperf); ' +
  "ITL p50 / mean / p99 are over requests. tok/s/user p50 = 1000 / ITL p50, the median user's streaming " +
  "speed. The mean of per-request 1/ITL (AIPerf's Output TPS/User average; tokensPerSPerUser in report.json) " +
  'is not shown: a request whose tokens arrive in one burst has an ITL near 0 and dominates it.';

/** The METRIC_COLUMNS cells of `m`. */
export function metricCells(m: RunMetrics): string[] {
  return [
    `${m.succeeded}/${m.requests}`,
    String(errorCount(m)),
    num(m.ttftMs.mean),
    num(m.ttftMs.p50),
    num(m.ttftMs.p90),
    num(m.ttftMs.p99),
    num(m.itlMs.p50, 2),
    num(m.itlMs.mean, 2),
    num(m.itlMs.p99, 2),
    num(medianTokensPerSPerUser(m)),
    num(m.e2eMs.p50, 0),
    num(m.outputTokensPerS, 0),
    num(m.requestsPerS, 2),
    num(m.promptTokens.mean, 0),
    num(m.cacheHitRate * 100),
  ];
}

/** `first <cause>: <message>` for each failure cause of `m`, e.g. the server's 404 message. */
export function firstErrorsText(m: RunMetrics): string {
  return Object.entries(m.firstErrors)
    .map(
      ([cause, message]) =>
        `first ${cause}: ${message.startsWith(cause) ? message.slice(cause.length).replace(/^: /, '') : message}`,
    )
    .join('; ');
}

/** A table of METRIC_COLUMNS, one row per labelled run, with the columns explained under it. */
export function metricTable(
  title: string,
  firstColumn: string,
  runs: readonly (readonly [string | number, RunMetrics])[],
): Table {
  return {
    title,
    columns: [firstColumn, ...METRIC_COLUMNS],
    rows: runs.map(([label, m]) => [label, ...metricCells(m)]),
    note: METRIC_NOTE,
  };
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
      detail: `${m.succeeded}/${m.requests} ok${errors > 0 ? `, errors ${JSON.stringify(m.errorsByStatus)}; ${firstErrorsText(m)}` : ''}`,
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
      detail:
        m.succeeded === 0
          ? 'no request succeeded, so no tokens to count (see the errors)'
          : `${m.outputTokensTotal} tokens from usage (expected ${expected})`,
    });
  }
  return checks;
}
