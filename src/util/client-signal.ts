/**
 * "The client went away", as the serving layer and the waits see it: the part of AbortSignal they
 * use. The HTTP adapter supplies it (src/api/http/node-adapter.ts: the Node response's `close`
 * event, or the web request's signal in `app.request()` tests).
 */
export interface ClientSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
