/**
 * The routing scenario's tables and conclusions from its runs, so that every number a conclusion
 * states is a cell of a table beside it (the same rounding), a router is never called the best out
 * of routers that cached practically alike, and balance is only judged where the server said which
 * replica served each request.
 */
import type { RunMetrics } from '../lib/metrics.js';
import { num, type Table } from '../lib/report.js';
import { trendText } from '../lib/trend-text.js';

/** Where the requests-per-replica figures came from. */
export type ReplicaCountSource = 'x-nimsim-replica header' | 'nimsim_router_requests_total' | 'n/a';

export interface ReplicaCounts {
  readonly source: ReplicaCountSource;
  /** Requests per replica, index = replica; undefined when the server told neither way. */
  readonly counts: readonly number[] | undefined;
}

/** One router against the live fleet. */
export interface RouterRun {
  readonly router: string;
  readonly metrics: RunMetrics;
  /** vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total over the measured phase. */
  readonly serverHitRate: number | undefined;
  readonly perReplica: ReplicaCounts;
  /** nimsim_kv_cache_evictions_total and vllm:num_preemptions_total at the end (all replicas). */
  readonly evictions: number | undefined;
  readonly preemptions: number | undefined;
}

/** One `simulate` run of the same workload. */
export interface SimRun {
  readonly replicas: number;
  readonly router: string;
  readonly concurrency: number;
  readonly requests: number;
  readonly hitRate: number;
  readonly ttftMeanMs: number;
  readonly ttftP90Ms: number;
  readonly loadImbalance: number;
  readonly preemptions: number;
  readonly simulatedS: number;
  readonly wallS: number;
}

export interface RoutingSections {
  readonly liveTable: Table;
  readonly simTable: Table;
  readonly conclusions: readonly string[];
}

/**
 * Requests per replica: from each request's `x-nimsim-replica` header when every successful one
 * carried it, else from the growth of `nimsim_router_requests_total{replica}` over the run (`before`
 * and `after`, label value → count), else unknown.
 */
export function replicaCounts(
  replicaOfEach: readonly (number | undefined)[],
  replicas: number,
  before: ReadonlyMap<string, number> | undefined,
  after: ReadonlyMap<string, number> | undefined,
): ReplicaCounts {
  if (replicaOfEach.length > 0 && replicaOfEach.every((r) => r !== undefined && r >= 0 && r < replicas)) {
    const counts = new Array<number>(replicas).fill(0);
    for (const r of replicaOfEach) counts[r!]!++;
    return { source: 'x-nimsim-replica header', counts };
  }
  if (after !== undefined) {
    const counts = Array.from(
      { length: replicas },
      (_, i) => (after.get(String(i)) ?? 0) - (before?.get(String(i)) ?? 0),
    );
    return { source: 'nimsim_router_requests_total', counts };
  }
  return { source: 'n/a', counts: undefined };
}

/** The busiest replica's requests ÷ the mean per replica (1 = even), as `simulate` reports it. */
export function loadImbalance(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  return total === 0 ? NaN : Math.max(...counts) / (total / counts.length);
}

