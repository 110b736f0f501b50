/**
 * Errors of the Anthropic Messages route in Anthropic's shape (docs/messages.md#errors):
 * `{"type":"error","error":{"type":"invalid_request_error","message":"…"}}` with the HTTP status
 * the rest of nimsim would answer, for every failure on the route — admission, faults, a bad body,
 * serving — and as the `error` event of a stream that fails after it began.
 *
 * The envelope is vLLM's AnthropicErrorResponse (vllm/entrypoints/anthropic/protocol.py). Its
 * `error.type` is Anthropic's documented one for the status
 * (https://docs.anthropic.com/en/api/errors): vLLM itself puts its OpenAI class name there
 * (`NotFoundError`) and answers request-validation failures in OpenAI's envelope
 * (https://github.com/vllm-project/vllm/issues/57997); both are bugs the pending fixes resolve to
 * these types (https://github.com/vllm-project/vllm/pull/58023,
 * https://github.com/vllm-project/vllm/pull/43380). The official client picks its error class
 * from the status, so either spelling raises the same class there.
 */
import { toErrorInfo } from './errors.js';

/** Anthropic's error types (the `@anthropic-ai/sdk` ErrorType values nimsim can answer, and 413's). */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
}

/** By status, as Anthropic's error page lists them; 503 (loading, draining) is its overload. */
const TYPE_BY_STATUS: Readonly<Record<number, AnthropicErrorType>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'overloaded_error',
  529: 'overloaded_error',
};

export function anthropicErrorType(status: number): AnthropicErrorType {
  return TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** Any thrown value as Anthropic's error body, with the status and headers nimsim gives it. */
export function toAnthropicError(err: unknown): {
  status: number;
  headers: Record<string, string>;
  body: AnthropicErrorBody;
} {
  const { status, info, headers } = toErrorInfo(err);
  return {
    status,
    headers,
    body: { type: 'error', error: { type: anthropicErrorType(status), message: info.message } },
  };
}

/** The route's error responder (api/http/routes.ts `RouteOptions.errors`). */
export function toAnthropicErrorResponse(err: unknown): Response {
  const { status, headers, body } = toAnthropicError(err);
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
