/**
 * `simulate --html FILE`: the live page's views (src/ui/assets) over a whole offline run, as one
 * self-contained HTML file — timelines over simulated time of the batch, running and waiting
 * requests, KV usage per tier, latencies and the prefix hit rate, the KV blocks of every replica
 * at any moment (a slider), the router's totals. The data is the bucketed timeline
 * (html-timeline.ts), at most 1,000 points, rounded to four significant digits; per-replica series
 * are thinned further when there are many replicas, so the file stays small.
 */
import { binQuantile, LATENCY_BINS, latencyBinBounds } from '../ui/latency-bins.js';
import { reportPage } from '../ui/page.js';
import type { ReplicaField, Timeline } from './html-timeline.js';
import type { SimulationReport } from './report.js';

/** Points of all per-replica series together, at most (each replica gets its share, ≥ 50). */
const REPLICA_POINTS_BUDGET = 6000;

const r4 = (x: number | null): number | null =>
  x === null || !Number.isFinite(x) ? null : Number(x.toPrecision(4));

/** The replica's series with buckets that saw no step of it carrying the value before (its state did not change). */
function filledForward(t: Timeline, r: number): Record<ReplicaField, Float64Array> {
  const s = t.replicas[r]!;
  const f = t.filled[r]!;
  const tiers = t.tiers[r]!;
  const carried: ReplicaField[] = [
    'inUse',
    'reusable',
    'free',
    'host',
    'disk',
    'hit',
    'query',
    'evictions',
    'hostEvictions',
    'diskEvictions',
    'routed',
    'predicted',
    'actual',
  ];
  for (let b = 0; b < t.buckets; b++) {
    if (f[b]) continue;
    for (const k of carried) s[k][b] = b > 0 ? s[k][b - 1]! : k === 'free' ? tiers.gpu : 0;
  }
  return s;
}

/** Difference of a running total from the bucket before. */
const delta = (a: Float64Array, b: number) => a[b]! - (b > 0 ? a[b - 1]! : 0);

export interface HtmlReportOptions {
  /** The command line, shown under the title. */
  readonly command?: string;
}

export function renderHtmlReport(
  t: Timeline,
  report: SimulationReport,
  opts: HtmlReportOptions = {},
): string {
  const n = t.buckets;
  const seconds = t.widthMs / 1000;
  const R = t.replicas.length;
  const series = t.replicas.map((_, r) => filledForward(t, r));
  const gpuTotal = t.tiers.reduce((a, x) => a + x.gpu, 0) || 1;
  const sum = (b: number, k: ReplicaField) => series.reduce((a, s) => a + s[k][b]!, 0);
  const sumDelta = (b: number, k: ReplicaField) => series.reduce((a, s) => a + delta(s[k], b), 0);
  const col = <T>(f: (b: number) => T): T[] => Array.from({ length: n }, (_, b) => f(b));
  const quantiles = (h: Uint32Array) => ({
    p50: col((b) => r4(binQuantile(h, 0.5, b * LATENCY_BINS))),
    p90: col((b) => r4(binQuantile(h, 0.9, b * LATENCY_BINS))),
    p99: col((b) => r4(binQuantile(h, 0.99, b * LATENCY_BINS))),
  });
  const overall = (h: Uint32Array) => {
    const all = new Array<number>(LATENCY_BINS).fill(0);
    for (let b = 0; b < n; b++) for (let i = 0; i < LATENCY_BINS; i++) all[i]! += h[b * LATENCY_BINS + i]!;
    return all;
  };
  const steps = col((b) => sum(b, 'steps'));
  const timeline = {
    running: col((b) => sum(b, 'running')),
    waiting: col((b) => sum(b, 'waiting')),
    decode: col((b) => (steps[b]! > 0 ? r4(sum(b, 'decode') / steps[b]!) : null)),
    prefill: col((b) => (steps[b]! > 0 ? r4(sum(b, 'prefill') / steps[b]!) : null)),
    tokensPerS: col((b) => r4((sum(b, 'decode') + t.totals.firstTokens[b]!) / seconds)),
    finishedPerS: col((b) => r4(t.totals.finished[b]! / seconds)),
    kvInUse: col((b) => r4(sum(b, 'inUse') / gpuTotal)),
    kvCached: col((b) => r4(sum(b, 'reusable') / gpuTotal)),
    hitRate: col((b) => {
      const q = sumDelta(b, 'query');
      return q > 0 ? r4(sumDelta(b, 'hit') / q) : null;
    }),
  };
  const events = eventsOf(n, seconds, (b) => ({
    preemptions: sum(b, 'preemptions'),
    evictions: [sumDelta(b, 'evictions'), sumDelta(b, 'hostEvictions'), sumDelta(b, 'diskEvictions')],
  }));
  const per = Math.max(1, Math.ceil(n / Math.max(50, Math.floor(REPLICA_POINTS_BUDGET / R))));
  const thin = (a: Float64Array, how: 'max' | 'last') =>
    Array.from({ length: Math.ceil(n / per) }, (_, g) => {
      const end = Math.min(n, (g + 1) * per);
      if (how === 'last') return a[end - 1]!;
      let m = 0;
      for (let b = g * per; b < end; b++) m = Math.max(m, a[b]!);
      return m;
    });
  const replicas = series.map((s, r) => ({
    label: R === 1 ? 'engine' : `replica ${r}${t.roles?.[r] ? ' · ' + t.roles[r] : ''}`,
    tiers: t.tiers[r],
    running: thin(s.running, 'max'),
    inUse: thin(s.inUse, 'last'),
    reusable: thin(s.reusable, 'last'),
    free: thin(s.free, 'last'),
    host: thin(s.host, 'last'),
    disk: thin(s.disk, 'last'),
    routed: n > 0 ? s.routed[n - 1]! : 0,
    predicted: n > 0 ? s.predicted[n - 1]! : 0,
    actual: n > 0 ? s.actual[n - 1]! : 0,
  }));
  const d = report.deployment;
  const data = {
    subtitle: [
      `${String(d['gpuCount'])} × ${String(d['gpu'])}`,
      String(d['profileName']),
      R > 1 ? `${R} replicas${report.router ? ', ' + report.router : ''}` : '',
    ]
      .filter(Boolean)
      .join(' · '),
    command: opts.command ?? '',
    summary: summaryOf(report),
    widthMs: t.widthMs,
    n,
    perReplicaStep: per,
    boundsMs: latencyBinBounds().map((x) => r4(x)),
    timeline,
    ttft: quantiles(t.totals.ttft),
    itl: quantiles(t.totals.itl),
    ttftAll: overall(t.totals.ttft),
    itlAll: overall(t.totals.itl),
    // The run's exact percentiles (the report's own): the histograms' bins would round them.
    ttftExact: report.ttft_ms,
    itlExact: report.itl_ms,
    replicas,
    router: report.router ?? null,
    events,
  };
  return reportPage('nimsim simulate report', data);
}

