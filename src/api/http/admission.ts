/**
 * What every request passes before its route: a declared body size over the limit (413, any
 * route, nothing read); under /admin/ (and on vLLM's LoRA load and unload routes) the admin token; on the inference routes the API key (401)
 * and readiness (503 while loading or draining); on the generation routes the fault draw. No body
 * is read here: a route reads its own (request-body.ts), so an unauthenticated or unrouted
 * request never has its body read at all. Plain functions called by the request
 * pipeline (request-pipeline.ts) rather than a middleware per check: each Hono middleware level
 * costs an async dispatch, a closure and promises per request, which showed in profiles.
 */
import type { Context, Next } from 'hono';
import { checkAdminToken, checkApiKey } from './auth.js';
import { checkDeclaredLength } from './body-limit.js';
import { attachEdgeLimits, type EdgeLimits } from './edge-limits.js';
import { ApiError } from '../../serving/errors.js';
import { runFault, type FaultMiddlewareDeps } from '../faults/run-fault.js';
import { FAULT_HEADER, type FaultType } from '../faults/faults.js';

export interface AdmissionDeps {
  /** The body limit and the stream buffer bound, attached to every request admitted. */
  readonly limits: EdgeLimits;
  readonly apiKey?: string | undefined;
  readonly adminToken?: string | undefined;
  readonly readiness: { isReady(): boolean; isDraining(): boolean };
  /** Paths behind the API key and readiness (exact match). */
  readonly gatedPaths: readonly string[];
  /** Gated paths that also draw faults (docs/interface.md#faults: the inference requests that generate). */
  readonly faultPaths: readonly string[];
  /** Paths outside /admin/ behind the admin token too (vLLM's LoRA load and unload routes). */
  readonly adminPaths?: readonly string[] | undefined;
  readonly faults?: FaultMiddlewareDeps | undefined;
}

export interface Admission {
  /** Attaches the request's limits; throws 413 for a declared Content-Length over the limit. */
  checkBody(c: Context): void;
  /**
   * The checks of `path` after the body limit, in order: admin token (under /admin/), API key and
   * readiness (gated paths), then the fault draw (generation paths). Throws the refusal; returns
   * the fault to inject, if any.
   */
  check(c: Context, path: string): FaultType | undefined;
  /** Serves a request with the fault `type` around `next` (../faults/run-fault.ts). */
  runFault(c: Context, next: Next, type: FaultType): Promise<void>;
  /** Whether `path` is behind the API key (an inference route). */
  gates(path: string): boolean;
}

const GATED = 1;
const GATED_WITH_FAULTS = 2;
const ADMIN = 3;
const ADMIN_PREFIX = '/admin/';

export function createAdmission(deps: AdmissionDeps): Admission {
  const kinds = new Map<string, number>();
  for (const path of deps.gatedPaths) kinds.set(path, GATED);
  if (deps.faults) for (const path of deps.faultPaths) kinds.set(path, GATED_WITH_FAULTS);
  for (const path of deps.adminPaths ?? []) kinds.set(path, ADMIN);
  const faults = deps.faults;

  return {
    checkBody(c) {
      attachEdgeLimits(c, deps.limits);
      checkDeclaredLength(c, deps.limits.maxBodyBytes);
    },
    check(c, path) {
      const kind = kinds.get(path);
      if (kind === undefined || kind === ADMIN) {
        if (kind === ADMIN || path.startsWith(ADMIN_PREFIX)) {
          checkAdminToken(c.req.header('authorization'), c.req.path, deps.adminToken);
        }
        return undefined;
      }
      checkApiKey(c.req.header('authorization'), deps.apiKey);
      if (deps.readiness.isDraining()) throw new ApiError(503, 'The server is shutting down.');
      if (!deps.readiness.isReady()) {
        throw new ApiError(503, 'Service is starting: the model is still loading.');
      }
      if (kind === GATED_WITH_FAULTS && faults) return faults.injector.choose(c.req.header(FAULT_HEADER));
      return undefined;
    },
    runFault(c, next, type) {
      if (!faults) throw new Error('runFault without fault injection configured');
      return runFault(faults, c, next, type);
    },
    gates: (path) => {
      const kind = kinds.get(path);
      return kind !== undefined && kind !== ADMIN;
    },
  };
}
