/**
 * NIM's health routes (docs/nim-api.md#health): live answers 200 from the first moment (2.x: nginx answers
 * it before the model loads); ready is 503 ServiceUnavailableError until the simulated model load
 * (NIMSIM_READY_DELAY_MS) has passed, and again once shutdown begins.
 */
import type { Routes } from '../http/routes.js';
import { ApiError, toErrorResponse, type ApiCompat } from '../../serving/errors.js';

export interface Readiness {
  isReady(): boolean;
  isDraining(): boolean;
}

export function registerHealthRoutes(routes: Routes, readiness: Readiness, compat: ApiCompat): void {
  routes.get('/v1/health/live', (c) =>
    c.json({ object: 'health.response', message: 'Service is live.', status: 'live' }),
  );
  routes.get('/v1/health/ready', (c) => {
    if (readiness.isDraining()) return toErrorResponse(new ApiError(503, 'Service is shutting down'), compat);
    if (!readiness.isReady()) return toErrorResponse(new ApiError(503, 'Service is starting'), compat);
    c.header('System-Health', 'True');
    return c.json({ object: 'health.response', message: 'Service is ready.', status: 'ready' });
  });
}
