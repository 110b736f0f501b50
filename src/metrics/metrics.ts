/**
 * The Prometheus registry: NIM 1.x's unprefixed names, vLLM's `vllm:` names and nimsim's own
 * (docs/interface.md#metrics), fed by engine events (request-metrics.ts) and by snapshots read at
 * scrape time (snapshot-metrics.ts), plus HTTP request counts and Node process metrics. The engine
 * never calls prom-client; this module observes it.
 */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { FAULT_TYPE_NAMES } from '../config/settings.js';
import type { EngineObserver } from '../engine/engine.js';
import type { EngineStats } from '../engine/types.js';
import { renderExposition } from './exposition.js';
import { FastCounter, type CounterChild } from './fast-metrics.js';
import { registerRequestMetrics } from './request-metrics.js';
import { registerRouterMetrics } from './router-metrics.js';
import { registerDisaggMetrics, type DisaggMetricsSource } from './disagg-metrics.js';
import { registerSnapshotMetrics } from './snapshot-metrics.js';
import { registerLoraMetrics } from './lora-metrics.js';

export interface MetricsOptions {
  /** The label of engine-wide gauges: the first served model name (vLLM does the same). */
  readonly primaryModel: string;
  /** Every served model name; request series for each exist at 0 from the start. */
  readonly servedModels?: readonly string[];
  readonly maxModelLen: number;
  readonly maxNumSeqs: number;
  /** The server's snapshot, read at scrape time (KV cache counters included; sums over replicas). */
  readonly stats: () => EngineStats;
  /**
   * Each replica's own snapshot, for the `vllm:` series labelled `engine="<index>"`. Absent: one
   * engine, whose snapshot is `stats`.
   */
  readonly engineStats?: readonly (() => EngineStats)[];
  /** The router's running totals per replica (several replicas only): the `nimsim_router_*` series. */
  readonly router?: () => readonly RouterReplicaCounters[];
  /**
   * Disaggregated serving: each engine's role, a `role` label on its per-engine series (and the
   * router's per-replica ones), and the fleet's transfers and queues. Absent otherwise.
   */
  readonly disagg?: { readonly roles: readonly string[]; readonly source: DisaggMetricsSource } | undefined;
  /** Labels of vllm:cache_config_info. */
  readonly cacheConfig: Record<string, string>;
  /** Node process metrics (off in unit tests that build many registries). */
  readonly processMetrics?: boolean;
}

/** What the router has done for one replica since the start: running totals. */
export interface RouterReplicaCounters {
  /** Requests sent to the replica. */
  readonly requests: number;
  /** Prompt tokens the router expected the replica to find cached (its prefix index's overlap). */
  readonly predictedCachedTokens: number;
  /** Prompt tokens the replica found cached when it admitted those requests. */
  readonly actualCachedTokens: number;
}

export interface Metrics {
  readonly registry: Registry;
  /** The observer of engine 0 (the only one, unless there are replicas). */
  readonly observer: EngineObserver;
  /** The observer of engine (replica) `index`: its events feed the series labelled `engine="<index>"`. */
  observerFor(index: number): EngineObserver;
  /** `status`: the HTTP status, or `dropped` for a connection dropped unanswered (a fault). */
  recordHttp(route: string, method: string, status: number | 'dropped'): void;
  recordFault(type: string): void;
  render(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const model = { model_name: opts.primaryModel };
  const engineStats = opts.engineStats ?? [opts.stats];

  const roles = opts.disagg?.roles;
  registerSnapshotMetrics(registry, { stats: opts.stats, engineStats, roles }, { model }, opts.cacheConfig);
  const requests = registerRequestMetrics(registry, {
    maxModelLen: opts.maxModelLen,
    models: opts.servedModels ?? [opts.primaryModel],
    primaryModel: opts.primaryModel,
    engines: engineStats.length,
    roles,
  });
  // With LoRA enabled (the snapshot reports adapters): vllm:lora_requests_info.
  registerLoraMetrics(registry, opts.stats);
  if (opts.router) registerRouterMetrics(registry, opts.router, model, roles);
  if (opts.disagg) registerDisaggMetrics(registry, opts.disagg.source, model);

  const faults = new Counter({
    name: 'nimsim_injected_faults_total',
    help: 'Errors injected on purpose, by type.',
    labelNames: ['model_name', 'type'],
    registers,
  });
  // Every fault type is present at 0, so a dashboard's rate() has data before the first fault.
  for (const type of FAULT_TYPE_NAMES) faults.inc({ ...model, type }, 0);
  // Counted on every request: a FastCounter child per (route, method, status), found by a cheap key.
  const http = new FastCounter(
    'nimsim_http_requests_total',
    'HTTP requests by route pattern, method and status.',
    ['route', 'method', 'status'],
    registers,
  );
  const httpChildren = new Map<string, CounterChild>();
  const recordHttp = (route: string, method: string, status: number | 'dropped') => {
    const key = `${route} ${method} ${status}`;
    let child = httpChildren.get(key);
    if (!child) {
      child = http.labels({ route, method, status: String(status) });
      httpChildren.set(key, child);
    }
    child.inc();
  };

  return {
    registry,
    observer: requests.observerFor(0),
    observerFor: (index) => requests.observerFor(index),
    contentType: registry.contentType,
    recordHttp,
    recordFault: (type) => faults.inc({ ...model, type }),
    render: () => renderExposition(registry),
  };
}
