/**
 * The request-body size limit (413), without touching `c.req.raw.body`: on @hono/node-server that
 * getter materialises a full web Request (and a stream) for every request, which hono's
 * bodyLimit middleware does and which cost most of a small request's time. A declared
 * Content-Length is checked before reading; a chunked body is read once (Hono caches it for the
 * route) and measured.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from './errors.js';

/**
 * The check alone, for the app's one admission middleware: throws a 413 at once for a declared
 * length over `maxBytes`, returns a promise only when a chunked body must be read to be measured.
 */
export function createBodyCheck(maxBytes: number): (c: Context) => Promise<void> | undefined {
  const tooLarge = () =>
    new ApiError(413, `Request body is larger than the limit of ${maxBytes} bytes.`, 'body');
  const measure = async (c: Context): Promise<void> => {
    const text = await c.req.text();
    if (Buffer.byteLength(text) > maxBytes) throw tooLarge();
  };
  return (c) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return undefined;
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > maxBytes) throw tooLarge();
      return undefined;
    }
    return measure(c);
  };
}

/** The same check as a middleware of its own. */
export function limitBodySize(maxBytes: number): MiddlewareHandler {
  const check = createBodyCheck(maxBytes);
  return async (c, next) => {
    await check(c);
    return next();
  };
}
