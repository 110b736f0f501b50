/**
 * Metrics fed by engine events: token counters, request counters by finish reason and the latency
 * and size histograms. Times are the simulated ones the engine reports (TTFT from arrival, ITL
 * between deliveries), never measured by the HTTP layer. Counters count as vLLM v1 does per
 * iteration (vllm/v1/metrics/stats.py): generation tokens as each token is delivered, prompt tokens
 * when a request produces its first token, so dashboards see throughput while streams run and the
 * totals equal the `usage` clients receive.
 */
import type { Registry } from 'prom-client';
import { FastCounter, FastHistogram, type CounterChild, type HistogramChild } from './fast-metrics.js';
import type { EngineObserver, FinishedRequest, StepRecord } from '../engine/engine.js';
import type { EngineRequest, FinishReason } from '../engine/types.js';
import * as B from './buckets.js';

/** vLLM's FinishReason values, all pre-labelled at 0 as vLLM does (loggers.py counter_request_success). */
export const FINISH_REASONS: readonly FinishReason[] = ['stop', 'length', 'abort'];

export interface RequestMetricsOptions {
  readonly maxModelLen: number;
  /** Served model names: their series exist (at 0) before the first request, as in vLLM. */
  readonly models: readonly string[];
  /** Label of engine-wide series (iteration tokens, preemptions): the first served model. */
  readonly primaryModel: string;
  /**
   * Engines (replicas) behind the server, labelled `engine="0"` … as vLLM labels its data-parallel
   * engines (vllm/v1/metrics/loggers.py, one label value per engine index).
   */
  readonly engines: number;
  /**
   * Disaggregated serving: each engine's role (`prefill`, `decode`), carried as a `role` label on
   * every per-engine series. Absent: no such label (the exposition of any other deployment).
   */
  readonly roles?: readonly string[] | undefined;
}

/** The observers feeding the event metrics: one per engine, each labelling its own series. */
export interface RequestMetrics {
  observerFor(engine: number): EngineObserver;
}

interface Labels {
  readonly m: { model_name: string };
  /** The per-engine series' labels: model, engine and (disaggregated) role. */
  readonly vm: Readonly<Record<string, string>>;
  /** This model's children of the per-token series, resolved once. */
  readonly perToken: {
    readonly nimGen: CounterChild;
    readonly vGen: CounterChild;
    readonly nimTtft: HistogramChild;
    readonly vTtft: HistogramChild;
    readonly nimTpot: HistogramChild;
    readonly vItl: HistogramChild;
    readonly vTpotOld: HistogramChild;
  };
  /** This model's children of the per-request series, resolved once (not looked up per request). */
  readonly perRequest: {
    readonly nimPrompt: CounterChild;
    readonly vPrompt: CounterChild;
    readonly nimE2e: HistogramChild;
    readonly vE2e: HistogramChild;
    readonly vQueue: HistogramChild;
    readonly vPrefill: HistogramChild;
    readonly vDecode: HistogramChild;
    readonly vInference: HistogramChild;
    readonly nimPromptH: HistogramChild;
    readonly vPromptH: HistogramChild;
    readonly nimGenH: HistogramChild;
    readonly vGenH: HistogramChild;
    readonly vTpotReq: HistogramChild;
  };
  /** request_success_total's children per finish reason, created on first use. */
  readonly byReason: Map<string, { readonly nim: CounterChild; readonly v: CounterChild }>;
}

