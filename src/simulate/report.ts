/**
 * The `simulate` report: client-side metrics with AIPerf's definitions — TTFT from arrival (queueing
 * included) to the first token, ITL per request as (e2e − TTFT) / (output tokens − 1), throughput
 * over the whole run — plus the cache's hit rate and peak usage.
 */
import type { KvCacheSnapshot } from '../engine/types.js';
import type { Outcomes } from './outcomes.js';
import { formatDisagg, type DisaggReport } from './disagg-report.js';
import type { LoraReport } from './loras.js';
import type { ReasoningReport } from './reasoning.js';

/** One turn of the multi-turn sessions: how much of the conversation the cache served, and the TTFT. */
export interface TurnReport {
  turn: number;
  requests: number;
  prompt_tokens_mean: number;
  cached_tokens_mean: number;
  ttft_ms: Distribution;
  /** Reasoning runs: the turn's mean reasoning tokens (not resent by the next turn). */
  reasoning_tokens_mean?: number;
}

export interface Distribution {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

/** Service-level objectives a request must meet to count towards goodput (ms; absent: no limit). */
export interface Slo {
  readonly ttftMs?: number | undefined;
  /** Its mean inter-token latency, (e2e − TTFT) / (output tokens − 1). */
  readonly itlMs?: number | undefined;
}

/** The completed requests that met every SLO (AIPerf's and DistServe's goodput). */
export interface Goodput {
  slo_ttft_ms?: number;
  slo_itl_ms?: number;
  /** Requests within the SLOs per simulated second. */
  requests_per_s: number;
  /** Fraction 0–1 of completed requests within the SLOs. */
  fraction: number;
}

export interface SimulationReport {
  requests: number;
  duration_s: number;
  ttft_ms: Distribution;
  itl_ms: Distribution;
  e2e_ms: Distribution;
  output_tokens_per_s: number;
  requests_per_s: number;
  prefix_cache_hit_rate: number;
  kv_cache_peak_usage: number;
  preemptions: number;
  // nimsim additions to the stable fields (docs/interface.md#simulate-report)
  input_tokens_per_s: number;
  cached_tokens_mean: number;
  rejected_429: number;
  /** Trace replays only: lines whose prompt plus output exceed the context (a real server's 400). */
  rejected_400?: number;
  wall_s: number;
  speedup: number;
  deployment: Record<string, unknown>;
  /** With --turns > 1: each turn's figures, so the cache's effect on later turns shows. */
  by_turn?: TurnReport[];
  /** With --slo-ttft-ms / --slo-itl-ms: the requests that met them. */
  goodput?: Goodput;
  /** With --replicas > 1: the routing policy (NIMSIM_ROUTER). */
  router?: string;
  /** With --replicas > 1: each replica's share and figures. */
  by_replica?: ReplicaReport[];
  /** With --replicas > 1: completed requests of the busiest replica ÷ the mean per replica (1 = even). */
  load_imbalance?: number;
  /**
   * With the kv-aware or session router: prompt tokens the router's prefix index predicted the
   * chosen replicas held, against the tokens they found cached when they admitted the requests.
   */
  router_cached_tokens?: { predicted: number; found: number };
  /** With --tenants: each tenant's share and figures (tenant 0 the most popular). */
  by_tenant?: TenantReport[];
  /**
   * With a disk tier (--kv-disk-cache-blocks > 0): the prefix-cache hits by the tier they came
   * from, in prompt tokens (they add up to the hits behind prefix_cache_hit_rate).
   */
  prefix_cache_hit_tokens_by_tier?: { gpu: number; host: number; disk: number };
  /** With --prefill-replicas and --decode-replicas: the transfers, roles and prefill placement. */
  disaggregation?: DisaggReport;
  /** With --loras: the adapters and each one's requests (docs/lora.md#simulate). */
  lora?: LoraReport;
  /** A reasoning model's run: how long its turns reasoned (docs/simulate.md#reasoning-models). */
  reasoning?: ReasoningReport;
}

/** One tenant of a multi-tenant workload in the report. */
export interface TenantReport {
  tenant: number;
  requests: number;
  cached_tokens_mean: number;
  ttft_ms: Distribution;
}

/** One replica of a fleet in the report. */
export interface ReplicaReport {
  replica: number;
  /** Disaggregated runs: `prefill` or `decode` (a prefill replica's requests are the prompts it prefilled). */
  role?: string;
  requests: number;
  prefix_cache_hit_rate: number;
  kv_cache_peak_usage: number;
  ttft_ms: Distribution;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function distribution(values: ArrayLike<number>): Distribution {
  // A typed array sorts numerically in native code, without calling a comparator per comparison.
  const sorted = Float64Array.from(values).sort();
  const mean = sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    mean: r(mean),
    p50: r(percentile(sorted, 50)),
    p90: r(percentile(sorted, 90)),
    p99: r(percentile(sorted, 99)),
  };
}

export function buildReport(input: {
  /** The completed requests' times and counts (not the requests, whose tokens it would keep alive). */
  outcomes: Outcomes;
  kvCache: KvCacheSnapshot;
  peakKvUsage: number;
  preemptions: number;
  rejected: number;
  wallMs: number;
  deployment: Record<string, unknown>;
  slo?: Slo | undefined;
}): SimulationReport {
  const o = input.outcomes;
  const n = o.length;
  const ttft = new Float64Array(n);
  const e2e = new Float64Array(n);
  const itl: number[] = [];
  let start = Infinity;
  let end = -Infinity;
  let outTokens = 0;
  let inTokens = 0;
  let cachedTokens = 0;
  const { ttftMs: maxTtft = Infinity, itlMs: maxItl = Infinity } = input.slo ?? {};
  let good = 0;
  for (let i = 0; i < n; i++) {
    ttft[i] = ttftOf(o, i);
    e2e[i] = o.finishedMs[i]! - o.arrivalMs[i]!;
    const completion = o.completionTokens[i]!;
    // A request of one token has no inter-token latency: it meets any ITL objective.
    const meanItl = completion > 1 ? (o.finishedMs[i]! - o.firstTokenMs[i]!) / (completion - 1) : 0;
    if (completion > 1) itl.push(meanItl);
    if (ttft[i]! <= maxTtft && meanItl <= maxItl) good++;
    if (o.arrivalMs[i]! < start) start = o.arrivalMs[i]!;
    if (o.finishedMs[i]! > end) end = o.finishedMs[i]!;
    outTokens += completion;
    inTokens += o.promptTokens[i]!;
    cachedTokens += o.cachedTokens[i]!;
  }
  const durationS = n > 0 ? (end - start) / 1000 : 0;
  const per = (x: number) => (durationS > 0 ? Math.round((x / durationS) * 100) / 100 : 0);
  const { queryTokens, hitTokens, hostHitTokens, diskHitTokens } = input.kvCache;
  const byTurn = byTurnOf(o);
  return {
    requests: n,
    duration_s: Math.round(durationS * 1000) / 1000,
    ttft_ms: distribution(ttft),
    itl_ms: distribution(itl),
    e2e_ms: distribution(e2e),
    output_tokens_per_s: per(outTokens),
    requests_per_s: per(n),
    prefix_cache_hit_rate: queryTokens > 0 ? Math.round((hitTokens / queryTokens) * 10_000) / 10_000 : 0,
    kv_cache_peak_usage: Math.round(input.peakKvUsage * 10_000) / 10_000,
    preemptions: input.preemptions,
    input_tokens_per_s: per(inTokens),
    cached_tokens_mean: mean1(cachedTokens, n),
    rejected_429: input.rejected,
    wall_s: Math.round(input.wallMs) / 1000,
    speedup: input.wallMs > 0 ? Math.round((durationS * 1000) / input.wallMs) : 0,
    deployment: input.deployment,
    ...(byTurn.length > 0 ? { by_turn: byTurn } : {}),
    ...(input.slo ? { goodput: goodputOf(input.slo, per(good), n > 0 ? good / n : 0) } : {}),
    // Only with a disk tier, so that every report without one stays what it was.
    ...(input.kvCache.disk.total > 0
      ? {
          prefix_cache_hit_tokens_by_tier: {
            gpu: hitTokens - hostHitTokens - diskHitTokens,
            host: hostHitTokens,
            disk: diskHitTokens,
          },
        }
      : {}),
  };
}

/** `prefix hits by tier` line: each tier's share of the prompt tokens looked up. */
function tierLine(r: SimulationReport): string {
  const t = r.prefix_cache_hit_tokens_by_tier!;
  const total = t.gpu + t.host + t.disk;
  // The hit rate splits in proportion to the tokens each tier served.
  const share = (x: number) =>
    `${(total > 0 ? (r.prefix_cache_hit_rate * x * 100) / total : 0).toFixed(1)} %`;
  return `hits by tier      GPU ${share(t.gpu)}, host ${share(t.host)}, disk ${share(t.disk)}  (tokens ${t.gpu} / ${t.host} / ${t.disk})`;
}

function goodputOf(slo: Slo, requestsPerS: number, fraction: number): Goodput {
  return {
    ...(slo.ttftMs !== undefined ? { slo_ttft_ms: slo.ttftMs } : {}),
    ...(slo.itlMs !== undefined ? { slo_itl_ms: slo.itlMs } : {}),
    requests_per_s: requestsPerS,
    fraction: Math.round(fraction * 10_000) / 10_000,
  };
}

/** Time to first token of outcome `i` as a client sees it: from arrival, queueing included. */
const ttftOf = (o: Outcomes, i: number) => o.firstTokenMs[i]! - o.arrivalMs[i]!;

/** sum / count rounded to one decimal; 0 for none. */
const mean1 = (sum: number, count: number) => (count > 0 ? Math.round((sum / count) * 10) / 10 : 0);

/** Each turn's figures; none when every request was a first turn (the summary says it all). */
function byTurnOf(o: Outcomes): TurnReport[] {
  if (o.lastTurn < 2) return [];
  const turns: TurnReport[] = [];
  for (let turn = 1; turn <= o.lastTurn; turn++) {
    const ttft: number[] = [];
    let promptTokens = 0;
    let cachedTokens = 0;
    for (let i = 0; i < o.length; i++) {
      if (o.turn[i] !== turn) continue;
      ttft.push(ttftOf(o, i));
      promptTokens += o.promptTokens[i]!;
      cachedTokens += o.cachedTokens[i]!;
    }
    if (ttft.length === 0) continue;
    turns.push({
      turn,
      requests: ttft.length,
      prompt_tokens_mean: mean1(promptTokens, ttft.length),
      cached_tokens_mean: mean1(cachedTokens, ttft.length),
      ttft_ms: distribution(ttft),
    });
  }
  return turns;
}

function goodputLine(g: Goodput): string {
  const limits = [
    ...(g.slo_ttft_ms !== undefined ? [`TTFT ≤ ${g.slo_ttft_ms} ms`] : []),
    ...(g.slo_itl_ms !== undefined ? [`ITL ≤ ${g.slo_itl_ms} ms`] : []),
  ].join(', ');
  return `goodput           ${g.requests_per_s} req/s  (${(g.fraction * 100).toFixed(1)} % of requests within ${limits})`;
}

/** The deployment in one line: profile name, GPUs, precision and TP (the JSON keeps every field). */
function describe(d: Record<string, unknown>): string {
  const { profileName, gpu, gpuCount, precision, tp } = d;
  if (typeof profileName !== 'string') return JSON.stringify(d);
  return `${profileName} on ${String(gpuCount)} × ${String(gpu)}, ${String(precision)}, TP ${String(tp)}`;
}

function turnTable(turns: readonly TurnReport[]): string {
  // A reasoning run's turns also say how long they reasoned (a chat run's table is unchanged).
  const reasoned = turns.some((t) => t.reasoning_tokens_mean !== undefined);
  const heads = ['requests', 'prompt', 'cached', ...(reasoned ? ['reasoning'] : []), 'TTFT mean', 'TTFT p90'];
  const head = `${'turn'.padEnd(6)}${heads.map((h) => h.padStart(11)).join('')}`;
  const rows = turns.map(
    (t) =>
      `${String(t.turn).padEnd(6)}${[
        String(t.requests),
        t.prompt_tokens_mean.toFixed(1),
        t.cached_tokens_mean.toFixed(1),
        ...(reasoned ? [(t.reasoning_tokens_mean ?? 0).toFixed(1)] : []),
        t.ttft_ms.mean.toFixed(2),
        t.ttft_ms.p90.toFixed(2),
      ]
        .map((v) => v.padStart(11))
        .join('')}`,
  );
  return [head, ...rows].join('\n');
}

export function formatReport(r: SimulationReport): string {
  const row = (name: string, d: Distribution) =>
    `${name.padEnd(10)} ${[d.mean, d.p50, d.p90, d.p99].map((v) => v.toFixed(2).padStart(10)).join(' ')}`;
  return [
    `requests ${r.requests} in ${r.duration_s.toFixed(2)} s simulated (${r.wall_s.toFixed(2)} s wall, ${r.speedup}x)`,
    `deployment ${describe(r.deployment)}`,
    '',
    `${'ms'.padEnd(10)} ${['mean', 'p50', 'p90', 'p99'].map((h) => h.padStart(10)).join(' ')}`,
    row('TTFT', r.ttft_ms),
    row('ITL', r.itl_ms),
    row('E2E', r.e2e_ms),
    '',
    `output tokens/s   ${r.output_tokens_per_s}`,
    `input tokens/s    ${r.input_tokens_per_s}`,
    `requests/s        ${r.requests_per_s}`,
    `prefix hit rate   ${(r.prefix_cache_hit_rate * 100).toFixed(1)} %  (mean cached tokens ${r.cached_tokens_mean})`,
    ...(r.prefix_cache_hit_tokens_by_tier ? [tierLine(r)] : []),
    `KV peak usage     ${(r.kv_cache_peak_usage * 100).toFixed(1)} %`,
    `preemptions       ${r.preemptions}`,
    // Refusals, not requests: a closed-loop session refused retries 1 s later (simulate.ts) and each
    // refusal counts; an open-loop arrival refused is lost.
    `429 rejections    ${r.rejected_429}${r.rejected_429 > 0 ? '  (queue full; every refusal counted, retries too)' : ''}`,
    ...(r.rejected_400 !== undefined
      ? [`400 rejections    ${r.rejected_400}  (longer than the context)`]
      : []),
    ...(r.goodput ? [goodputLine(r.goodput)] : []),
    ...(r.reasoning ? [reasoningLine(r.reasoning)] : []),
    ...(r.by_turn ? ['', turnTable(r.by_turn)] : []),
    ...(r.by_replica ? ['', fleetLine(r), replicaTable(r.by_replica)] : []),
    ...(r.by_tenant ? ['', tenantTable(r.by_tenant)] : []),
    ...(r.disaggregation ? ['', formatDisagg(r.disaggregation)] : []),
    ...(r.lora ? ['', loraLine(r.lora)] : []),
  ].join('\n');
}

function reasoningLine(x: ReasoningReport): string {
  const effort = x.effort !== undefined ? `, reasoning_effort ${x.effort}` : '';
  return `reasoning         ${x.reasoning_tokens_mean} tokens per request (median ${x.median_tokens}${effort}; dropped from the next turn's prompt)`;
}

function loraLine(l: LoraReport): string {
  const shown = l.requests_by_adapter.slice(0, 8).join(', ');
  const more = l.requests_by_adapter.length > 8 ? ', …' : '';
  return `LoRA ${l.adapters} adapters of rank ${l.rank} (Zipf ${l.zipf}), at most ${l.max_loras} per batch; requests by adapter ${shown}${more}`;
}

function fleetLine(r: SimulationReport): string {
  const predicted = r.router_cached_tokens
    ? `, router predicted ${r.router_cached_tokens.predicted} cached tokens, replicas found ${r.router_cached_tokens.found}`
    : '';
  return `router ${r.router} over ${r.by_replica!.length} replicas, load imbalance ${r.load_imbalance!.toFixed(3)} (max ÷ mean requests)${predicted}`;
}

function replicaTable(replicas: readonly ReplicaReport[]): string {
  const roles = replicas.some((x) => x.role !== undefined);
  const head = `${'replica'.padEnd(8)}${roles ? 'role'.padStart(8) : ''}${['requests', 'hit rate', 'KV peak', 'TTFT mean', 'TTFT p90'].map((h) => h.padStart(11)).join('')}`;
  const rows = replicas.map(
    (x) =>
      `${String(x.replica).padEnd(8)}${roles ? (x.role ?? '').padStart(8) : ''}${[
        String(x.requests),
        `${(x.prefix_cache_hit_rate * 100).toFixed(1)} %`,
        `${(x.kv_cache_peak_usage * 100).toFixed(1)} %`,
        x.ttft_ms.mean.toFixed(2),
        x.ttft_ms.p90.toFixed(2),
      ]
        .map((v) => v.padStart(11))
        .join('')}`,
  );
  return [head, ...rows].join('\n');
}

function tenantTable(tenants: readonly TenantReport[]): string {
  const head = `${'tenant'.padEnd(8)}${['requests', 'cached', 'TTFT mean', 'TTFT p90', 'TTFT p99'].map((h) => h.padStart(11)).join('')}`;
  const rows = tenants.map(
    (t) =>
      `${String(t.tenant).padEnd(8)}${[
        String(t.requests),
        t.cached_tokens_mean.toFixed(1),
        t.ttft_ms.mean.toFixed(2),
        t.ttft_ms.p90.toFixed(2),
        t.ttft_ms.p99.toFixed(2),
      ]
        .map((v) => v.padStart(11))
        .join('')}`,
  );
  return [head, ...rows].join('\n');
}
