/**
 * The sweep's table, notes and conclusions from one list of levels, so that every number a
 * conclusion states is a cell of the table beside it (the same rounding, the same statistic).
 */
import type { RunMetrics } from '../lib/metrics.js';
import { METRIC_COLUMNS, METRIC_NOTE, metricCells } from '../lib/metrics-table.js';
import { num, type Table } from '../lib/report.js';
import { trendText } from '../lib/trend-text.js';

export interface SweepLevel {
  readonly concurrency: number;
  readonly metrics: RunMetrics;
  /** nimsim_engine_step_lag_seconds in ms after the level; undefined for other servers. */
  readonly stepLagMs: number | undefined;
}

export interface SweepSections {
  readonly table: Table;
  /** What the prefix cache could reuse, from the measured hit rates. */
  readonly cacheNote: string;
  readonly conclusions: readonly string[];
}

/** `value` of every level, for trendText. */
function trend(
  levels: readonly SweepLevel[],
  value: (m: RunMetrics) => number,
  digits: number,
  unit: string,
): string {
  return trendText(
    levels.map((l) => ({ label: `c=${l.concurrency}`, value: value(l.metrics) })),
    digits,
    unit,
  );
}

/** Table, cache note and conclusions of a sweep over `levels` (ascending concurrency, ≥ 1). */
export function sweepSections(levels: readonly SweepLevel[]): SweepSections {
  const lo = levels[0]!;
  const hi = levels[levels.length - 1]!;
  const table: Table = {
    title: 'Per concurrency',
    columns: ['concurrency', ...METRIC_COLUMNS, 'server step lag ms'],
    rows: levels.map((r) => [
      r.concurrency,
      ...metricCells(r.metrics),
      r.stepLagMs === undefined ? 'n/a' : num(r.stepLagMs, 1),
    ]),
    note: METRIC_NOTE,
  };

  const hits = levels.map((l) => l.metrics.cacheHitRate * 100);
  const hitLo = num(Math.min(...hits));
  const hitHi = num(Math.max(...hits));
  const hitRange = hitLo === hitHi ? `${hitLo} %` : `${hitLo}–${hitHi} %`;
  const cached = lo.metrics.cachedTokens;
  const cacheNote =
    Math.max(...hits) === 0
      ? 'Every prompt differs from its first token, and the prefix cache reused nothing (cache hit 0 %).'
      : `Every prompt differs from its first content token, so the prefix cache can only reuse what all ` +
        `prompts share before it — the chat template's opening tokens (${num(cached.p50, 0)} cached of ` +
        `${num(lo.metrics.promptTokens.mean, 0)} billed per request at c=${lo.concurrency}): cache hit ${hitRange} ` +
        'in the table, none of it from the prompts themselves.';

  const tput = (m: RunMetrics) => m.outputTokensPerS;
  const grew = tput(hi.metrics) > tput(lo.metrics);
  const slower = hi.metrics.itlMs.p50 > lo.metrics.itlMs.p50;
  // The last level whose throughput beat every lower level's by more than 10 %.
  const knee = levels.reduce((best, r) => (tput(r.metrics) > tput(best.metrics) * 1.1 ? r : best));
  const conclusions = [
    `Output throughput went from ${trend(levels, tput, 0, ' tok/s')}; ITL p50 from ${trend(levels, (m) => m.itlMs.p50, 2, ' ms')}; ` +
      `TTFT mean from ${trend(levels, (m) => m.ttftMs.mean, 1, ' ms')}.` +
      (grew && slower ? ' Batching trades per-user speed for total throughput.' : ''),
    knee === hi
      ? `Throughput still grew by more than 10 % at c=${hi.concurrency}, the highest level measured: the server is not saturated yet.`
      : `Throughput stopped growing by more than 10 % a level after c=${knee.concurrency} (${num(tput(knee.metrics), 0)} tok/s).`,
    'Pick the highest concurrency whose TTFT p90 and tok/s/user p50 still meet your latency target.',
  ];
  return { table, cacheNote, conclusions };
}
