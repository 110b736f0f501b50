/**
 * Metrics read from the engine's snapshot at scrape time: the scheduler's gauges (running,
 * waiting, KV usage, lag), the block counts per tier, and the cache counters, which mirror the KV
 * cache's own running totals so they are exact whenever Prometheus looks.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EngineStats } from '../engine/types.js';

export interface SnapshotSources {
  /** The whole server's snapshot (every replica's sums): NIM 1.x's series and nimsim's own. */
  readonly stats: () => EngineStats;
  /**
   * Each engine's (replica's) own snapshot, for the `vllm:` series labelled `engine="<index>"`, as
   * vLLM labels its data-parallel engines. One engine: `[stats]`.
   */
  readonly engineStats: readonly (() => EngineStats)[];
  /** Disaggregated: each engine's role, a `role` label on its series (absent: no such label). */
  readonly roles?: readonly string[] | undefined;
}

/** Label values of engine-wide series: the first served model (vLLM does the same). */
export interface EngineLabels {
  readonly model: { model_name: string };
}

/** Registers the scrape-time gauges and cache counters on `registry`. */
export function registerSnapshotMetrics(
  registry: Registry,
  src: SnapshotSources,
  labels: EngineLabels,
  cacheConfig: Record<string, string>,
): void {
  const registers = [registry];
  const { model } = labels;
  const roles = src.roles;
  const engines = src.engineStats.map((stats, i) => ({
    stats,
    labels: roles ? { ...model, engine: String(i), role: roles[i]! } : { ...model, engine: String(i) },
  }));
  const engineLabels = roles ? ['model_name', 'engine', 'role'] : ['model_name', 'engine'];

  const gauge = (name: string, help: string, read: (s: EngineStats) => number, vllm: boolean) =>
    new Gauge({
      name,
      help,
      labelNames: vllm ? engineLabels : ['model_name'],
      registers,
      collect() {
        if (!vllm) this.set(model, read(src.stats()));
        else for (const e of engines) this.set(e.labels, read(e.stats()));
      },
    });
  // NIM 1.x strips vLLM's prefix and adds num_request_max (docs/nim-api.md#metrics).
  gauge('num_requests_running', 'Number of requests currently running on GPU.', (s) => s.running, false);
  gauge('num_requests_waiting', 'Number of requests waiting to be processed.', (s) => s.waiting, false);
  gauge('num_request_max', 'Max number of concurrently running requests.', (s) => s.maxNumSeqs, false);
  gauge('gpu_cache_usage_perc', 'GPU KV-cache usage. 1 means 100 percent usage.', (s) => s.kvUsage, false);
  // vLLM v1 names (vllm/v1/metrics/loggers.py), including the deprecated gpu_cache_usage_perc that
  // older dashboards still chart.
  gauge(
    'vllm:num_requests_running',
    'Number of requests in model execution batches.',
    (s) => s.running,
    true,
  );
  gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', (s) => s.waiting, true);
  gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', (s) => s.kvUsage, true);
  gauge(
    'vllm:gpu_cache_usage_perc',
    'GPU KV-cache usage. 1 means 100 percent usage. DEPRECATED: Use vllm:kv_cache_usage_perc instead.',
    (s) => s.kvUsage,
    true,
  );
  gauge(
    'nimsim_engine_step_lag_seconds',
    'How far the real clock ran behind the simulated schedule at the last engine step.',
    (s) => s.stepLagMs / 1000,
    false,
  );

  // Info-style gauge fixed at 1, as vLLM emulates prometheus Info (log_metrics_info), once per engine.
  const cacheInfo = new Gauge({
    name: 'vllm:cache_config_info',
    help: 'Information of the LLMEngine CacheConfig',
    labelNames: [...new Set([...Object.keys(cacheConfig), 'engine', ...(roles ? ['role'] : [])])],
    registers,
  });
  for (const [i, e] of engines.entries())
    cacheInfo.set({ ...cacheConfig, engine: e.labels.engine, ...(roles ? { role: roles[i]! } : {}) }, 1);

  new Gauge({
    name: 'nimsim_kv_cache_blocks',
    help: 'KV cache blocks by tier (gpu, host, disk) and state (in_use, reusable, free; host and disk: used, free).',
    labelNames: ['model_name', 'tier', 'state'],
    registers,
    collect() {
      const s = src.stats().kvCache;
      this.set({ ...model, tier: 'gpu', state: 'in_use' }, s.gpu.inUse);
      this.set({ ...model, tier: 'gpu', state: 'reusable' }, s.gpu.reusable);
      this.set({ ...model, tier: 'gpu', state: 'free' }, s.gpu.free);
      this.set({ ...model, tier: 'host', state: 'used' }, s.host.used);
      this.set({ ...model, tier: 'host', state: 'free' }, s.host.total - s.host.used);
      this.set({ ...model, tier: 'disk', state: 'used' }, s.disk.used);
      this.set({ ...model, tier: 'disk', state: 'free' }, s.disk.total - s.disk.used);
    },
  });

  // A counter that follows a monotonic total kept elsewhere: at each scrape it adds the growth.
  // vLLM series follow each engine's total under its `engine` label; the others the server's.
  const mirror = (name: string, help: string, read: (s: EngineStats) => number, vllm: boolean) => {
    const sources = vllm
      ? engines.map((e) => ({ labels: e.labels, stats: e.stats, seen: 0 }))
      : [{ labels: model, stats: src.stats, seen: 0 }];
    const c = new Counter({
      name,
      help,
      labelNames: vllm ? engineLabels : ['model_name'],
      registers,
      collect() {
        for (const source of sources) {
          const now = read(source.stats());
          if (now > source.seen) this.inc(source.labels, now - source.seen);
          source.seen = Math.max(source.seen, now);
        }
      },
    });
    // Present at 0 from the start, as vLLM's pre-labelled counters are.
    for (const source of sources) c.inc(source.labels, 0);
  };
  mirror(
    'vllm:prefix_cache_queries_total',
    'Prefix cache queries, in terms of number of queried tokens.',
    (s) => s.kvCache.queryTokens,
    true,
  );
  mirror(
    'vllm:prefix_cache_hits_total',
    'Prefix cache hits, in terms of number of cached tokens.',
    (s) => s.kvCache.hitTokens,
    true,
  );
  // Deprecated in vLLM 0.9 but still exported next to the new names; dashboards built on it keep working.
  mirror(
    'vllm:gpu_prefix_cache_queries_total',
    'GPU prefix cache queries, in terms of number of queried tokens. DEPRECATED: Use vllm:prefix_cache_queries instead.',
    (s) => s.kvCache.queryTokens,
    true,
  );
  mirror(
    'vllm:gpu_prefix_cache_hits_total',
    'GPU prefix cache hits, in terms of number of cached tokens. DEPRECATED: Use vllm:prefix_cache_hits instead.',
    (s) => s.kvCache.hitTokens,
    true,
  );
  mirror(
    'nimsim_kv_cache_evictions_total',
    'Reusable GPU KV blocks evicted to make room.',
    (s) => s.kvCache.evictions,
    false,
  );
  mirror(
    'nimsim_kv_cache_host_evictions_total',
    'Host (CPU) tier KV blocks evicted to make room.',
    (s) => s.kvCache.hostEvictions,
    false,
  );
  mirror(
    'nimsim_kv_cache_host_hits_total',
    'Prefix cache hits served from the host (CPU) tier, in tokens.',
    (s) => s.kvCache.hostHitTokens,
    false,
  );
  // The disk tier's, named as the host tier's are (docs/kv-tiers.md#metrics-and-reports).
  mirror(
    'nimsim_kv_cache_disk_evictions_total',
    'Local-disk tier KV blocks evicted to make room.',
    (s) => s.kvCache.diskEvictions,
    false,
  );
  mirror(
    'nimsim_kv_cache_disk_hits_total',
    'Prefix cache hits served from the local-disk tier, in tokens.',
    (s) => s.kvCache.diskHitTokens,
    false,
  );
  mirror('nimsim_engine_steps_total', 'Engine steps executed.', (s) => s.steps, false);
}
