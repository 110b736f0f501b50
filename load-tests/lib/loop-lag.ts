/**
 * The load generator's own event-loop delay: when it grows, chunk timestamps are taken late and
 * the server looks slower than it is. Every report carries it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopLag {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const RESOLUTION_MS = 10;

/**
 * Starts sampling; `stop()` ends it and returns the delay percentiles. Node's histogram records
 * the time between the sampling timer's firings (in ns), i.e. the 10 ms interval plus the delay,
 * so the interval is subtracted here: 0 means the loop was never late.
 */
export function startLoopLagMonitor(): { stop(): LoopLag } {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const late = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  return {
    stop() {
      h.disable();
      return { p50Ms: late(h.percentile(50)), p99Ms: late(h.percentile(99)), maxMs: late(h.max) };
    },
  };
}
