/** GET /v1/metrics (NIM) and GET /metrics (vLLM): the same Prometheus text on both. */
import type { Routes } from '../http/routes.js';
import type { Metrics } from '../../metrics/metrics.js';

export function registerMetricsRoutes(routes: Routes, metrics: Metrics): void {
  const handler = async () =>
    new Response(await metrics.render(), { headers: { 'content-type': metrics.contentType } });
  routes.get('/v1/metrics', handler);
  routes.get('/metrics', handler);
}
