/**
 * "nimsim overview": what an operator of a NIM watches — load, errors, latency, throughput, KV cache
 * and engine health. Queries use NIM 2.x / vLLM names, plus nimsim's own where neither has one.
 */
import { DISAGGREGATION_ROW, disaggregation } from './disagg-panels.js';
import type { DashboardSpec, PanelSpec } from './panels.js';
import { INFERENCE, M, R, hitRate, quantiles } from './promql.js';

const traffic: PanelSpec[] = [
  {
    title: 'Running requests',
    description:
      'Sequences in the running batch now (vllm:num_requests_running), summed over the selected models.',
    kind: 'stat',
    queries: [{ expr: `sum(vllm:num_requests_running{${M}})`, instant: true }],
  },
  {
    title: 'Waiting requests',
    description:
      'Requests queued for admission (vllm:num_requests_waiting): above zero the batch or the KV cache is full.',
    kind: 'stat',
    queries: [{ expr: `sum(vllm:num_requests_waiting{${M}})`, instant: true }],
  },
  {
    title: 'KV cache usage',
    description: 'Fraction of GPU KV blocks pinned by running sequences (vllm:kv_cache_usage_perc).',
    kind: 'stat',
    unit: 'percentunit',
    min: 0,
    max: 1,
    queries: [{ expr: `max(vllm:kv_cache_usage_perc{${M}})`, instant: true }],
  },
  {
    title: 'Prefix cache hit rate',
    description:
      'Prompt tokens served from the prefix cache over prompt tokens looked up, over the rate window.',
    kind: 'stat',
    unit: 'percentunit',
    min: 0,
    max: 1,
    queries: [{ expr: hitRate, instant: true }],
  },
  {
    title: 'Request rate by status',
    description:
      'HTTP requests per second on the inference routes (chat and completions) by status code, from nimsim_http_requests_total.',
    kind: 'timeseries',
    unit: 'reqps',
    queries: [
      {
        expr: `sum by (status) (rate(nimsim_http_requests_total{${INFERENCE}}[${R}]))`,
        legend: '{{status}}',
      },
    ],
  },
  {
    title: 'Errors by status',
    description:
      'Error responses per second (4xx and 5xx) on every route by status and route: 400 bad input, 404 unknown model, 429 queue full, 5xx faults.',
    kind: 'timeseries',
    unit: 'reqps',
    queries: [
      {
        expr: `sum by (status, route) (rate(nimsim_http_requests_total{status=~"4..|5.."}[${R}]))`,
        legend: '{{status}} {{route}}',
      },
    ],
  },
  {
    title: 'Finished requests by reason',
    description:
      'Engine requests finished per second by finished_reason (stop, length, abort) from vllm:request_success_total; each choice of n counts.',
    kind: 'timeseries',
    unit: 'reqps',
    queries: [
      {
        expr: `sum by (finished_reason) (rate(vllm:request_success_total{${M}}[${R}]))`,
        legend: '{{finished_reason}}',
      },
    ],
  },
  {
    title: 'Running and waiting',
    description:
      'The scheduler over time: running and waiting requests against the max_num_seqs limit (num_request_max).',
    kind: 'timeseries',
    unit: 'short',
    queries: [
      { expr: `sum(vllm:num_requests_running{${M}})`, legend: 'running' },
      { expr: `sum(vllm:num_requests_waiting{${M}})`, legend: 'waiting' },
      { expr: `max(num_request_max{${M}})`, legend: 'max_num_seqs' },
    ],
  },
];

