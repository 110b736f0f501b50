/**
 * The one place that maps failures to HTTP: every error body and status comes from
 * `toErrorResponse` (Hono's onError, the validation hook and the stream writer all call it).
 * Shapes follow docs/nim-api.md#errors: `code` is the HTTP status as an integer, `type` one of the openai
 * client's error class names; NIM 2.x nests the body under `error`, NIM 1.x is flat.
 */
import type { ZodError } from 'zod';
import { EngineError } from '../engine/errors.js';

export type ErrorType =
  /** vLLM's Responses API names its own errors so (serving.py `_make_not_found_error`). */
  | 'invalid_request_error'
  /** vLLM's LoRA adapter routes name a refused load or unload so (serving_models.py). */
  | 'InvalidUserInput'
  | 'BadRequestError'
  | 'AuthenticationError'
  | 'NotFoundError'
  | 'RateLimitError'
  | 'InternalServerError'
  | 'ServiceUnavailableError';

const TYPE_BY_STATUS: Record<number, ErrorType> = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  404: 'NotFoundError',
  413: 'BadRequestError',
  415: 'BadRequestError',
  429: 'RateLimitError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
    readonly type: ErrorType = TYPE_BY_STATUS[status] ?? 'InternalServerError',
  ) {
    super(message);
  }
}

export interface ErrorInfo {
  readonly message: string;
  readonly type: ErrorType;
  readonly param: string | null;
  readonly code: number;
}

export type ApiCompat = 1 | 2;

export function errorBody(info: ErrorInfo, compat: ApiCompat): Record<string, unknown> {
  return compat === 1 ? { object: 'error', ...info } : { error: info };
}

/** Maps any thrown value to a status, headers and error info. */
export function toErrorInfo(err: unknown): {
  status: number;
  info: ErrorInfo;
  headers: Record<string, string>;
} {
  const e = toApiError(err);
  return {
    status: e.status,
    headers: e.headers,
    info: { message: e.message, type: e.type, param: e.param, code: e.status },
  };
}

export function toErrorResponse(err: unknown, compat: ApiCompat): Response {
  const { status, info, headers } = toErrorInfo(err);
  return new Response(JSON.stringify(errorBody(info, compat)), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof EngineError) {
    switch (err.kind) {
      case 'queue_full':
        return new ApiError(429, err.message, null, { 'retry-after': String(err.retryAfterS ?? 1) });
      case 'draining':
        return new ApiError(503, err.message);
      case 'kv_capacity':
        return new ApiError(400, err.message, 'messages');
    }
  }
  return new ApiError(500, 'Internal server error.');
}

/** A zod failure as vLLM reports a pydantic one: 400, the first issue's path as `param`. */
export function fromZodError(err: ZodError): ApiError {
  const issue = err.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const message = err.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`)
    .join('; ');
  return new ApiError(400, message || 'Invalid request body.', path || null);
}
