/**
 * The slice of autocannon's programmatic API that load-tests/overhead.ts uses (the package ships
 * no types). Latencies are in ms, durations in s.
 */
declare module 'autocannon' {
  interface AutocannonOptions {
    url: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Requests to send, then stop (duration is ignored). */
    amount?: number;
    method?: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: string;
    /** Per-request timeout in seconds. */
    timeout?: number;
  }

  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
  }

  interface AutocannonResult {
    /** Seconds actually run. */
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    /** Per-request latency in ms. */
    latency: Histogram;
    /** Requests per second sampled each second; `total` is all completed requests. */
    requests: Histogram & { sent: number };
  }

  function autocannon(opts: AutocannonOptions): PromiseLike<AutocannonResult>;
  export default autocannon;
}
