/**
 * The overhead benchmark's console lines, shared by load-tests/overhead.ts and the `overhead`
 * scenario: one line per window pair as it completes, then the summary against the targets.
 */
import {
  SLOWDOWN_LIMIT,
  TARGET_STEADY_RATIO,
  TARGET_STEADY_RATIO_UNIQUE,
  TARGET_TREND,
  type OverheadSummary,
  type WindowPair,
} from './overhead-windows.js';

const col = (x: string, width: number) => x.padStart(width);
const fixed = (x: number | undefined, digits = 0) =>
  x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);

export const WINDOW_HEADER =
  `${'window'.padEnd(8)}${col('nimsim req/s', 14)}${col('bare req/s', 12)}${col('ratio', 8)}` +
  `${col('nimsim µs/req', 15)}${col('bare µs/req', 13)}${col('nimsim p99 ms', 15)}`;

/** One window pair: both rates, their ratio, each server's CPU per request, nimsim's p99. */
export function windowLine(p: WindowPair): string {
  const failed = p.nimsim.failures + p.bare.failures;
  return (
    `${String(p.index).padEnd(8)}${col(fixed(p.nimsim.requestsPerS), 14)}${col(fixed(p.bare.requestsPerS), 12)}` +
    `${col(fixed(p.ratio, 3), 8)}${col(fixed(p.nimsim.cpuUsPerRequest), 15)}${col(fixed(p.bare.cpuUsPerRequest), 13)}` +
    `${col(fixed(p.nimsim.p99Ms), 15)}${failed > 0 ? `  (${failed} failed)` : ''}`
  );
}

const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** The summary lines: steady-state ratio, trend (raw and against bare), CPU growth, failures. */
export function summaryLines(s: OverheadSummary, uniquePrompts: boolean): string[] {
  const ratioTarget = uniquePrompts ? TARGET_STEADY_RATIO_UNIQUE : TARGET_STEADY_RATIO;
  const windowsAfterFirst = s.pairs.length > 1 ? `windows 2–${s.pairs.length}` : 'the only window';
  return [
    `steady-state ratio nimsim/bare (mean of ${windowsAfterFirst}): ${fixed(s.steadyRatio, 3)} ` +
      `(target ≥ ${ratioTarget}: ${verdict(s.steadyRatio >= ratioTarget)})`,
    `nimsim last window ÷ first: ${fixed(s.trend, 3)} (target ≥ ${TARGET_TREND}: ${verdict(s.trend >= TARGET_TREND)}; ` +
      `slowdown check ≥ ${SLOWDOWN_LIMIT}: ${s.trend >= SLOWDOWN_LIMIT ? 'passed' : 'FAILED'})`,
    `  the same against bare (last ratio ÷ first ratio): ${fixed(s.trendVsBare, 3)}; ` +
      `nimsim CPU per request last ÷ first: ${fixed(s.cpuPerRequestGrowth, 2)}`,
    ...(s.failures > 0 ? [`${s.failures} failed requests`] : []),
  ];
}