/** `a, b and c`. */
function list(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

const hitText = (r: RouterRun) => num(r.metrics.cacheHitRate * 100);
const ttftText = (r: RouterRun) => num(r.metrics.ttftMs.mean);
const p90Text = (r: RouterRun) => num(r.metrics.ttftMs.p90);
const imbalanceText = (c: ReplicaCounts) =>
  c.counts === undefined ? 'n/a' : num(loadImbalance(c.counts), 2);

/**
 * Hit rates within this many percentage points cached practically the same tokens: a TTFT gap
 * between such routers says nothing about routing.
 */
export const ALIKE_POINTS = 1;

/**
 * The routers that cached practically alike with `r` (client hit rates within ALIKE_POINTS), `r`
 * excluded.
 */
function alikeWith(r: RouterRun, runs: readonly RouterRun[]): RouterRun[] {
  return runs.filter(
    (q) => q !== r && Math.abs(q.metrics.cacheHitRate - r.metrics.cacheHitRate) * 100 < ALIKE_POINTS,
  );
}

/** The live fleet's conclusions (runs: one per router, ≥ 1). */
function liveConclusions(runs: readonly RouterRun[], replicas: number): string[] {
  const out: string[] = [];
  const byHit = [...runs].sort((a, b) => b.metrics.cacheHitRate - a.metrics.cacheHitRate);
  const top = byHit[0]!;
  const bottom = byHit[byHit.length - 1]!;
  out.push(
    `Prefix hit rate on ${replicas} replicas, highest first: ${byHit.map((r) => `${r.router} ${hitText(r)} %`).join(', ')}.` +
      (top !== bottom && alikeWith(top, runs).length === 0
        ? ` ${top.router} kept conversations where their prefix was cached better than any other router.`
        : ''),
  );

  // The server's own counters against the client's usage figures.
  const withServer = runs.filter((r) => r.serverHitRate !== undefined);
  if (withServer.length > 0) {
    const gaps = withServer.map((r) => Math.abs(r.serverHitRate! - r.metrics.cacheHitRate) * 100);
    const worst = withServer[gaps.indexOf(Math.max(...gaps))]!;
    const serverText = (r: RouterRun) => num(r.serverHitRate! * 100);
    out.push(
      withServer.every((r) => serverText(r) === hitText(r))
        ? "The server's vllm:prefix_cache_hits_total / queries_total give the same hit rate as the client's " +
            'cached_tokens / prompt_tokens for every router, to one decimal.'
        : "The server's vllm:prefix_cache_hits_total / queries_total differ from the client's cached_tokens / " +
            `prompt_tokens by up to ${Math.ceil(Number(Math.max(...gaps).toFixed(1)))} point(s) (${worst.router}: ${hitText(worst)} % ` +
            `client against ${serverText(worst)} % server).`,
    );
  }

  // TTFT: the fastest router, or the set it ties with.
  const fastest = runs.reduce((a, b) => (b.metrics.ttftMs.mean < a.metrics.ttftMs.mean ? b : a));
  const fastestP90 = runs.reduce((a, b) => (b.metrics.ttftMs.p90 < a.metrics.ttftMs.p90 ? b : a));
  const peers = alikeWith(fastest, runs);
  const byTtft = [...runs].sort((a, b) => a.metrics.ttftMs.mean - b.metrics.ttftMs.mean);
  out.push(
    `TTFT mean, lowest first: ${byTtft.map((r) => `${r.router} ${ttftText(r)} ms`).join(', ')}; ` +
      `lowest p90: ${fastestP90.router} (${p90Text(fastestP90)} ms). ` +
      (peers.length > 0
        ? `${list(peers.map((p) => p.router))} cached practically alike with ${fastest.router} (hit rates within ` +
          `${ALIKE_POINTS} point), so the TTFT gap between them is run-to-run noise, not routing.`
        : fastest === top
          ? `The router with the highest hit rate also started tokens soonest: a hit skips that part of the prefill.`
          : `The highest hit rate (${top.router}) did not give the lowest mean TTFT (${fastest.router})` +
            (top.perReplica.counts !== undefined &&
            fastest.perReplica.counts !== undefined &&
            loadImbalance(top.perReplica.counts) > loadImbalance(fastest.perReplica.counts)
              ? `; ${top.router} spread requests less evenly (load imbalance ${imbalanceText(top.perReplica)} against ` +
                `${imbalanceText(fastest.perReplica)}), so more of them queued on its busiest replica.`
              : '.')),
  );

  // Balance, only where the server said which replica served what.
  const known = runs.filter((r) => r.perReplica.counts !== undefined);
  if (known.length === 0) {
    out.push(
      'The server reported no replica per request (no x-nimsim-replica header, no nimsim_router_requests_total), ' +
        "so balance is n/a here; the simulate table's load imbalance is the offline answer.",
    );
  } else {
    const imb = (r: RouterRun) => loadImbalance(r.perReplica.counts!);
    const even = known.reduce((a, b) => (imb(b) < imb(a) ? b : a));
    const uneven = known.reduce((a, b) => (imb(b) > imb(a) ? b : a));
    out.push(
      even === uneven || imbalanceText(even.perReplica) === imbalanceText(uneven.perReplica)
        ? `Requests per replica were equally even under every router measured (load imbalance ${imbalanceText(even.perReplica)}).`
        : `Requests per replica: most even under ${even.router} (load imbalance ${imbalanceText(even.perReplica)}, busiest ` +
            `replica ÷ mean), least even under ${uneven.router} (${imbalanceText(uneven.perReplica)}).` +
            (uneven === top
              ? ` Keeping conversations where their prefix is costs ${uneven.router} balance: Zipf-hot users stay on one replica.`
              : ''),
    );
  }
  return out;
}

/** The offline conclusions: per fleet size, and how each router's hit rate moves with it. */
function simConclusions(
  sims: readonly SimRun[],
  liveRuns: readonly RouterRun[],
  liveReplicas: number,
): string[] {
  let live = liveRuns;
  const out: string[] = [];
  const sizes = [...new Set(sims.map((s) => s.replicas))].sort((a, b) => a - b);
  const routers = [...new Set(sims.map((s) => s.router))];
  const hit = (s: SimRun) => num(s.hitRate * 100);

  const bestPerSize = sizes.map((n) => {
    const at = sims.filter((s) => s.replicas === n);
    const bestHit = at.reduce((a, b) => (b.hitRate > a.hitRate ? b : a));
    const bestTtft = at.reduce((a, b) => (b.ttftMeanMs < a.ttftMeanMs ? b : a));
    return { n, bestHit, bestTtft };
  });
  out.push(
    'Offline (simulate): ' +
      bestPerSize
        .map(
          ({ n, bestHit, bestTtft }) =>
            `at ${n} replicas ${bestHit.router} hit most (${hit(bestHit)} %)` +
            (bestTtft === bestHit
              ? ' and had the lowest mean TTFT'
              : `, ${bestTtft.router} had the lowest mean TTFT (${num(bestTtft.ttftMeanMs)} ms)`),
        )
        .join('; ') +
      '.',
  );

  const trends = routers.map((router) => {
    const points = sizes
      .map((n) => sims.find((s) => s.replicas === n && s.router === router))
      .filter((s): s is SimRun => s !== undefined)
      .map((s) => ({ label: `${s.replicas}`, value: Number(hit(s)) }));
    return `${router} ${trendText(points, 1, ' %')}`;
  });
  out.push(`Hit rate as the fleet grows (replicas, same load per replica): ${trends.join('; ')}.`);

  const imbalanced = sims.reduce((a, b) => (b.loadImbalance > a.loadImbalance ? b : a));
  out.push(
    `The least even fleet offline: ${imbalanced.router} at ${imbalanced.replicas} replicas ` +
      `(load imbalance ${num(imbalanced.loadImbalance, 2)}).`,
  );

  // Does simulate's ranking at the live fleet's size match the live one?
  // Only routers both sides ran.
  const twin = sims.filter((s) => s.replicas === liveReplicas && live.some((r) => r.router === s.router));
  live = live.filter((r) => twin.some((s) => s.router === r.router));
  if (twin.length > 1 && live.length > 1) {
    const order = (xs: readonly { router: string; value: number }[]) =>
      [...xs].sort((a, b) => b.value - a.value).map((x) => x.router);
    const liveOrder = order(live.map((r) => ({ router: r.router, value: r.metrics.cacheHitRate })));
    const simOrder = order(twin.map((s) => ({ router: s.router, value: s.hitRate })));
    const liveHit = (router: string) => live.find((r) => r.router === router)!;
    const lastLive = liveHit(liveOrder.at(-1)!);
    const lastSim = liveHit(simOrder.at(-1)!);
    const lastText =
      lastLive === lastSim
        ? `and ${lastLive.router} last.`
        : Math.abs(lastLive.metrics.cacheHitRate - lastSim.metrics.cacheHitRate) * 100 < ALIKE_POINTS
          ? `while the last places differ between routers that cached within ${ALIKE_POINTS} point of each other ` +
            `live (${lastLive.router} ${hitText(lastLive)} %, ${lastSim.router} ${hitText(lastSim)} %).`
          : `but a different router last (live ${lastLive.router}, simulate ${lastSim.router}).`;
    out.push(
      `At ${liveReplicas} replicas simulate ranks the hit rates ${simOrder.join(' > ')}, the live fleet ` +
        `${liveOrder.join(' > ')}: ` +
        (liveOrder[0] === simOrder[0]
          ? `both put ${liveOrder[0]} first ${lastText}`
          : `a different router first (live ${liveOrder[0]}, simulate ${simOrder[0]}; the live sessions interleave by ` +
            'wall-clock timing and start over one think time, where simulate starts them at once).'),
    );
  }

  const { simS, wallS } = simTotals(sims);
  out.push(
    `The ${sims.length} simulations covered ${num(simS)} simulated seconds in ${num(wallS, 2)} s of wall time ` +
      `(${num(simS / Math.max(wallS, 1e-9), 0)}× real time).`,
  );
  return out;
}

/** Where the requests-per-replica column came from, for the note under the table. */
function replicaSourceText(runs: readonly RouterRun[]): string {
  const sources = [...new Set(runs.map((r) => r.perReplica.source))].filter((x) => x !== 'n/a');
  return sources.length === 0
    ? 'Requests per replica: n/a (the server sent no x-nimsim-replica header and exposes no ' +
        'nimsim_router_requests_total). '
    : `Requests per replica from ${list(sources)}; load imbalance = busiest replica ÷ mean. `;
}

/** Simulated and wall seconds over all simulations. */
function simTotals(sims: readonly SimRun[]): { simS: number; wallS: number } {
  return {
    simS: sims.reduce((a, s) => a + s.simulatedS, 0),
    wallS: sims.reduce((a, s) => a + s.wallS, 0),
  };
}

/** Tables and conclusions of the routing scenario. */
export function routingSections(
  runs: readonly RouterRun[],
  sims: readonly SimRun[],
  liveReplicas: number,
): RoutingSections {
  const liveTable: Table = {
    title: `Live: ${liveReplicas} replicas in one nimsim, per router (simulated times)`,
    columns: [
      'router',
      'requests ok',
      'hit %',
      'server hit %',
      'TTFT mean ms',
      'TTFT p50',
      'TTFT p90',
      'TTFT p99',
      'ITL p50 ms',
      'output tok/s',
      'requests per replica',
      'load imbalance',
      'evictions',
      'preemptions',
    ],
    rows: runs.map((r) => [
      r.router,
      `${r.metrics.succeeded}/${r.metrics.requests}`,
      hitText(r),
      r.serverHitRate === undefined ? 'n/a' : num(r.serverHitRate * 100),
      ttftText(r),
      num(r.metrics.ttftMs.p50),
      p90Text(r),
      num(r.metrics.ttftMs.p99),
      num(r.metrics.itlMs.p50, 2),
      num(r.metrics.outputTokensPerS, 0),
      r.perReplica.counts === undefined ? 'n/a' : r.perReplica.counts.join(' / '),
      imbalanceText(r.perReplica),
      r.evictions ?? 'n/a',
      r.preemptions ?? 'n/a',
    ]),
    note:
      'hit % = Σ usage.prompt_tokens_details.cached_tokens / Σ usage.prompt_tokens as the client saw it; server hit % = ' +
      'vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total from /metrics over the same phase. ' +
      replicaSourceText(runs) +
      "ITL p50 is the median over requests of AIPerf's per-request inter-token latency.",
  };
  const simTable: Table = {
    title: 'Offline: `simulate` of the same workload per fleet size and router',
    columns: [
      'replicas',
      'router',
      'concurrency',
      'requests',
      'hit %',
      'TTFT mean ms',
      'TTFT p90',
      'load imbalance',
      'preemptions',
      'simulated s',
      'wall s',
    ],
    rows: [
      ...sims.map((s) => [
        s.replicas,
        s.router,
        s.concurrency,
        s.requests,
        num(s.hitRate * 100),
        num(s.ttftMeanMs),
        num(s.ttftP90Ms),
        num(s.loadImbalance, 2),
        s.preemptions,
        num(s.simulatedS),
        num(s.wallS, 2),
      ]),
      [
        'all',
        '',
        '',
        sims.reduce((a, s) => a + s.requests, 0),
        '',
        '',
        '',
        '',
        '',
        num(simTotals(sims).simS),
        num(simTotals(sims).wallS, 2),
      ],
    ],
    note:
      'simulate runs in this process on a virtual clock: wall s is how long each simulation took, simulated s ' +
      'how much time it covered. Concurrency and requests grow with the fleet (the same load per replica).',
  };
  return {
    liveTable,
    simTable,
    conclusions: [...liveConclusions(runs, liveReplicas), ...simConclusions(sims, runs, liveReplicas)],
  };
}
