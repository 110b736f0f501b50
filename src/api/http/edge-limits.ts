/**
 * The bounds the HTTP edge holds one request to (NIMSIM_MAX_BODY_BYTES, NIMSIM_STREAM_BUFFER_BYTES),
 * attached to each request by the pipeline so the body reader and the event-stream writer, which
 * routes call with the request's Context alone, find them. A private symbol property rather than
 * `c.set()`: Hono's variables map is created on first use, which would cost every request.
 */
import type { Context } from 'hono';
import { SETTINGS } from '../../config/settings.js';

export interface EdgeLimits {
  /** Largest request body read; more is a 413 and the connection closes. */
  readonly maxBodyBytes: number;
  /** Most bytes of one event stream the client may leave unread before the stream is aborted. */
  readonly streamBufferBytes: number;
}

/** The settings' defaults, for a Context the pipeline did not see (a route called directly). */
export const DEFAULT_EDGE_LIMITS: EdgeLimits = {
  maxBodyBytes: Number(SETTINGS.maxBodyBytes.default),
  streamBufferBytes: Number(SETTINGS.streamBufferBytes.default),
};

const LIMITS = Symbol('nimsim.edge-limits');
type WithLimits = Context & { [LIMITS]?: EdgeLimits };

export function attachEdgeLimits(c: Context, limits: EdgeLimits): void {
  (c as WithLimits)[LIMITS] = limits;
}

export function edgeLimitsOf(c: Context): EdgeLimits {
  return (c as WithLimits)[LIMITS] ?? DEFAULT_EDGE_LIMITS;
}
