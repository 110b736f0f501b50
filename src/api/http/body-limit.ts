/**
 * The request-body size limit (413) as far as it can be known before reading: a declared
 * Content-Length over the limit is refused at once, on any route, without reading a byte. A
 * chunked body (or one that arrives longer than declared) is counted as it is read
 * (request-body.ts), which only a route that wants the body does, after admission.
 */
import type { Context } from 'hono';
import { bodyTooLarge } from './request-body.js';

/** Throws a 413 for a declared Content-Length over `maxBytes`; never reads the body. */
export function checkDeclaredLength(c: Context, maxBytes: number): void {
  const method = c.req.method;
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return;
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) throw bodyTooLarge(maxBytes);
}