/** The report's headline figures, as label and text. */
function summaryOf(r: SimulationReport): [string, string][] {
  const ms = (x: number) => `${x.toFixed(x >= 100 ? 0 : 1)} ms`;
  return [
    ['requests', String(r.requests)],
    ['simulated', `${r.duration_s} s`],
    ['TTFT p50 / p99', `${ms(r.ttft_ms.p50)} / ${ms(r.ttft_ms.p99)}`],
    ['ITL p50 / p99', `${ms(r.itl_ms.p50)} / ${ms(r.itl_ms.p99)}`],
    ['output tokens/s', String(Math.round(r.output_tokens_per_s))],
    ['prefix hit rate', `${(r.prefix_cache_hit_rate * 100).toFixed(1)} %`],
    ['KV peak', `${(r.kv_cache_peak_usage * 100).toFixed(1)} %`],
    ['preemptions', String(r.preemptions)],
    ['429s', String(r.rejected_429)],
  ];
}

/** Most events listed (the busiest buckets, in time order). */
const MAX_EVENTS = 60;

/** The buckets where requests were preempted or blocks evicted, the busiest MAX_EVENTS of them. */
function eventsOf(
  n: number,
  seconds: number,
  at: (b: number) => { preemptions: number; evictions: number[] },
): { at: string; text: string; kind: string; b: number }[] {
  const found: { b: number; weight: number; text: string; kind: string }[] = [];
  for (let b = 0; b < n; b++) {
    const e = at(b);
    if (e.preemptions > 0)
      found.push({
        b,
        weight: e.preemptions * 100,
        text: `${e.preemptions} preempted (KV cache full)`,
        kind: 'preempt',
      });
    const [gpu, host, disk] = e.evictions as [number, number, number];
    if (gpu + host + disk > 0) {
      const parts = [gpu && `${gpu} GPU`, host && `${host} host`, disk && `${disk} disk`].filter(Boolean);
      found.push({ b, weight: gpu + host + disk, text: `evicted ${parts.join(', ')} blocks`, kind: 'evict' });
    }
  }
  return found
    .sort((x, y) => y.weight - x.weight)
    .slice(0, MAX_EVENTS)
    .sort((x, y) => x.b - y.b)
    .map((e) => ({
      at: `${((e.b + 1) * seconds).toFixed(seconds < 1 ? 2 : 1)} s`,
      text: e.text,
      kind: e.kind,
      b: e.b,
    }));
}
