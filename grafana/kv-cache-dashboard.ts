/**
 * "nimsim KV cache": cache-strategy experiments — does a policy, size or tier buy hit rate, and does
 * TTFT follow? Per-tier block usage, evictions and the cache configuration of the run.
 */
import type { DashboardSpec } from './panels.js';
import { M, R, hitRate } from './promql.js';

/** Cache-strategy experiments: hit rate against TTFT, then blocks, evictions and config per tier. */
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
            'Prompt tokens looked up in the cache and tokens found, per second (vllm:prefix_cache_queries_total, vllm:prefix_cache_hits_total), and of the hits those loaded from the host and disk tiers (nimsim_kv_cache_host_hits_total, nimsim_kv_cache_disk_hits_total).',
          kind: 'timeseries',
          unit: 'short',
          queries: [
            { expr: `sum(rate(vllm:prefix_cache_queries_total{${M}}[${R}]))`, legend: 'queried' },
            { expr: `sum(rate(vllm:prefix_cache_hits_total{${M}}[${R}]))`, legend: 'hit' },
            { expr: `sum(rate(nimsim_kv_cache_host_hits_total{${M}}[${R}]))`, legend: 'hit (host tier)' },
            { expr: `sum(rate(nimsim_kv_cache_disk_hits_total{${M}}[${R}]))`, legend: 'hit (disk tier)' },
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
          title: 'Disk tier blocks',
          description:
            'Local-disk tier blocks used and free (nimsim_kv_cache_blocks{tier="disk"}); all zero when NIMSIM_KV_DISK_CACHE_BLOCKS is 0.',
          kind: 'timeseries',
          unit: 'short',
          stacked: true,
          queries: [
            {
              expr: `sum by (state) (nimsim_kv_cache_blocks{tier="disk",${M}})`,
              legend: '{{state}}',
            },
          ],
        },
        {
          title: 'Evictions per tier',
          description:
            'Blocks evicted per second from the GPU reusable pool (to the host tier when there is one, else the disk tier), from the host tier (to the disk tier when there is one) and from the disk tier (nimsim_kv_cache_evictions_total, nimsim_kv_cache_host_evictions_total, nimsim_kv_cache_disk_evictions_total).',
          kind: 'timeseries',
          unit: 'ops',
          queries: [
            { expr: `sum(rate(nimsim_kv_cache_evictions_total{${M}}[${R}]))`, legend: 'gpu' },
            { expr: `sum(rate(nimsim_kv_cache_host_evictions_total{${M}}[${R}]))`, legend: 'host' },
            { expr: `sum(rate(nimsim_kv_cache_disk_evictions_total{${M}}[${R}]))`, legend: 'disk' },
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
