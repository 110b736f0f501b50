/**
 * What every request passes before its route: the body-size limit (413, any route), then on the
 * inference routes the API key (401) and readiness (503 while loading or draining), then on the
 * generation routes the fault draw. One function called by the app's one `*` middleware rather
 * than a middleware per check: each Hono middleware level costs an async dispatch, a closure and
 * promises per request, which showed in profiles of small requests.
 */
import type { Context, Next } from 'hono';
import { checkApiKey } from './auth.js';
import { createBodyCheck } from './body-limit.js';
import { ApiError } from './errors.js';
import { runFault, type FaultMiddlewareDeps } from './fault-middleware.js';
import { FAULT_HEADER } from './faults.js';

export interface AdmissionDeps {
  readonly maxBodyBytes: number;
  readonly apiKey?: string | undefined;
  readonly readiness: { isReady(): boolean; isDraining(): boolean };
  /** Paths behind the API key and readiness (exact match, as `app.use(path)` matches). */
  readonly gatedPaths: readonly string[];
  /** Gated paths that also draw faults (CONTRACT.md: "inference requests"). */
  readonly faultPaths: readonly string[];
  readonly faults?: FaultMiddlewareDeps | undefined;
}

export interface Admission {
  /** Checks, then `next()` (or a fault around it); throws ApiError for a refused request. */
  admit(c: Context, next: Next): Promise<void>;
  /** Whether `path` is gated: its route label when the request ends before the route runs. */
  gates(path: string): boolean;
}

const GATED = 1;
const GATED_WITH_FAULTS = 2;

export function createAdmission(deps: AdmissionDeps): Admission {
  const checkBody = createBodyCheck(deps.maxBodyBytes);
  const kinds = new Map<string, number>();
  for (const path of deps.gatedPaths) kinds.set(path, GATED);
  if (deps.faults) for (const path of deps.faultPaths) kinds.set(path, GATED_WITH_FAULTS);

  const gateThenNext = (c: Context, next: Next): Promise<void> => {
    const kind = kinds.get(c.req.path);
    if (kind === undefined) return next();
    checkApiKey(c.req.header('authorization'), deps.apiKey);
    if (deps.readiness.isDraining()) throw new ApiError(503, 'The server is shutting down.');
    if (!deps.readiness.isReady())
      throw new ApiError(503, 'Service is starting: the model is still loading.');
    if (kind === GATED_WITH_FAULTS && deps.faults) {
      const type = deps.faults.injector.choose(c.req.header(FAULT_HEADER));
      if (type !== undefined) return runFault(deps.faults, c, next, type);
    }
    return next();
  };

  return {
    admit(c, next) {
      const reading = checkBody(c);
      return reading === undefined ? gateThenNext(c, next) : reading.then(() => gateThenNext(c, next));
    },
    gates: (path) => kinds.has(path),
  };
}
