/**
 * Bearer-token checks: NIMSIM_API_KEY guards the inference routes (401 AuthenticationError),
 * NIMSIM_ADMIN_TOKEN guards /admin/* (which does not exist, 404, without it). Comparison is
 * constant-time over SHA-256 digests so neither the key's content nor its length leaks.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../../serving/errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function bearerMatches(header: string | undefined, secret: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  return tokenMatches(m[1]!.trim(), secret);
}

/** A token given some other way (the live page's `?token=`), compared as a bearer token is. */
export function tokenMatches(given: string | undefined, secret: string): boolean {
  if (given === undefined || given === '') return false;
  return timingSafeEqual(digest(given), digest(secret));
}

/** Throws 401 unless the request carries the API key (no key configured: every request passes). */
export function checkApiKey(authorization: string | undefined, apiKey: string | undefined): void {
  if (apiKey !== undefined && !bearerMatches(authorization, apiKey)) {
    throw new ApiError(401, 'Invalid or missing API key. Send Authorization: Bearer <key>.', null, {
      'www-authenticate': 'Bearer',
    });
  }
}

/** Throws unless the request carries the admin token: 404 when none is configured, else 401. */
export function checkAdminToken(
  authorization: string | undefined,
  path: string,
  token: string | undefined,
): void {
  if (token === undefined) throw new ApiError(404, `Route ${path} not found.`);
  if (!bearerMatches(authorization, token)) {
    throw new ApiError(401, 'Invalid or missing admin token.', null, { 'www-authenticate': 'Bearer' });
  }
}

export function requireAdminToken(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    checkAdminToken(c.req.header('authorization'), c.req.path, token);
    await next();
  };
}
