/**
 * Reads and validates a JSON request body: a non-JSON content type is 415 (NIM 1.x), a body that
 * is not UTF-8, malformed JSON and schema failures are 400 (never 422: NIM and vLLM map
 * validation errors to 400). Invalid UTF-8 is refused rather than replaced with U+FFFD, as vLLM's
 * server does: FastAPI (fastapi/routing.py) answers a body its strict decoding rejects with 400.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError, fromZodError } from '../../serving/errors.js';
import { readRequestBody } from './request-body.js';
import { decodeUtf8InSlices } from './utf8-slices.js';

export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type.trim())) {
    throw new ApiError(
      415,
      `Unsupported media type: ${type || '(none)'}. It must be application/json`,
      'content-type',
    );
  }
  const parsed = schema.safeParse(await readJsonValue(c));
  if (!parsed.success) throw fromZodError(parsed.error);
  return parsed.data;
}

/** The body parsed as JSON, whatever its content type (400 when it is not UTF-8 JSON). */
export async function readJsonValue(c: Context): Promise<unknown> {
  const bytes = await readRequestBody(c);
  let text: string;
  try {
    text = await decodeUtf8InSlices(bytes);
  } catch {
    throw new ApiError(400, 'The request body is not valid UTF-8.', 'body');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'The request body is not valid JSON.', 'body');
  }
}
