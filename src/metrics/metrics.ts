/**
 * The Prometheus registry: NIM 1.x's unprefixed names, vLLM's `vllm:` names and nimsim's own
 * (CONTRACT.md), all fed by engine events (histograms, counters) and by snapshots read at scrape
 * time (gauges, cache counters). The engine never calls prom-client; this module observes it.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineObserver, FinishedRequest, StepRecord } from '../engine/engine.js';
import type { KvCacheManager } from '../engine/kv-cache/kv-cache-manager.js';
import type { EngineRequest, EngineStats } from '../engine/types.js';
import * as B from './buckets.js';

export interface MetricsOptions {
  /** The label of engine-wide gauges: the first served model name (vLLM does the same). */
  readonly primaryModel: string;
  readonly maxModelLen: number;
  readonly maxNumSeqs: number;
  readonly stats: () => EngineStats;
  readonly kv: KvCacheManager;
  /** Labels of vllm:cache_config_info. */
  readonly cacheConfig: Record<string, string>;
  /** Node process metrics (off in unit tests that build many registries). */
  readonly processMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  readonly observer: EngineObserver;
  recordHttp(route: string, method: string, status: number): void;
  recordFault(type: string): void;
  render(): Promise<string>;
  readonly contentType: string;
}

const ENGINE = '0';

