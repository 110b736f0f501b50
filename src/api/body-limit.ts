/**
 * The request-body size limit (413), without touching `c.req.raw.body`: on @hono/node-server that
 * getter materialises a full web Request (and a stream) for every request, which hono's
 * bodyLimit middleware does and which cost most of a small request's time. A declared
 * Content-Length is checked before reading; a chunked body is read once (Hono caches it for the
 * route) and measured.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.js';

export function limitBodySize(maxBytes: number): MiddlewareHandler {
  const tooLarge = () =>
    new ApiError(413, `Request body is larger than the limit of ${maxBytes} bytes.`, 'body');
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > maxBytes) throw tooLarge();
      return next();
    }
    const text = await c.req.text();
    if (Buffer.byteLength(text) > maxBytes) throw tooLarge();
    return next();
  };
}
