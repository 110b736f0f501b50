/**
 * The overhead benchmark's arithmetic: its windows alternate nimsim, bare, nimsim, bare… against
 * two servers that stay up for the whole run, so nimsim accumulates cache state across its windows
 * while machine drift hits both alike. Window i pairs nimsim's i-th window with bare's i-th.
 *
 * - window ratio: nimsim req/s ÷ bare req/s of one pair;
 * - steady-state ratio: the mean of the window ratios after the first (the first is still warming
 *   up the JIT and the caches);
 * - trend: nimsim's last window ÷ its first — below 1 nimsim slows down as it runs, which no ratio
 *   of means shows; `trendVsBare` divides out what bare did over the same time (the machine's drift).
 */

export type OverheadTarget = 'nimsim' | 'bare';

export interface WindowRun {
  readonly target: OverheadTarget;
  readonly requestsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Errors, timeouts and non-2xx answers. */
  readonly failures: number;
  /**
   * CPU time (user + system) the server spent per answered request, in µs, from /proc; undefined
   * where /proc is not there. Unlike req/s it hardly moves when something else takes the cores.
   */
  readonly cpuUsPerRequest: number | undefined;
}

export interface WindowPair {
  /** 1-based. */
  readonly index: number;
  readonly nimsim: WindowRun;
  readonly bare: WindowRun;
  /** nimsim req/s ÷ bare req/s in this pair. */
  readonly ratio: number;
}

export interface OverheadSummary {
  readonly pairs: readonly WindowPair[];
  /** Mean window ratio after the first (the only one when there is one window). */
  readonly steadyRatio: number;
  /** nimsim's last window req/s ÷ its first. */
  readonly trend: number;
  /** The last window ratio ÷ the first: the trend with the machine's drift divided out. */
  readonly trendVsBare: number;
  /** nimsim's last window CPU per request ÷ its first (> 1: each request costs more); NaN without /proc. */
  readonly cpuPerRequestGrowth: number;
  readonly failures: number;
}

/** Reported targets of the long run (not asserted there). */
export const TARGET_STEADY_RATIO = 0.5;
export const TARGET_STEADY_RATIO_UNIQUE = 0.35;
export const TARGET_TREND = 0.9;

/**
 * The slowdown check (CI): nimsim's last window below this fraction of its first fails. Relative
 * to nimsim's own first window, never an absolute rate, so it holds on any machine.
 */
export const SLOWDOWN_LIMIT = 0.8;

export function pairOf(index: number, nimsim: WindowRun, bare: WindowRun): WindowPair {
  return { index, nimsim, bare, ratio: nimsim.requestsPerS / bare.requestsPerS };
}

/** Pairs `runs` (nimsim, bare, nimsim, bare…, in the order run) and computes the summary. */
export function summarizeWindows(runs: readonly WindowRun[]): OverheadSummary {
  const nimsim = runs.filter((r) => r.target === 'nimsim');
  const bare = runs.filter((r) => r.target === 'bare');
  if (nimsim.length === 0 || nimsim.length !== bare.length)
    throw new Error(
      `overhead windows: ${nimsim.length} nimsim and ${bare.length} bare windows, need equal counts ≥ 1`,
    );
  const pairs = nimsim.map((n, i) => pairOf(i + 1, n, bare[i]!));
  const steady = pairs.length > 1 ? pairs.slice(1) : pairs;
  const first = pairs[0]!;
  const last = pairs.at(-1)!;
  const cpuFirst = first.nimsim.cpuUsPerRequest;
  const cpuLast = last.nimsim.cpuUsPerRequest;
  return {
    pairs,
    steadyRatio: steady.reduce((a, p) => a + p.ratio, 0) / steady.length,
    trend: last.nimsim.requestsPerS / first.nimsim.requestsPerS,
    trendVsBare: last.ratio / first.ratio,
    cpuPerRequestGrowth: cpuFirst === undefined || cpuLast === undefined ? NaN : cpuLast / cpuFirst,
    failures: runs.reduce((a, r) => a + r.failures, 0),
  };
}

/** True when nimsim slowed down past the limit over the run (the CI check). */
export function slowedDown(summary: OverheadSummary): boolean {
  return !(summary.trend >= SLOWDOWN_LIMIT);
}
