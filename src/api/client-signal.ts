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
  return new ResponseCloseSignal(out);
}

/**
 * A class rather than closures and a Set: one small object per request. The response closes once,
 * so a plain `on('close')` does (no `once` wrapper); listeners are kept in an array created on
 * first use.
 */
class ResponseCloseSignal implements ClientSignal {
  aborted = false;
  private listeners: (() => void)[] | undefined;

  constructor(out: ServerResponse) {
    out.on('close', () => {
      // A response that was fully written also closes; only an early close is a disconnect.
      if (out.writableFinished || this.aborted) return;
      this.aborted = true;
      const listeners = this.listeners;
      this.listeners = undefined;
      if (listeners) for (const l of listeners) l();
    });
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    if (listeners === undefined) return;
    const at = listeners.indexOf(listener);
    if (at !== -1) listeners.splice(at, 1);
  }
}
