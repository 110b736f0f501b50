/**
 * The HTTP edge every request passes, assembled from the app's dependencies: admission (body
 * limit, admin token, API key, readiness, fault draw), the error mapping (an unexpected 5xx is
 * logged with its stack) and the request pipeline that wraps each route with them, counts the
 * request and writes its access-log line (request-pipeline.ts). createApp (src/app.ts) only adds
 * the routes.
 */
import type { Context } from 'hono';
import type { Logger } from '../../logging.js';
import type { Metrics } from '../../metrics/metrics.js';
import { ApiError, toErrorInfo, toErrorResponse, type ApiCompat } from '../../serving/errors.js';
import type { FaultInjector } from '../faults/faults.js';
import type { ServerInfo } from '../server-info.js';
import { createAdmission } from './admission.js';
import { createRequestPipeline, type RequestPipeline } from './request-pipeline.js';
import type { ErrorResponder } from './routes.js';
import { loggedPath } from './request-log.js';

export interface EdgeDeps {
  readonly compat: ApiCompat;
  readonly info: ServerInfo;
  readonly metrics: Pick<Metrics, 'recordFault' | 'recordHttp'>;
  readonly readiness: { isReady(): boolean; isDraining(): boolean };
  readonly logger: Logger;
  readonly apiKey?: string | undefined;
  readonly adminToken?: string | undefined;
  readonly maxBodyBytes: number;
  /** Bytes of one event stream a client may leave unread before it is aborted (sse.ts). */
  readonly streamBufferBytes: number;
  readonly faults?: FaultInjector | undefined;
  /** Paths behind the API key and readiness. */
  readonly gatedPaths: readonly string[];
  /** Gated paths that also draw faults. */
  readonly faultPaths: readonly string[];
  /** Paths outside /admin/ behind the admin token too. */
  readonly adminPaths?: readonly string[] | undefined;
}

export interface Edge {
  readonly pipeline: RequestPipeline;
  /** The app's onError: any error as an OpenAI-shaped error response, or as `respond` writes it. */
  readonly handleError: (err: Error, c: Context, respond?: ErrorResponder) => Response;
  /** The app's notFound: a 404 through the pipeline (counted as `unmatched`). */
  readonly notFound: (c: Context) => Promise<Response>;
}

export function createEdge(deps: EdgeDeps): Edge {
  const { compat } = deps;
  const handleError = (err: Error, c: Context, respond?: ErrorResponder): Response => {
    if (toErrorInfo(err).status >= 500 && !(err instanceof ApiError)) {
      deps.logger.error('unhandled error', {
        path: loggedPath(c.req.url),
        error: String(err),
        stack: err.stack,
      });
    }
    return respond ? respond(err) : toErrorResponse(err, compat);
  };
  const pipeline = createRequestPipeline({
    admission: createAdmission({
      limits: { maxBodyBytes: deps.maxBodyBytes, streamBufferBytes: deps.streamBufferBytes },
      apiKey: deps.apiKey,
      adminToken: deps.adminToken,
      readiness: deps.readiness,
      gatedPaths: deps.gatedPaths,
      faultPaths: deps.faultPaths,
      adminPaths: deps.adminPaths,
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
  return {
    pipeline,
    handleError,
    notFound: (c) =>
      pipeline.notFound(c, () =>
        toErrorResponse(new ApiError(404, `Route ${c.req.method} ${c.req.path} not found.`), compat),
      ),
  };
}
