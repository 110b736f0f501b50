/** GET /v1/metrics (NIM) and GET /metrics (vLLM): the same Prometheus text on both. */
import type { Hono } from 'hono';
import type { Metrics } from '../../metrics/metrics.js';

export function registerMetricsRoutes(app: Hono, metrics: Metrics): void {
  const handler = async () =>
    new Response(await metrics.render(), { headers: { 'content-type': metrics.contentType } });
  app.get('/v1/metrics', handler);
  app.get('/metrics', handler);
}
