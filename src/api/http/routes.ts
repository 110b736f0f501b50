/**
 * The app as route modules see it: a typed `Routes` object with `get`, `post` and `patch`, each
 * taking exactly one handler, which is registered wrapped by the request pipeline
 * (request-pipeline.ts). Nothing else of Hono is reachable from a route module, so nothing can be
 * registered around the pipeline (and its API-key gate) by mistake — the compiler refuses it.
 *
 * Why routes have no middleware chain: every request runs exactly one handler, the route's own
 * wrapped by the pipeline, whose steps — admission (body limit, admin token, API key, readiness,
 * fault draw), the route, error mapping, the HTTP metric and the access-log line — are plain calls
 * in one function. Each Hono middleware level costs an async dispatch, a closure and promises per
 * request (which showed in profiles), and the order of the steps is written down once instead of
 * following from the order of `app.use` calls.
 */
import type { Context, Hono } from 'hono';
import type { RequestPipeline } from './request-pipeline.js';

export type RouteHandler = (c: Context) => Response | Promise<Response>;

/** Any failure of a route as its error response (status, headers and body). */
export type ErrorResponder = (err: unknown) => Response;

export interface RouteOptions {
  /**
   * The route's error body, for every failure on its path — admission (401, 503, 413), a fault,
   * a bad body, the serving call — instead of the app's OpenAI-shaped one. /v1/messages answers
   * in Anthropic's shape (serving/anthropic-errors.ts).
   */
  readonly errors?: ErrorResponder;
}

export interface Routes {
  get(path: string, handler: RouteHandler): void;
  post(path: string, handler: RouteHandler, options?: RouteOptions): void;
  patch(path: string, handler: RouteHandler): void;
}

export function createRoutes(app: Hono, pipeline: RequestPipeline): Routes {
  return {
    get: (path, handler) => void app.get(path, pipeline.route(path, handler)),
    post: (path, handler, options) => void app.post(path, pipeline.route(path, handler, options?.errors)),
    patch: (path, handler) => void app.patch(path, pipeline.route(path, handler)),
  };
}
