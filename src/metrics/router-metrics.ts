/**
 * The router's series, when several replicas sit behind the endpoint: requests per replica, and
 * the prompt tokens the router predicted each replica would find cached beside the tokens it did
 * find. The two drift apart when the router's view of the caches is stale (blocks evicted between
 * the decision and the admission) — what a KV-aware router's users want to watch.
 */
import { Counter, type Registry } from 'prom-client';
import type { RouterReplicaCounters } from './metrics.js';

export function registerRouterMetrics(
  registry: Registry,
  read: () => readonly RouterReplicaCounters[],
  model: { model_name: string },
  /** Disaggregated: each replica's role, as a `role` label. */
  roles?: readonly string[],
): void {
  const registers = [registry];
  const replicas = read().length;
  const mirror = (name: string, help: string, pick: (c: RouterReplicaCounters) => number) => {
    const seen = new Array<number>(replicas).fill(0);
    const labels = seen.map((_, i) =>
      roles ? { ...model, replica: String(i), role: roles[i]! } : { ...model, replica: String(i) },
    );
    const counter = new Counter({
      name,
      help,
      labelNames: roles ? ['model_name', 'replica', 'role'] : ['model_name', 'replica'],
      registers,
      collect() {
        read().forEach((c, i) => {
          const now = pick(c);
          if (i < replicas && now > seen[i]!) {
            this.inc(labels[i]!, now - seen[i]!);
            seen[i] = now;
          }
        });
      },
    });
    for (const l of labels) counter.inc(l, 0);
  };
  mirror('nimsim_router_requests_total', 'Requests the router sent to each replica.', (c) => c.requests);
  mirror(
    'nimsim_router_predicted_cached_tokens_total',
    "Prompt tokens the router expected each replica to find in its prefix cache (its index's overlap).",
    (c) => c.predictedCachedTokens,
  );
  mirror(
    'nimsim_router_actual_cached_tokens_total',
    'Prompt tokens each replica found in its prefix cache for the requests the router sent it.',
    (c) => c.actualCachedTokens,
  );
}
