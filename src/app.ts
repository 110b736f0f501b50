/**
 * createApp(deps): the Hono application — routes wrapped by the request pipeline (admission, error
 * mapping, metrics, access log) and the error and not-found handlers. It never listens
 * (server.ts does), so tests drive it through `app.request()`.
 */
import { Hono, type Context } from 'hono';
import type { FaultInjector } from './api/faults/faults.js';
import { createAdmission } from './api/http/admission.js';
import { createRequestPipeline } from './api/http/request-pipeline.js';
import { loggedPath } from './api/http/request-log.js';
import { createRoutes } from './api/http/routes.js';
import { registerAdminRoutes, type AdminDeps } from './api/routes/admin.js';
import { registerChatRoute } from './api/routes/chat.js';
import { registerCompletionsRoute } from './api/routes/completions.js';
import { registerHealthRoutes, type Readiness } from './api/routes/health.js';
import { registerMetaRoutes } from './api/routes/meta.js';
import { registerMetricsRoutes } from './api/routes/metrics.js';
import { registerModelsRoute } from './api/routes/models.js';
import { registerOpenApiRoutes } from './api/routes/openapi.js';
import { registerTokenizeRoutes } from './api/routes/tokenize.js';
import type { ServerInfo } from './api/server-info.js';
import type { Logger } from './logging.js';
import type { Metrics } from './metrics/metrics.js';
import type { ServingContext } from './serving/context.js';
import { ApiError, toErrorInfo, toErrorResponse, type ApiCompat } from './serving/errors.js';

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
  /** Bytes of one event stream a client may leave unread before it is aborted (api/http/sse.ts). */
  readonly streamBufferBytes: number;
  /** Faults on demand (x-nimsim-fault, NIMSIM_FAULT_RATE) on the generation routes. */
  readonly faults?: FaultInjector;
}

/** The routes faults apply to: the ones that generate (docs/interface.md#faults). */
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
        path: loggedPath(c.req.url),
        error: String(err),
        stack: (err as Error).stack,
      });
    }
    return toErrorResponse(err, compat);
  };
  // Admission (a declared body over the limit; admin token; API key, then readiness — until the
  // simulated model has loaded, and once shutdown begins, nothing is served; the fault draw), error
  // mapping, metrics and the access log wrap each route's handler: one handler per request, no
  // middleware chain (src/api/http/routes.ts says why).
  const pipeline = createRequestPipeline({
    admission: createAdmission({
      limits: { maxBodyBytes: deps.maxBodyBytes, streamBufferBytes: deps.streamBufferBytes },
      apiKey: deps.apiKey,
      adminToken: deps.adminToken,
      readiness: deps.readiness,
      gatedPaths: INFERENCE_ROUTES,
      faultPaths: FAULT_ROUTES,
      faults: deps.faults && {
        injector: deps.faults,
        recordFault: (type) => deps.metrics.recordFault(type),
        defaultModel: deps.info.servedModels[0] ?? deps.info.modelName,
        maxModelLen: deps.info.maxModelLen,
      },
    }),
    handleError,
    recordHttp: (route, method, status) => deps.metrics.recordHttp(route, method, status),
    logger: deps.logger,
  });
  const routes = createRoutes(app, pipeline);

  registerHealthRoutes(routes, deps.readiness, compat);
  registerMetaRoutes(routes, deps.info);
  registerModelsRoute(routes, deps.info);
  registerChatRoute(routes, deps.serving);
  registerCompletionsRoute(routes, deps.serving);
  registerTokenizeRoutes(routes, deps.serving);
  registerMetricsRoutes(routes, deps.metrics);
  registerOpenApiRoutes(routes, deps.info.release);
  registerAdminRoutes(routes, deps.admin);

  app.notFound((c) =>
    pipeline.notFound(c, () =>
      toErrorResponse(new ApiError(404, `Route ${c.req.method} ${c.req.path} not found.`), compat),
    ),
  );
  app.onError(handleError);
  return app;
}
