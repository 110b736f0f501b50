/**
 * Reads and validates a JSON request body: a non-JSON content type is 415 (NIM 1.x), malformed
 * JSON and schema failures are 400 (never 422: NIM and vLLM map validation errors to 400).
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError, fromZodError } from './errors.js';

export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type.trim())) {
    throw new ApiError(
      415,
      `Unsupported media type: ${type || '(none)'}. It must be application/json`,
      'content-type',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await c.req.text());
  } catch {
    throw new ApiError(400, 'The request body is not valid JSON.', 'body');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw fromZodError(parsed.error);
  return parsed.data;
}
