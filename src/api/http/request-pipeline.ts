/**
 * Every request's path through the app around its route: admission (admission.ts), the route,
 * error mapping, then the HTTP metric and the access-log line. Each route's handler is wrapped
 * once at registration, so a request runs one handler and Hono takes its single-handler path —
 * no middleware chain. A request that matches no route gets the same treatment in the not-found
 * handler (label `unmatched`).
 */
import type { Context } from 'hono';
import type { Logger } from '../../logging.js';
import type { Admission } from './admission.js';
import { RESPONSE_ALREADY_SENT } from './node-adapter.js';
import type { ErrorResponder, RouteHandler } from './routes.js';
import { connectionDropped, DROPPED_STATUS } from '../faults/run-fault.js';
import { createTurnBudget } from './turn-budget.js';
import { deferUntilUsage, loggedPath, usageFields, usageNoted, type LoggedUsage } from './request-log.js';

export interface RequestPipelineDeps {
  readonly admission: Admission;
  /**
   * The app's error mapping (the same function as its onError); `respond` writes the body when the
   * route has its own error shape.
   */
  readonly handleError: (err: Error, c: Context, respond?: ErrorResponder) => Response;
  /** `status` is the response's, or DROPPED_STATUS for a connection a fault dropped unanswered. */
  readonly recordHttp: (route: string, method: string, status: number | typeof DROPPED_STATUS) => void;
  readonly logger: Logger;
}

export interface RequestPipeline {
  /**
   * `handler` of the route `path`, wrapped: admitted, errors mapped (by `errors` when given),
   * counted and logged.
   */
  route(path: string, handler: RouteHandler, errors?: ErrorResponder): (c: Context) => Promise<Response>;
  /** The not-found handler: the declared-length and admin checks apply first, as for any route. */
  notFound(c: Context, respond: () => Response): Promise<Response>;
}

const UNMATCHED = 'unmatched';

export function createRequestPipeline(deps: RequestPipelineDeps): RequestPipeline {
  const { admission, handleError, logger } = deps;
  const turns = createTurnBudget();

  const observe = (c: Context, route: string, res: Response, start: number): void => {
    const status = connectionDropped(c) ? DROPPED_STATUS : res.status;
    deps.recordHttp(route, c.req.method, status);
    if (!logger.enabled('INFO')) return;
    const path = loggedPath(c.req.url);
    const line = (usage: LoggedUsage | undefined) =>
      logger.info(`${c.req.method} ${path} ${status}`, {
        method: c.req.method,
        route,
        path,
        status,
        latency_ms: Math.round((performance.now() - start) * 100) / 100,
        ...usageFields(usage),
      });
    const streaming =
      res === RESPONSE_ALREADY_SENT ||
      (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
    // A stream's tokens are known when it ends: its one line is written then (latency = whole stream).
    if (streaming && usageNoted(c) === undefined) deferUntilUsage(c, line);
    else line(usageNoted(c));
  };

  /** The route's response, or its error as an error response (Hono's onError, per request). */
  const runRoute = async (c: Context, handler: RouteHandler, errors?: ErrorResponder): Promise<Response> => {
    try {
      return await handler(c);
    } catch (err) {
      return mapError(err, c, errors);
    }
  };

  const mapError = (err: unknown, c: Context, errors?: ErrorResponder): Response => {
    if (!(err instanceof Error)) throw err;
    c.error = err;
    return handleError(err, c, errors);
  };

  /** Admission, then the route; a refusal is answered as an error response. */
  const serve = async (
    c: Context,
    path: string,
    handler: RouteHandler,
    errors?: ErrorResponder,
  ): Promise<Response> => {
    try {
      admission.checkBody(c);
      const fault = admission.check(c, path);
      if (fault === undefined) return await handler(c);
      // A fault wraps the route as a middleware would: the route's result (or its mapped error)
      // becomes c.res, which the fault may delay, cut or replace.
      await admission.runFault(
        c,
        async () => {
          c.res = await runRoute(c, handler, errors);
        },
        fault,
      );
      return c.res;
    } catch (err) {
      return mapError(err, c, errors);
    }
  };

  return {
    route(path, handler, errors) {
      return async (c) => {
        const start = performance.now();
        // Past this turn's budget for new requests, wait for a later one (turn-budget.ts).
        const turn = turns.wait();
        if (turn !== undefined) await turn;
        const res = await serve(c, path, handler, errors);
        observe(c, path, res, start);
        return res;
      };
    },
    async notFound(c, respond) {
      const start = performance.now();
      const path = c.req.path;
      const res = await serve(c, path, respond);
      // A gated path asked with another method is still counted under that path.
      observe(c, admission.gates(path) ? path : UNMATCHED, res, start);
      return res;
    },
  };
}
