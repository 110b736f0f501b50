/**
 * Waits out an injected wall delay — a rule's latency_ms, a fault's hold, stall or slow first
 * token — and stops waiting as soon as the client goes away, so a disconnected request neither
 * keeps its timer nor holds a shutdown open. Every wall-clock wait outside the engine goes through
 * this one function (the engine waits on its own injected clock).
 */
import type { ClientSignal } from './client-signal.js';

/** Resolves after `ms` of wall time, or at once when `signal` aborts (or already has). */
export function sleepUnlessGone(ms: number, signal?: ClientSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
