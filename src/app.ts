/**
 * createApp(deps): the Hono application — middleware, routes and error mapping. It never listens
 * (server.ts does), so tests drive it through `app.request()`.
 */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type Context } from 'hono';
import { createAdmission } from './api/admission.js';
import { requireAdminToken } from './api/auth.js';
import { ApiError, toErrorInfo, toErrorResponse, type ApiCompat } from './api/errors.js';
import type { FaultInjector } from './api/faults.js';
import { registerAdminRoutes, type AdminDeps } from './api/routes/admin.js';
import { registerChatRoute } from './api/routes/chat.js';
import { registerCompletionsRoute } from './api/routes/completions.js';
import { registerHealthRoutes, type Readiness } from './api/routes/health.js';
import { registerMetaRoutes } from './api/routes/meta.js';
import { registerMetricsRoutes } from './api/routes/metrics.js';
import { registerModelsRoute } from './api/routes/models.js';
import { registerOpenApiRoutes } from './api/routes/openapi.js';
import { registerTokenizeRoutes } from './api/routes/tokenize.js';
import { deferUntilUsage, usageFields, usageNoted, type LoggedUsage } from './api/request-log.js';
import type { ServerInfo } from './api/server-info.js';
import type { ServingContext } from './api/serving.js';
import type { Logger } from './logging.js';
import type { Metrics } from './metrics/metrics.js';

export interface AppDeps {
  readonly serving: ServingContext;
  readonly info: ServerInfo;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly admin: AdminDeps;
  readonly logger: Logger;
  readonly apiKey?: string | undefined;
  readonly adminToken?: string | undefined;
  readonly maxBodyBytes: number;
  /** Faults on demand (x-nimsim-fault, NIMSIM_FAULT_RATE) on the generation routes. */
  readonly faults?: FaultInjector;
}

/** The routes faults apply to: the ones that generate (CONTRACT.md: "inference requests"). */
const FAULT_ROUTES = ['/v1/chat/completions', '/v1/completions'];

const INFERENCE_ROUTES = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/models',
  '/tokenize',
  '/detokenize',
];

export function createApp(deps: AppDeps): Hono {
  const compat: ApiCompat = deps.serving.compat;
  const app = new Hono();

  const handleError = (err: Error, c: Context): Response => {
    if (toErrorInfo(err).status >= 500 && !(err instanceof ApiError)) {
      deps.logger.error('unhandled error', {
        path: c.req.path,
        error: String(err),
        stack: (err as Error).stack,
      });
    }
    return toErrorResponse(err, compat);
  };
  // The body limit, the gate (API key, then readiness: until the simulated model has loaded, and
  // once shutdown begins, nothing is served) and the fault draw run inside this one middleware:
  // a middleware level per check cost a closure and promises per request.
  const admission = createAdmission({
    maxBodyBytes: deps.maxBodyBytes,
    apiKey: deps.apiKey,
    readiness: deps.readiness,
    gatedPaths: INFERENCE_ROUTES,
    faultPaths: FAULT_ROUTES,
    faults: deps.faults && {
      injector: deps.faults,
      recordFault: (type) => deps.metrics.recordFault(type),
      defaultModel: deps.info.servedModels[0] ?? deps.info.modelName,
      maxModelLen: deps.info.maxModelLen,
    },
  });

  app.use('*', async (c, next) => {
    const start = performance.now();
    try {
      await admission.admit(c, next);
    } catch (err) {
      // A refusal (or a fault's error) thrown here is answered as Hono would answer it, and still
      // counted and logged below. Errors of the route itself never reach here (Hono maps them).
      if (!(err instanceof Error)) throw err;
      c.error = err;
      c.res = handleError(err, c);
    }
    // Read once: Hono's routePath getter maps the whole match list on every read.
    const routePath = c.req.routePath;
    const matched = routePath === '/*' || !routePath ? undefined : routePath;
    // A gated request refused (or dropped by a fault) before its route ran is still that route's.
    const route = matched ?? (admission.gates(c.req.path) ? c.req.path : 'unmatched');
    deps.metrics.recordHttp(route, c.req.method, c.res.status);
    if (!deps.logger.enabled('INFO')) return;
    const line = (usage: LoggedUsage | undefined) =>
      deps.logger.info(`${c.req.method} ${c.req.path} ${c.res.status}`, {
        method: c.req.method,
        route,
        path: c.req.path,
        status: c.res.status,
        latency_ms: Math.round((performance.now() - start) * 100) / 100,
        ...usageFields(usage),
      });
    const streaming =
      c.res === RESPONSE_ALREADY_SENT ||
      (c.res.headers.get('content-type') ?? '').startsWith('text/event-stream');
    // A stream's tokens are known when it ends: its one line is written then (latency = whole stream).
    if (streaming && usageNoted(c) === undefined) deferUntilUsage(c, line);
    else line(usageNoted(c));
  });

  app.use('/admin/*', requireAdminToken(deps.adminToken));

  registerHealthRoutes(app, deps.readiness, compat);
  registerMetaRoutes(app, deps.info);
  registerModelsRoute(app, deps.info);
  registerChatRoute(app, deps.serving);
  registerCompletionsRoute(app, deps.serving);
  registerTokenizeRoutes(app, deps.serving);
  registerMetricsRoutes(app, deps.metrics);
  registerOpenApiRoutes(app, deps.info.release);
  registerAdminRoutes(app, deps.admin);

  app.notFound((c) =>
    toErrorResponse(new ApiError(404, `Route ${c.req.method} ${c.req.path} not found.`), compat),
  );
  app.onError(handleError);
  return app;
}
