/** PromQL pieces shared by the dashboards: the model filter, the rate window, common expressions. */
import type { Query } from './panels.js';

/** Selector of the `model_name` dashboard variable (All = `.*`). */
export const M = 'model_name=~"$model_name"';
/** Grafana's rate window: at least four scrape intervals. */
export const R = '$__rate_interval';
/** The inference routes of nimsim_http_requests_total. */
export const INFERENCE = 'route=~"/v1/chat/completions|/v1/completions"';

/** p50 / p90 / p99 of a histogram over the rate window, summed over the selected models. */
export const quantiles = (metric: string): Query[] =>
  [0.5, 0.9, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le) (rate(${metric}_bucket{${M}}[${R}])))`,
    legend: `p${Math.round(q * 100)}`,
  }));

/** Prefix-cache hit rate in tokens: vLLM's hits / queries counters (their replacement of a hit-rate gauge). */
export const hitRate = `sum(rate(vllm:prefix_cache_hits_total{${M}}[${R}])) / sum(rate(vllm:prefix_cache_queries_total{${M}}[${R}]))`;
