/**
 * Load modes: a closed loop at fixed concurrency and an open loop of scheduled arrivals (Poisson
 * for a fixed request rate, or a trace's timestamps). Both are bounded by a request count and a
 * wall-clock deadline: once the deadline passes no new request starts, and the ones in flight are
 * bounded by the client's own timeout.
 */
import { performance } from 'node:perf_hooks';
import type { RequestRecord } from './metrics.js';
import type { Progress } from './progress.js';

/** Resolves after `ms` (immediately for ms ≤ 0). */
export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

function note(records: readonly RequestRecord[]): string {
  const failed = records.filter((r) => r.error !== undefined || !r.done).length;
  return failed > 0 ? `${failed} failed` : '';
}

/**
 * Closed loop: `concurrency` workers each send request i as soon as their previous one finished,
 * until `count` were started or `deadlineMs` (performance.now() time) passed.
 */
export async function runClosedLoop(opts: {
  count: number;
  concurrency: number;
  deadlineMs: number;
  send: (i: number) => Promise<RequestRecord>;
  progress?: Progress;
}): Promise<RequestRecord[]> {
  const records: RequestRecord[] = [];
  let next = 0;
  const worker = async () => {
    while (next < opts.count && performance.now() < opts.deadlineMs) {
      const i = next++;
      records.push(await opts.send(i));
      opts.progress?.update(records.length, note(records));
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.count) }, worker));
  return records;
}

/**
 * Open loop: request i is sent at `startMs + offsetsMs[i]` whatever the state of the others (the
 * server's queueing shows up in TTFT), until the deadline.
 */
export async function runOpenLoop(opts: {
  offsetsMs: readonly number[];
  deadlineMs: number;
  send: (i: number) => Promise<RequestRecord>;
  progress?: Progress;
}): Promise<RequestRecord[]> {
  const records: RequestRecord[] = [];
  const inFlight: Promise<void>[] = [];
  const startMs = performance.now();
  for (let i = 0; i < opts.offsetsMs.length; i++) {
    const dueMs = startMs + opts.offsetsMs[i]!;
    if (dueMs >= opts.deadlineMs) break;
    await sleep(dueMs - performance.now());
    inFlight.push(
      opts.send(i).then((r) => {
        records.push(r);
        opts.progress?.update(records.length, note(records));
      }),
    );
  }
  await Promise.all(inFlight);
  return records;
}
