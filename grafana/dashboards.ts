/**
 * The shipped dashboards: "nimsim overview" (what an operator of a NIM watches) and "nimsim KV
 * cache" (cache-strategy experiments). Queries use only names a NIM or vLLM exports, plus nimsim's
 * own where neither has one, so the panels read the same against a real NIM 2.x / vLLM (except
 * the nimsim_* panels). `npm run grafana:build` writes the JSON under grafana/dashboards/.
 */
import type { DashboardSpec, PanelSpec, Query } from './panels.js';

const M = 'model_name=~"$model_name"';
const R = '$__rate_interval';
const INFERENCE = 'route=~"/v1/chat/completions|/v1/completions"';

const quantiles = (metric: string): Query[] =>
  [0.5, 0.9, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le) (rate(${metric}_bucket{${M}}[${R}])))`,
    legend: `p${Math.round(q * 100)}`,
  }));

const hitRate = `sum(rate(vllm:prefix_cache_hits_total{${M}}[${R}])) / sum(rate(vllm:prefix_cache_queries_total{${M}}[${R}]))`;

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
      'Mean tokens scheduled per engine step (vllm:iteration_tokens_total): decode batch size plus prefill chunk tokens.',
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

/** What an operator of a NIM watches: load, errors, latency SLOs, throughput, cache, engine health. */
export const OVERVIEW: DashboardSpec = {
  uid: 'nimsim-overview',
  title: 'nimsim overview',
  description: 'NIM / vLLM serving overview: traffic, latency, throughput, KV cache and engine health.',
  tags: ['nimsim', 'nim', 'vllm'],
  rows: [
    { title: 'Traffic', panels: traffic },
    { title: 'Latency', panels: latency },
    { title: 'Throughput', panels: throughput },
    { title: 'KV cache and engine', panels: cacheAndEngine },
  ],
};

/** Cache-strategy experiments: does a policy, size or tier change buy hit rate, and does TTFT follow? */
export const KV_CACHE: DashboardSpec = {
  uid: 'nimsim-kv-cache',
  title: 'nimsim KV cache',
  description:
    'Prefix-cache experiments: hit rate against TTFT, per-tier block usage, evictions, cache config.',
  tags: ['nimsim', 'kv-cache'],
  rows: [
    {
      title: 'Hit rate and latency',
      panels: [
        {
          title: 'Hit rate vs TTFT',
          description:
            'Prefix-cache hit rate (left axis) against median and p90 TTFT (right axis) over time: a better strategy moves them in opposite directions.',
          kind: 'timeseries',
          unit: 'percentunit',
          width: 24,
          rightAxis: { legends: ['TTFT p50', 'TTFT p90'], unit: 's' },
          queries: [
            { expr: hitRate, legend: 'hit rate' },
            {
              expr: `histogram_quantile(0.5, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{${M}}[${R}])))`,
              legend: 'TTFT p50',
            },
            {
              expr: `histogram_quantile(0.9, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{${M}}[${R}])))`,
              legend: 'TTFT p90',
            },
          ],
        },
        {
          title: 'Cached vs queried prompt tokens',
          description:
            'Prompt tokens looked up in the cache and tokens found, per second (vllm:prefix_cache_queries_total, vllm:prefix_cache_hits_total), and of the hits those loaded from the host tier (nimsim_kv_cache_host_hits_total).',
          kind: 'timeseries',
          unit: 'short',
          queries: [
            { expr: `sum(rate(vllm:prefix_cache_queries_total{${M}}[${R}]))`, legend: 'queried' },
            { expr: `sum(rate(vllm:prefix_cache_hits_total{${M}}[${R}]))`, legend: 'hit' },
            { expr: `sum(rate(nimsim_kv_cache_host_hits_total{${M}}[${R}]))`, legend: 'hit (host tier)' },
          ],
        },
        {
          title: 'Prefill time vs queue time',
          description:
            'Median time in prefill (vllm:request_prefill_time_seconds) and in the queue (vllm:request_queue_time_seconds): hits shorten prefill; a full cache lengthens the queue.',
          kind: 'timeseries',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.5, sum by (le) (rate(vllm:request_prefill_time_seconds_bucket{${M}}[${R}])))`,
              legend: 'prefill p50',
            },
            {
              expr: `histogram_quantile(0.5, sum by (le) (rate(vllm:request_queue_time_seconds_bucket{${M}}[${R}])))`,
              legend: 'queue p50',
            },
          ],
        },
      ],
    },
    {
      title: 'Blocks per tier',
      panels: [
        {
          title: 'GPU blocks by state',
          description:
            'GPU KV blocks in use (pinned by running sequences), reusable (cached, evictable) and free (nimsim_kv_cache_blocks{tier="gpu"}), stacked to the capacity.',
          kind: 'timeseries',
          unit: 'short',
          stacked: true,
          queries: [
            {
              expr: `sum by (state) (nimsim_kv_cache_blocks{tier="gpu",${M}})`,
              legend: '{{state}}',
            },
          ],
        },
        {
          title: 'Host tier blocks',
          description:
            'Host (CPU) tier blocks used and free (nimsim_kv_cache_blocks{tier="host"}); all zero when NIMSIM_KV_HOST_CACHE_BLOCKS is 0.',
          kind: 'timeseries',
          unit: 'short',
          stacked: true,
          queries: [
            {
              expr: `sum by (state) (nimsim_kv_cache_blocks{tier="host",${M}})`,
              legend: '{{state}}',
            },
          ],
        },
        {
          title: 'Evictions per tier',
          description:
            'Blocks evicted per second from the GPU reusable pool (to the host tier when there is one) and from the host tier (nimsim_kv_cache_evictions_total, nimsim_kv_cache_host_evictions_total).',
          kind: 'timeseries',
          unit: 'ops',
          queries: [
            { expr: `sum(rate(nimsim_kv_cache_evictions_total{${M}}[${R}]))`, legend: 'gpu' },
            { expr: `sum(rate(nimsim_kv_cache_host_evictions_total{${M}}[${R}]))`, legend: 'host' },
          ],
        },
        {
          title: 'Mean prompt length',
          description:
            'Mean prompt tokens per finished request (vllm:request_prompt_tokens): longer shared prefixes make the hit rate matter more.',
          kind: 'timeseries',
          unit: 'short',
          queries: [
            {
              expr: `sum(rate(vllm:request_prompt_tokens_sum{${M}}[${R}])) / sum(rate(vllm:request_prompt_tokens_count{${M}}[${R}]))`,
              legend: 'prompt tokens',
            },
          ],
        },
        {
          title: 'Cache configuration',
          description:
            'vllm:cache_config_info as a table: block size, GPU and CPU blocks, prefix caching on or off, eviction policy, KV dtype, so each experiment shows the configuration it ran with.',
          kind: 'table',
          width: 24,
          queries: [{ expr: 'vllm:cache_config_info', instant: true }],
        },
      ],
    },
  ],
};

export const DASHBOARDS: readonly DashboardSpec[] = [OVERVIEW, KV_CACHE];
