/**
 * Per-request and per-run metrics of a streaming load test, with AIPerf's definitions so that the
 * numbers compare with AIPerf / GenAI-Perf runs (source: AIPerf's metrics reference,
 * https://docs.nvidia.com/aiperf/reference/ai-perf-metrics-reference, and its metric classes in
 * github.com/ai-dynamo/aiperf, aiperf/metrics/types/):
 *
 * - TTFT = first response carrying non-empty content − request start (empty first chunks, such as
 *   the role-only delta, are ignored as AIPerf does);
 * - request latency (e2e) = last response (the end of the stream) − request start;
 * - ITL = (last content chunk − first content chunk) / (output sequence length − 1): AIPerf's
 *   (request latency − TTFT) / (OSL − 1) without the trailing usage / [DONE] frames, which carry no
 *   token; only for requests with ≥ 2 output tokens;
 * - output sequence length from `usage.completion_tokens` (the request asks for
 *   `stream_options.include_usage`), not from the number of chunks;
 * - output token throughput per user = 1 / ITL (tokens/s);
 * - benchmark duration = last response − first request start; request throughput = completed
 *   requests / duration; output token throughput = Σ output tokens / duration.
 *
 * `timeScale` converts client wall times to the simulated times of a nimsim started with
 * `--time-scale S` (wall × S; rates ÷ S). Use 1 against a real endpoint.
 */
import { summarize, type Summary } from './percentiles.js';
import type { StreamResult } from './sse-client.js';

/** One request as the load generator saw it, plus where it belongs in the workload. */
export interface RequestRecord extends StreamResult {
  /** Session (user) index; 0 for independent requests. */
  readonly session: number;
  /** Turn within the session, from 0. */
  readonly turn: number;
}

/** AIPerf's record metrics of one successful request, in simulated ms / tokens per s. */
export interface RequestMetrics {
  readonly ttftMs: number;
  readonly e2eMs: number;
  /** Undefined when fewer than two output tokens. */
  readonly itlMs: number | undefined;
  /** 1 / ITL, tokens per second; undefined with ITL. */
  readonly tokensPerSPerUser: number | undefined;
  readonly outputTokens: number;
}

/** Whether a request counts as successful: 200, no error, `[DONE]` seen, some content. */
export function isSuccess(r: StreamResult): boolean {
  return r.status === 200 && r.error === undefined && r.done && r.contentChunkMs.length > 0;
}

/** Record metrics of one request, or undefined when it failed. */
export function requestMetrics(r: StreamResult, timeScale = 1): RequestMetrics | undefined {
  if (!isSuccess(r)) return undefined;
  const first = r.contentChunkMs[0]!;
  const last = r.contentChunkMs[r.contentChunkMs.length - 1]!;
  // Usage is authoritative; chunk counts only when the server sent no usage.
  const outputTokens = r.completionTokens ?? r.contentChunkMs.length;
  const itlMs = outputTokens >= 2 ? ((last - first) / (outputTokens - 1)) * timeScale : undefined;
  return {
    ttftMs: (first - r.sentAtMs) * timeScale,
    e2eMs: (r.endAtMs - r.sentAtMs) * timeScale,
    itlMs,
    tokensPerSPerUser: itlMs === undefined || itlMs <= 0 ? undefined : 1000 / itlMs,
    outputTokens,
  };
}

/** Aggregate metrics of a run. Times in simulated ms, rates per simulated second. */
export interface RunMetrics {
  readonly requests: number;
  readonly succeeded: number;
  /** Failures by cause: `HTTP <status>`, `incomplete` (no [DONE]/no content) or `transport`. */
  readonly errorsByStatus: Readonly<Record<string, number>>;
  /**
   * The first message of each failure cause, as the client or the server gave it (e.g. `HTTP 404:
   * The model `x` does not exist.`, `connect ECONNREFUSED 127.0.0.1:9`), so a report says why.
   */
  readonly firstErrors: Readonly<Record<string, string>>;
  readonly durationS: number;
  readonly requestsPerS: number;
  readonly outputTokensPerS: number;
  readonly outputTokensTotal: number;
  readonly ttftMs: Summary;
  readonly itlMs: Summary;
  readonly e2eMs: Summary;
  readonly tokensPerSPerUser: Summary;
  /** Billed input sequence length (`usage.prompt_tokens`). */
  readonly promptTokens: Summary;
  readonly cachedTokens: Summary;
  /** Σ cached_tokens / Σ prompt_tokens over successful requests (0 when none reported). */
  readonly cacheHitRate: number;
}

function failureCause(r: StreamResult): string {
  if (r.status !== 0 && r.status !== 200) return `HTTP ${r.status}`;
  if (r.status === 0) return 'transport';
  if (r.error !== undefined && r.error.startsWith('in-band')) return 'in-band error';
  return 'incomplete';
}

/** AIPerf-style aggregates over `records`; `timeScale` as in the module comment. */
export function aggregate(records: readonly StreamResult[], timeScale = 1): RunMetrics {
  const errorsByStatus: Record<string, number> = {};
  const firstErrors: Record<string, string> = {};
  const perRequest: RequestMetrics[] = [];
  const ok: StreamResult[] = [];
  for (const r of records) {
    const m = requestMetrics(r, timeScale);
    if (m === undefined) {
      const cause = failureCause(r);
      errorsByStatus[cause] = (errorsByStatus[cause] ?? 0) + 1;
      firstErrors[cause] ??=
        r.error ?? (r.done ? 'the stream carried no content' : 'the stream ended without [DONE]');
    } else {
      perRequest.push(m);
      ok.push(r);
    }
  }
  let startMs = Infinity;
  let endMs = -Infinity;
  for (const r of records) startMs = Math.min(startMs, r.sentAtMs);
  for (const r of ok) endMs = Math.max(endMs, r.endAtMs);
  const durationS = ok.length === 0 ? 0 : ((endMs - startMs) / 1000) * timeScale;
  const outputTokensTotal = perRequest.reduce((a, m) => a + m.outputTokens, 0);
  const promptSum = ok.reduce((a, r) => a + (r.promptTokens ?? 0), 0);
  const cachedSum = ok.reduce((a, r) => a + (r.cachedTokens ?? 0), 0);
  const defined = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined);
  return {
    requests: records.length,
    succeeded: ok.length,
    errorsByStatus,
    firstErrors,
    durationS,
    requestsPerS: durationS > 0 ? ok.length / durationS : 0,
    outputTokensPerS: durationS > 0 ? outputTokensTotal / durationS : 0,
    outputTokensTotal,
    ttftMs: summarize(perRequest.map((m) => m.ttftMs)),
    itlMs: summarize(defined(perRequest.map((m) => m.itlMs))),
    e2eMs: summarize(perRequest.map((m) => m.e2eMs)),
    tokensPerSPerUser: summarize(defined(perRequest.map((m) => m.tokensPerSPerUser))),
    promptTokens: summarize(defined(ok.map((r) => r.promptTokens))),
    cachedTokens: summarize(defined(ok.map((r) => r.cachedTokens))),
    cacheHitRate: promptSum > 0 ? cachedSum / promptSum : 0,
  };
}

/** Total failed requests of a run. */
export function errorCount(m: RunMetrics): number {
  return Object.values(m.errorsByStatus).reduce((a, b) => a + b, 0);
}
