/**
 * A closed-loop concurrency far beyond what the server can ever hold. The engine holds at most
 * --max-num-seqs running and --max-waiting queued requests per replica; a session beyond that is
 * refused (429) and retries a simulated second later, again and again, as a client honouring
 * Retry-After does. A few times the capacity is a fair test of a server swamped with clients;
 * far beyond it, nearly every session spends the run being refused, the report says little more
 * than that, and the run's cost grows with sessions × simulated seconds (`--concurrency 100000
 * --requests 100000` at 10 + 10 tokens: 8 million refusals). So such a concurrency is refused,
 * with what the server can hold.
 *
 * Only sessions that can start count (no more than --requests), and only when every session
 * always has a request out: with --turns above 1 and a think time, sessions spend time thinking
 * between turns, and many more users than the server holds is what a chat workload looks like.
 */
import type { Config } from '../config/config.js';
import type { WorkloadOptions } from './workload.js';

/** How many times the server's capacity a closed loop may keep in flight. */
export const MAX_CONCURRENCY_OVER_CAPACITY = 10;

/** Requests the server can hold at once: running plus queued, on every replica. */
export function serverCapacity(config: Pick<Config, 'maxNumSeqs' | 'maxWaiting' | 'replicas'>): number {
  return config.replicas * (config.maxNumSeqs + config.maxWaiting);
}

/** Why `workload`'s concurrency is refused, or undefined when it may run. */
export function concurrencyProblem(
  config: Pick<Config, 'maxNumSeqs' | 'maxWaiting' | 'replicas'>,
  workload: Pick<WorkloadOptions, 'concurrency' | 'requests' | 'turns' | 'thinkTimeMs' | 'requestRate'>,
): string | undefined {
  if (workload.requestRate !== undefined) return undefined;
  if (workload.turns > 1 && workload.thinkTimeMs > 0) return undefined;
  const sessions = Math.min(workload.concurrency, workload.requests);
  const capacity = serverCapacity(config);
  const limit = MAX_CONCURRENCY_OVER_CAPACITY * capacity;
  if (sessions <= limit) return undefined;
  const holds =
    config.replicas > 1 ? '(--max-num-seqs + --max-waiting) × --replicas' : '--max-num-seqs + --max-waiting';
  return (
    `over ${MAX_CONCURRENCY_OVER_CAPACITY}× the ${capacity} requests the server holds at once (${holds}): ` +
    `most sessions would only be refused (429); at most ${limit}`
  );
}