const latency: PanelSpec[] = [
  {
    title: 'Time to first token',
    description:
      'TTFT p50 / p90 / p99 from vllm:time_to_first_token_seconds: simulated time from arrival to the first token, queueing included.',
    kind: 'timeseries',
    unit: 's',
    queries: quantiles('vllm:time_to_first_token_seconds'),
  },
  {
    title: 'Inter-token latency',
    description:
      'ITL p50 / p90 / p99 from vllm:inter_token_latency_seconds: simulated time between consecutive tokens of a stream (one engine step, or more when prefills share it).',
    kind: 'timeseries',
    unit: 's',
    queries: quantiles('vllm:inter_token_latency_seconds'),
  },
  {
    title: 'End-to-end latency',
    description:
      'Request latency p50 / p90 / p99 from arrival to the last token (vllm:e2e_request_latency_seconds).',
    kind: 'timeseries',
    unit: 's',
    queries: quantiles('vllm:e2e_request_latency_seconds'),
  },
  {
    title: 'Queue time',
    description:
      'Time spent waiting for admission, p50 / p90 / p99 (vllm:request_queue_time_seconds): the part of TTFT due to load.',
    kind: 'timeseries',
    unit: 's',
    queries: quantiles('vllm:request_queue_time_seconds'),
  },
];

const throughput: PanelSpec[] = [
  {
    title: 'Tokens per second',
    description:
      'Prompt tokens in (prefilled, cached or not) and generated tokens out per second, from vllm:prompt_tokens_total and vllm:generation_tokens_total.',
    kind: 'timeseries',
    unit: 'short',
    queries: [
      { expr: `sum(rate(vllm:prompt_tokens_total{${M}}[${R}]))`, legend: 'prompt (in)' },
      { expr: `sum(rate(vllm:generation_tokens_total{${M}}[${R}]))`, legend: 'generation (out)' },
    ],
  },
  {
    title: 'Tokens per engine step',
    description:
      'Mean tokens per engine step as vLLM counts them (vllm:iteration_tokens_total): tokens generated plus the whole prompt of each request that got its first token.',
    kind: 'timeseries',
    unit: 'short',
    queries: [
      {
        expr: `sum(rate(vllm:iteration_tokens_total_sum{${M}}[${R}])) / sum(rate(vllm:iteration_tokens_total_count{${M}}[${R}]))`,
        legend: 'tokens / step',
      },
    ],
  },
];

const cacheAndEngine: PanelSpec[] = [
  {
    title: 'KV cache usage over time',
    description:
      'GPU KV cache usage (vllm:kv_cache_usage_perc); near 1 new requests wait and running ones get preempted.',
    kind: 'timeseries',
    unit: 'percentunit',
    min: 0,
    max: 1,
    queries: [{ expr: `max(vllm:kv_cache_usage_perc{${M}})`, legend: 'usage' }],
  },
  {
    title: 'Prefix cache hit rate over time',
    description:
      'rate(vllm:prefix_cache_hits_total) / rate(vllm:prefix_cache_queries_total): the share of prompt tokens that skipped prefill.',
    kind: 'timeseries',
    unit: 'percentunit',
    min: 0,
    max: 1,
    queries: [{ expr: hitRate, legend: 'hit rate' }],
  },
  {
    title: 'Evictions and preemptions',
    description:
      'Reusable KV blocks evicted per second (nimsim_kv_cache_evictions_total) and running requests preempted per second (vllm:num_preemptions_total).',
    kind: 'timeseries',
    unit: 'ops',
    queries: [
      { expr: `sum(rate(nimsim_kv_cache_evictions_total{${M}}[${R}]))`, legend: 'block evictions' },
      { expr: `sum(rate(vllm:num_preemptions_total{${M}}[${R}]))`, legend: 'preemptions' },
    ],
  },
  {
    title: 'Engine lag',
    description:
      'How far the real clock ran behind the simulated schedule at the last step (nimsim_engine_step_lag_seconds): above a few ms the host cannot keep up and latencies are late.',
    kind: 'timeseries',
    unit: 's',
    queries: [{ expr: `max(nimsim_engine_step_lag_seconds{${M}})`, legend: 'lag' }],
  },
  {
    title: 'Injected faults',
    description: 'Errors injected on purpose per second by type (nimsim_injected_faults_total).',
    kind: 'timeseries',
    unit: 'ops',
    queries: [{ expr: `sum by (type) (rate(nimsim_injected_faults_total{${M}}[${R}]))`, legend: '{{type}}' }],
  },
  {
    title: 'Process CPU and memory',
    description: 'CPU seconds per second and resident memory of the nimsim process (Node process metrics).',
    kind: 'timeseries',
    unit: 'percentunit',
    rightAxis: { legends: ['resident memory'], unit: 'bytes' },
    queries: [
      { expr: `sum(rate(process_cpu_seconds_total{job=~"nimsim.*"}[${R}]))`, legend: 'cpu' },
      { expr: `sum(process_resident_memory_bytes{job=~"nimsim.*"})`, legend: 'resident memory' },
    ],
  },
];

