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
import { registerSnapshotMetrics } from './snapshot-metrics.js';

export interface MetricsOptions {
  /** The label of engine-wide gauges: the first served model name (vLLM does the same). */
  readonly primaryModel: string;
  /** Every served model name; request series for each exist at 0 from the start. */
  readonly servedModels?: readonly string[];
  readonly maxModelLen: number;
  readonly maxNumSeqs: number;
  /** The engine's snapshot, read at scrape time (KV cache counters included). */
  readonly stats: () => EngineStats;
  /** Labels of vllm:cache_config_info. */
  readonly cacheConfig: Record<string, string>;
  /** Node process metrics (off in unit tests that build many registries). */
  readonly processMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  readonly observer: EngineObserver;
  /** `status`: the HTTP status, or `dropped` for a connection dropped unanswered (a fault). */
  recordHttp(route: string, method: string, status: number | 'dropped'): void;
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

  registerSnapshotMetrics(registry, { stats: opts.stats }, { model, vmodel }, opts.cacheConfig);
  const observer = registerRequestMetrics(registry, {
    maxModelLen: opts.maxModelLen,
    models: opts.servedModels ?? [opts.primaryModel],
    primaryModel: opts.primaryModel,
  });

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
    observer,
    contentType: registry.contentType,
    recordHttp,
    recordFault: (type) => faults.inc({ ...model, type }),
    render: () => renderExposition(registry),
  };
}
