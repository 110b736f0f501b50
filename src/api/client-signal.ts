/**
 * "The client went away", as cheaply as the adapter allows. Reading `c.req.raw.signal` on
 * @hono/node-server creates an AbortController (and listeners) per request, which showed in
 * profiles; under that adapter the Node response's own `close` event says the same thing. In
 * `app.request()` tests there is no Node response and the web signal is used.
 */
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';

/** The part of AbortSignal the generation runner uses. */
export interface ClientSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export function clientSignalOf(c: Context): ClientSignal {
  const out = (c.env as { outgoing?: unknown } | undefined)?.outgoing as ServerResponse | undefined;
  if (!out || typeof out.once !== 'function') return c.req.raw.signal;
  let aborted = false;
  const listeners = new Set<() => void>();
  out.once('close', () => {
    // A response that was fully written also closes; only an early close is a disconnect.
    if (out.writableFinished) return;
    aborted = true;
    for (const l of listeners) l();
    listeners.clear();
  });
  return {
    get aborted() {
      return aborted;
    },
    addEventListener(_type, listener) {
      listeners.add(listener);
    },
    removeEventListener(_type, listener) {
      listeners.delete(listener);
    },
  };
}
