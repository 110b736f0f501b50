/**
 * Replays calibration tables on worker threads, one per core. Each table's simulations are seeded
 * and share nothing with another table's, so a table gives the same comparisons in a worker as in
 * the main thread: the pool only shortens the wall time of `npm run calibrate` (CI runs it).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Efficiency } from '../src/catalog/efficiency.js';
import type { Comparison } from './evaluate.js';

/** One table replayed with some efficiency constants replaced (none: the catalog's). */
export interface TableTask {
  readonly tableId: string;
  readonly overrides: Partial<Efficiency>;
  readonly quick: boolean;
}

export interface TaskResult {
  readonly index: number;
  readonly comparisons?: Comparison[];
  readonly error?: string;
}

// Workers run TypeScript through tsx's loader, registered inside the worker (an `--import`
// in execArgv does not reach a worker's own module loading on Node 20).
const WORKER_URL = new URL('./table-worker.ts', import.meta.url).href;
const BOOT = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL)}); })`;

/** Every task's comparisons, in the tasks' order. */
export async function replayTables(tasks: readonly TableTask[]): Promise<Comparison[][]> {
  const results: Comparison[][] = new Array<Comparison[]>(tasks.length);
  let next = 0;
  const workers = Math.max(1, Math.min(availableParallelism(), tasks.length));
  const runWorker = () =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(BOOT, { eval: true });
      const feed = () => {
        if (next >= tasks.length) {
          void worker.terminate().then(() => resolve());
          return;
        }
        const index = next++;
        worker.postMessage({ index, task: tasks[index] });
      };
      worker.on('message', (message: TaskResult | 'ready') => {
        if (message === 'ready') return feed();
        if (message.error !== undefined) {
          void worker.terminate();
          return reject(new Error(`${tasks[message.index]!.tableId}: ${message.error}`));
        }
        results[message.index] = message.comparisons!;
        feed();
      });
      worker.on('error', reject);
    });
  await Promise.all(Array.from({ length: workers }, runWorker));
  return results;
}