export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const model = { model_name: opts.primaryModel };
  const vmodel = { model_name: opts.primaryModel, engine: ENGINE };
  const tokenBuckets = B.buckets125(opts.maxModelLen);

  const gauge = (name: string, help: string, read: (s: EngineStats) => number, vllm: boolean) =>
    new Gauge({
      name,
      help,
      labelNames: vllm ? ['model_name', 'engine'] : ['model_name'],
      registers,
      collect() {
        this.set(vllm ? vmodel : model, read(opts.stats()));
      },
    });
  gauge('num_requests_running', 'Number of requests currently running on GPU.', (s) => s.running, false);
  gauge('num_requests_waiting', 'Number of requests waiting to be processed.', (s) => s.waiting, false);
  gauge('num_request_max', 'Max number of concurrently running requests.', (s) => s.maxNumSeqs, false);
  gauge('gpu_cache_usage_perc', 'GPU KV-cache usage. 1 means 100 percent usage.', (s) => s.kvUsage, false);
  gauge(
    'vllm:num_requests_running',
    'Number of requests in model execution batches.',
    (s) => s.running,
    true,
  );
  gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', (s) => s.waiting, true);
  gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', (s) => s.kvUsage, true);
  gauge('vllm:gpu_cache_usage_perc', 'GPU KV-cache usage (deprecated vLLM name).', (s) => s.kvUsage, true);
  new Gauge({
    name: 'nimsim_engine_step_lag_seconds',
    help: 'How far the real clock runs behind the simulated schedule at the last step.',
    labelNames: ['model_name'],
    registers,
    collect() {
      this.set(model, opts.stats().stepLagMs / 1000);
    },
  });
  new Gauge({
    name: 'vllm:cache_config_info',
    help: 'Information of the LLMEngine CacheConfig.',
    labelNames: Object.keys(opts.cacheConfig),
    registers,
  }).set(opts.cacheConfig, 1);
  new Gauge({
    name: 'nimsim_kv_cache_blocks',
    help: 'KV cache blocks by tier and state.',
    labelNames: ['model_name', 'tier', 'state'],
    registers,
    collect() {
      const s = opts.kv.stats();
      this.set({ ...model, tier: 'gpu', state: 'in_use' }, s.gpu.inUse);
      this.set({ ...model, tier: 'gpu', state: 'reusable' }, s.gpu.reusable);
      this.set({ ...model, tier: 'gpu', state: 'free' }, s.gpu.free);
      this.set({ ...model, tier: 'host', state: 'used' }, s.host.used);
      this.set({ ...model, tier: 'host', state: 'free' }, s.host.total - s.host.used);
    },
  });

  // Cache counters mirror the manager's own totals at scrape time, so they are exact.
  const kvCounter = (name: string, help: string, read: () => number) => {
    let seen = 0;
    return new Counter({
      name,
      help,
      labelNames: ['model_name', 'engine'],
      registers,
      collect() {
        const now = read();
        if (now > seen) this.inc(vmodel, now - seen);
        else if (now < seen) this.reset(); // POST /admin/kv-cache/reset does not rewind counters; guard anyway
        seen = now;
      },
    });
  };
  kvCounter(
    'vllm:prefix_cache_queries_total',
    'Prefix cache queries, in terms of number of queried tokens.',
    () => opts.kv.stats().queryTokens,
  );
  kvCounter(
    'vllm:prefix_cache_hits_total',
    'Prefix cache hits, in terms of number of cached tokens.',
    () => opts.kv.stats().hitTokens,
  );
  kvCounter(
    'nimsim_kv_cache_evictions_total',
    'Reusable GPU KV blocks evicted to make room.',
    () => opts.kv.stats().evictions,
  );
  kvCounter(
    'nimsim_kv_cache_host_hits_total',
    'Prefix cache hits served from the host (CPU) tier, in tokens.',
    () => opts.kv.stats().hostHitTokens,
  );

  const counter = (name: string, help: string, labelNames: string[]) =>
    new Counter({ name, help, labelNames, registers });
  const nimPrompt = counter('prompt_tokens_total', 'Number of prefill tokens processed.', ['model_name']);
  const nimGen = counter('generation_tokens_total', 'Number of generation tokens processed.', ['model_name']);
  const nimSuccess = counter('request_success_total', 'Count of successfully processed requests.', [
    'model_name',
    'finished_reason',
  ]);
  const vPrompt = counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.', [
    'model_name',
    'engine',
  ]);
  const vGen = counter('vllm:generation_tokens_total', 'Number of generation tokens processed.', [
    'model_name',
    'engine',
  ]);
  const vSuccess = counter('vllm:request_success_total', 'Count of successfully processed requests.', [
    'model_name',
    'engine',
    'finished_reason',
  ]);
  const vPreempt = counter(
    'vllm:num_preemptions_total',
    'Cumulative number of preemptions from the engine.',
    ['model_name', 'engine'],
  );
  const steps = counter('nimsim_engine_steps_total', 'Engine steps executed.', ['model_name']);
  const faults = counter('nimsim_injected_faults_total', 'Errors injected on purpose, by type.', [
    'model_name',
    'type',
  ]);
  const http = counter('nimsim_http_requests_total', 'HTTP requests by route, method and status.', [
    'route',
    'method',
    'status',
  ]);

  const hist = (name: string, help: string, buckets: number[], vllm: boolean) =>
    new Histogram({
      name,
      help,
      buckets,
      labelNames: vllm ? ['model_name', 'engine'] : ['model_name'],
      registers,
    });
  const nimTtft = hist(
    'time_to_first_token_seconds',
    'Histogram of time to first token in seconds.',
    B.NIM_TTFT,
    false,
  );
  const nimTpot = hist(
    'time_per_output_token_seconds',
    'Histogram of time per output token in seconds.',
    B.NIM_TPOT,
    false,
  );
  const nimE2e = hist(
    'e2e_request_latency_seconds',
    'Histogram of end to end request latency in seconds.',
    B.NIM_E2E,
    false,
  );
  const nimPromptH = hist(
    'request_prompt_tokens',
    'Number of prefill tokens processed.',
    tokenBuckets,
    false,
  );
  const nimGenH = hist(
    'request_generation_tokens',
    'Number of generation tokens processed.',
    tokenBuckets,
    false,
  );
  const vTtft = hist(
    'vllm:time_to_first_token_seconds',
    'Histogram of time to first token in seconds.',
    B.VLLM_TTFT,
    true,
  );
  const vItl = hist(
    'vllm:inter_token_latency_seconds',
    'Histogram of inter-token latency in seconds.',
    B.VLLM_ITL,
    true,
  );
  const vTpot = hist(
    'vllm:request_time_per_output_token_seconds',
    'Histogram of time_per_output_token_seconds per request.',
    B.VLLM_ITL,
    true,
  );
  const vE2e = hist(
    'vllm:e2e_request_latency_seconds',
    'Histogram of e2e request latency in seconds.',
    B.VLLM_REQUEST_TIME,
    true,
  );
  const vQueue = hist(
    'vllm:request_queue_time_seconds',
    'Histogram of time spent in WAITING phase for request.',
    B.VLLM_REQUEST_TIME,
    true,
  );
  const vPrefill = hist(
    'vllm:request_prefill_time_seconds',
    'Histogram of time spent in PREFILL phase for request.',
    B.VLLM_REQUEST_TIME,
    true,
  );
  const vDecode = hist(
    'vllm:request_decode_time_seconds',
    'Histogram of time spent in DECODE phase for request.',
    B.VLLM_REQUEST_TIME,
    true,
  );
  const vInference = hist(
    'vllm:request_inference_time_seconds',
    'Histogram of time spent in RUNNING phase for request.',
    B.VLLM_REQUEST_TIME,
    true,
  );
  const vPromptH = hist(
    'vllm:request_prompt_tokens',
    'Number of prefill tokens processed.',
    tokenBuckets,
    true,
  );
  const vGenH = hist(
    'vllm:request_generation_tokens',
    'Number of generation tokens processed.',
    tokenBuckets,
    true,
  );
  const vIter = new Histogram({
    name: 'vllm:iteration_tokens_total',
    help: 'Histogram of number of tokens per engine_step.',
    buckets: [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384],
    labelNames: ['model_name', 'engine'],
    registers,
  });

  const observer: EngineObserver = {
    onStep(step: StepRecord) {
      steps.inc(model);
      let tokens = step.work.decodeSeqs;
      for (const c of step.work.prefillChunks) tokens += c.tokens;
      vIter.observe(vmodel, tokens);
      if (step.preemptions > 0) vPreempt.inc(vmodel, step.preemptions);
    },
    onToken(req: EngineRequest, sinceLastMs: number, first: boolean) {
      const m = { model_name: req.modelName };
      if (first) {
        nimTtft.observe(m, sinceLastMs / 1000);
        vTtft.observe({ ...m, engine: ENGINE }, sinceLastMs / 1000);
      } else {
        nimTpot.observe(m, sinceLastMs / 1000);
        vItl.observe({ ...m, engine: ENGINE }, sinceLastMs / 1000);
      }
    },
    onFinished(done: FinishedRequest) {
      const m = { model_name: done.request.modelName };
      const vm = { ...m, engine: ENGINE };
      const { usage, timings: t } = done;
      nimPrompt.inc(m, usage.promptTokens);
      vPrompt.inc(vm, usage.promptTokens);
      nimGen.inc(m, usage.completionTokens);
      vGen.inc(vm, usage.completionTokens);
      nimSuccess.inc({ ...m, finished_reason: done.reason });
      vSuccess.inc({ ...vm, finished_reason: done.reason });
      if (done.reason === 'abort') return;
      const s = (ms: number) => Math.max(0, ms) / 1000;
      nimE2e.observe(m, s(t.finishedMs - t.arrivalMs));
      vE2e.observe(vm, s(t.finishedMs - t.arrivalMs));
      vQueue.observe(vm, s(t.scheduledMs - t.arrivalMs));
      vPrefill.observe(vm, s(t.firstTokenMs - t.scheduledMs));
      vDecode.observe(vm, s(t.finishedMs - t.firstTokenMs));
      vInference.observe(vm, s(t.finishedMs - t.scheduledMs));
      nimPromptH.observe(m, usage.promptTokens);
      vPromptH.observe(vm, usage.promptTokens);
      nimGenH.observe(m, usage.completionTokens);
      vGenH.observe(vm, usage.completionTokens);
      if (usage.completionTokens > 1)
        vTpot.observe(vm, s(t.finishedMs - t.firstTokenMs) / (usage.completionTokens - 1));
    },
  };

  return {
    registry,
    observer,
    contentType: registry.contentType,
    recordHttp: (route, method, status) => http.inc({ route, method, status: String(status) }),
    recordFault: (type) => faults.inc({ ...model, type }),
    render: () => registry.metrics(),
  };
}