/** Registers the event-fed metrics on `registry` and returns the observers that feed them. */
export function registerRequestMetrics(registry: Registry, opts: RequestMetricsOptions): RequestMetrics {
  const registers = [registry];
  const tokenBuckets = B.buckets125(opts.maxModelLen);
  const nimLabels = ['model_name'];
  const vllmLabels = opts.roles ? ['model_name', 'engine', 'role'] : ['model_name', 'engine'];

  const counter = (name: string, help: string, labelNames: string[]) =>
    new FastCounter(name, help, labelNames, registers);
  const hist = (name: string, help: string, buckets: readonly number[], vllm: boolean) =>
    new FastHistogram(name, help, buckets, vllm ? vllmLabels : nimLabels, registers);

  const nim = {
    prompt: counter('prompt_tokens_total', 'Number of prefill tokens processed.', nimLabels),
    gen: counter('generation_tokens_total', 'Number of generation tokens processed.', nimLabels),
    success: counter('request_success_total', 'Count of successfully processed requests.', [
      ...nimLabels,
      'finished_reason',
    ]),
    ttft: hist(
      'time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      B.NIM_TTFT,
      false,
    ),
    tpot: hist(
      'time_per_output_token_seconds',
      'Histogram of time per output token in seconds.',
      B.NIM_TPOT,
      false,
    ),
    e2e: hist(
      'e2e_request_latency_seconds',
      'Histogram of end to end request latency in seconds.',
      B.NIM_E2E,
      false,
    ),
    promptH: hist('request_prompt_tokens', 'Number of prefill tokens processed.', tokenBuckets, false),
    genH: hist('request_generation_tokens', 'Number of generation tokens processed.', tokenBuckets, false),
  };
  const v = {
    prompt: counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.', vllmLabels),
    gen: counter('vllm:generation_tokens_total', 'Number of generation tokens processed.', vllmLabels),
    success: counter('vllm:request_success_total', 'Count of successfully processed requests.', [
      ...vllmLabels,
      'finished_reason',
    ]),
    preempt: counter(
      'vllm:num_preemptions_total',
      'Cumulative number of preemption from the engine.',
      vllmLabels,
    ),
    ttft: hist(
      'vllm:time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      B.VLLM_TTFT,
      true,
    ),
    itl: hist(
      'vllm:inter_token_latency_seconds',
      'Histogram of inter-token latency in seconds.',
      B.VLLM_ITL,
      true,
    ),
    // The pre-0.11 name of the same observations (deprecated, still charted by older dashboards).
    tpotOld: hist(
      'vllm:time_per_output_token_seconds',
      'Histogram of time per output token in seconds. DEPRECATED: Use vllm:inter_token_latency_seconds instead.',
      B.VLLM_ITL,
      true,
    ),
    tpotReq: hist(
      'vllm:request_time_per_output_token_seconds',
      'Histogram of time_per_output_token_seconds per request.',
      B.VLLM_ITL,
      true,
    ),
    e2e: hist(
      'vllm:e2e_request_latency_seconds',
      'Histogram of e2e request latency in seconds.',
      B.VLLM_REQUEST_TIME,
      true,
    ),
    queue: hist(
      'vllm:request_queue_time_seconds',
      'Histogram of time spent in WAITING phase for request.',
      B.VLLM_REQUEST_TIME,
      true,
    ),
    prefill: hist(
      'vllm:request_prefill_time_seconds',
      'Histogram of time spent in PREFILL phase for request.',
      B.VLLM_REQUEST_TIME,
      true,
    ),
    decode: hist(
      'vllm:request_decode_time_seconds',
      'Histogram of time spent in DECODE phase for request.',
      B.VLLM_REQUEST_TIME,
      true,
    ),
    inference: hist(
      'vllm:request_inference_time_seconds',
      'Histogram of time spent in RUNNING phase for request.',
      B.VLLM_REQUEST_TIME,
      true,
    ),
    promptH: hist('vllm:request_prompt_tokens', 'Number of prefill tokens processed.', tokenBuckets, true),
    genH: hist(
      'vllm:request_generation_tokens',
      'Number of generation tokens processed.',
      tokenBuckets,
      true,
    ),
    iter: hist(
      'vllm:iteration_tokens_total',
      'Histogram of number of tokens per engine_step.',
      B.VLLM_ITERATION_TOKENS,
      true,
    ),
  };

  // One label set per (engine, model): the vllm: children carry the replica's `engine` label, the
  // NIM 1.x children (model only) are shared, so NIM's series are the sums over replicas.
  const cache = new Map<string, Labels>();
  const labelsFor = (engine: string, modelName: string): Labels => {
    const key = `${engine}\u0000${modelName}`;
    let l = cache.get(key);
    if (!l) {
      const m = { model_name: modelName };
      const role = opts.roles?.[Number(engine)];
      const vm: Record<string, string> =
        role === undefined ? { model_name: modelName, engine } : { model_name: modelName, engine, role };
      l = {
        m,
        vm,
        perToken: {
          nimGen: nim.gen.labels(m),
          vGen: v.gen.labels(vm),
          nimTtft: nim.ttft.labels(m),
          vTtft: v.ttft.labels(vm),
          nimTpot: nim.tpot.labels(m),
          vItl: v.itl.labels(vm),
          vTpotOld: v.tpotOld.labels(vm),
        },
        perRequest: {
          nimPrompt: nim.prompt.labels(m),
          vPrompt: v.prompt.labels(vm),
          nimE2e: nim.e2e.labels(m),
          vE2e: v.e2e.labels(vm),
          vQueue: v.queue.labels(vm),
          vPrefill: v.prefill.labels(vm),
          vDecode: v.decode.labels(vm),
          vInference: v.inference.labels(vm),
          nimPromptH: nim.promptH.labels(m),
          vPromptH: v.promptH.labels(vm),
          nimGenH: nim.genH.labels(m),
          vGenH: v.genH.labels(vm),
          vTpotReq: v.tpotReq.labels(vm),
        },
        byReason: new Map(),
      };
      cache.set(key, l);
    }
    return l;
  };

  // Series exist at 0 before traffic, so rate() and histogram_quantile() panels have data at once.
  const models = [...new Set([opts.primaryModel, ...opts.models])];
  for (let e = 0; e < opts.engines; e++) {
    for (const name of models) {
      const { m, vm } = labelsFor(String(e), name);
      for (const c of [nim.prompt, nim.gen]) c.inc(m, 0);
      for (const c of [v.prompt, v.gen]) c.inc(vm, 0);
      for (const reason of FINISH_REASONS) {
        nim.success.inc({ ...m, finished_reason: reason }, 0);
        v.success.inc({ ...vm, finished_reason: reason }, 0);
      }
      for (const h of [nim.ttft, nim.tpot, nim.e2e, nim.promptH, nim.genH]) h.zero(m);
      for (const h of [v.ttft, v.itl, v.tpotOld, v.tpotReq, v.e2e, v.queue, v.prefill, v.decode]) h.zero(vm);
      for (const h of [v.inference, v.promptH, v.genH]) h.zero(vm);
    }
    const primary = labelsFor(String(e), opts.primaryModel).vm;
    v.preempt.inc(primary, 0);
    v.iter.zero(primary);
  }

  const countPrompt = ({ perRequest }: Labels, tokens: number) => {
    perRequest.nimPrompt.inc(tokens);
    perRequest.vPrompt.inc(tokens);
  };

  /** The observer of engine (replica) `index`: its own step counters and label cache. */
  const observerFor = (index: number): EngineObserver => {
    if (!Number.isInteger(index) || index < 0 || index >= opts.engines)
      throw new Error(`metrics: engine ${index} is not one of the ${opts.engines} engines`);
    const engine = String(index);
    const primary = labelsFor(engine, opts.primaryModel).vm;
    // Called for every token: the last model's labels answer without a map lookup.
    let lastModel: string | undefined;
    let lastLabels: Labels | undefined;
    const labelsOf = (modelName: string): Labels => {
      if (modelName === lastModel && lastLabels !== undefined) return lastLabels;
      lastModel = modelName;
      lastLabels = labelsFor(engine, modelName);
      return lastLabels;
    };
    // vllm:iteration_tokens_total observes, per engine step, the tokens generated plus the whole
    // prompt of each request that produced its first token (IterationStats in
    // vllm/v1/metrics/stats.py), not the tokens the step computed: a prefill chunk that yields no
    // token adds nothing, and cached prompt tokens count. Tokens are delivered before onStep.
    let iterationTokens = 0;
    // Decode tokens are counted in runs: in one step every sequence that had a token in the step
    // before has the same inter-token latency (the step's duration), so a step's tokens are one
    // run of equal observations, recorded at once (observeMany) when the run ends or the step does
    // — before anyone can scrape, since the step's tokens and its onStep come in one turn.
    let runLabels: Labels | undefined;
    let runS = 0;
    let runTokens = 0;
    const endRun = () => {
      if (runTokens === 0) return;
      const t = runLabels!.perToken;
      t.nimGen.inc(runTokens);
      t.vGen.inc(runTokens);
      t.nimTpot.observeMany(runS, runTokens);
      t.vItl.observeMany(runS, runTokens);
      t.vTpotOld.observeMany(runS, runTokens);
      runTokens = 0;
    };

    return {
      onStep(step: StepRecord) {
        endRun();
        v.iter.observe(primary, iterationTokens);
        iterationTokens = 0;
        if (step.preemptions > 0) v.preempt.inc(primary, step.preemptions);
      },
      onToken(req: EngineRequest, sinceLastMs: number, first: boolean) {
        const l = labelsOf(req.modelName);
        const s = sinceLastMs / 1000;
        if (!first) {
          iterationTokens++;
          if (runTokens > 0 && (l !== runLabels || s !== runS)) endRun();
          runLabels = l;
          runS = s;
          runTokens++;
          return;
        }
        const t = l.perToken;
        t.nimGen.inc(1);
        t.vGen.inc(1);
        iterationTokens += 1 + req.promptTokenIds.length;
        countPrompt(l, req.promptTokenIds.length);
        t.nimTtft.observe(s);
        t.vTtft.observe(s);
      },
      onFinished(done: FinishedRequest) {
        const l = labelsOf(done.request.modelName);
        const { m, vm } = l;
        const { usage, timings: t } = done;
        let reason = l.byReason.get(done.reason);
        if (!reason) {
          reason = {
            nim: nim.success.labels({ ...m, finished_reason: done.reason }),
            v: v.success.labels({ ...vm, finished_reason: done.reason }),
          };
          l.byReason.set(done.reason, reason);
        }
        reason.nim.inc();
        reason.v.inc();
        if (done.reason === 'abort') return;
        // A plan with no output tokens never had a first token: its prompt still counts.
        if (usage.completionTokens === 0) countPrompt(l, usage.promptTokens);
        const r = l.perRequest;
        const e2eS = seconds(t.finishedMs - t.arrivalMs);
        r.nimE2e.observe(e2eS);
        r.vE2e.observe(e2eS);
        r.vQueue.observe(seconds(t.scheduledMs - t.arrivalMs));
        r.vPrefill.observe(seconds(t.firstTokenMs - t.scheduledMs));
        r.vDecode.observe(seconds(t.finishedMs - t.firstTokenMs));
        r.vInference.observe(seconds(t.finishedMs - t.scheduledMs));
        r.nimPromptH.observe(usage.promptTokens);
        r.vPromptH.observe(usage.promptTokens);
        r.nimGenH.observe(usage.completionTokens);
        r.vGenH.observe(usage.completionTokens);
        // vLLM observes every finished request, 0 when there is no token after the first
        // (mean_time_per_output_token, vllm/v1/metrics/stats.py).
        r.vTpotReq.observe(
          usage.completionTokens > 1
            ? seconds(t.finishedMs - t.firstTokenMs) / (usage.completionTokens - 1)
            : 0,
        );
      },
    };
  };
  return { observerFor };
}

/** A simulated duration in ms as a histogram observation in seconds (never negative). */
function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