/**
 * One line per replica (the `engine` label of the vllm: series, as vLLM's data-parallel engines
 * label theirs) and the router's view: with one replica each panel shows one line.
 */
const replicas: PanelSpec[] = [
  {
    title: 'Running per replica',
    description:
      'Requests in each replica’s running batch (vllm:num_requests_running by engine): a router that balances keeps the lines together.',
    kind: 'timeseries',
    unit: 'short',
    queries: [{ expr: `sum by (engine) (vllm:num_requests_running{${M}})`, legend: 'replica {{engine}}' }],
  },
  {
    title: 'KV cache usage per replica',
    description: 'GPU KV cache usage of each replica (vllm:kv_cache_usage_perc by engine).',
    kind: 'timeseries',
    unit: 'percentunit',
    min: 0,
    max: 1,
    queries: [{ expr: `max by (engine) (vllm:kv_cache_usage_perc{${M}})`, legend: 'replica {{engine}}' }],
  },
  {
    title: 'Prefix hit rate per replica',
    description:
      'Each replica’s prefix-cache hit rate in tokens (vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total by engine): KV-aware routing raises it.',
    kind: 'timeseries',
    unit: 'percentunit',
    min: 0,
    max: 1,
    queries: [
      {
        expr: `sum by (engine) (rate(vllm:prefix_cache_hits_total{${M}}[${R}])) / sum by (engine) (rate(vllm:prefix_cache_queries_total{${M}}[${R}]))`,
        legend: 'replica {{engine}}',
      },
    ],
  },
  {
    title: 'Routed requests per replica',
    description:
      'Requests per second the router sends to each replica (nimsim_router_requests_total by replica).',
    kind: 'timeseries',
    unit: 'reqps',
    queries: [
      {
        expr: `sum by (replica) (rate(nimsim_router_requests_total{${M}}[${R}]))`,
        legend: 'replica {{replica}}',
      },
    ],
  },
  {
    title: 'Router prediction vs cache',
    description:
      'Prompt tokens per second the router expected to find cached (nimsim_router_predicted_cached_tokens_total) against those the replicas found (nimsim_router_actual_cached_tokens_total): a gap means the router’s view of the caches was stale.',
    kind: 'timeseries',
    unit: 'short',
    queries: [
      {
        expr: `sum(rate(nimsim_router_predicted_cached_tokens_total{${M}}[${R}]))`,
        legend: 'predicted',
      },
      { expr: `sum(rate(nimsim_router_actual_cached_tokens_total{${M}}[${R}]))`, legend: 'found' },
    ],
  },
];

/**
 * What an operator of a NIM watches, row by row: traffic, latency, throughput, KV cache and engine,
 * replicas, and a disaggregated deployment's transfers and queues.
 */
export const OVERVIEW: DashboardSpec = {
  uid: 'nimsim-overview',
  title: 'nimsim overview',
  description:
    'NIM / vLLM serving overview: traffic, latency, throughput, KV cache and engine health, replicas and disaggregation.',
  tags: ['nimsim', 'nim', 'vllm'],
  rows: [
    { title: 'Traffic', panels: traffic },
    { title: 'Latency', panels: latency },
    { title: 'Throughput', panels: throughput },
    { title: 'KV cache and engine', panels: cacheAndEngine },
    { title: 'Replicas and routing', panels: replicas },
    { title: DISAGGREGATION_ROW, panels: disaggregation },
  ],
};
