/**
 * Preloaded into a soak's server (`node --expose-gc --import …`): on SIGUSR2 it runs a full
 * garbage collection and writes `process.memoryUsage()` to stderr as one line,
 * `nimsim-memory {json}`, so the soak can tell live heap from RSS (garbage not yet collected,
 * memory V8 keeps after a collection, buffers outside the heap). Load tests only.
 */
import process from 'node:process';

process.on('SIGUSR2', () => {
  const before = process.memoryUsage();
  globalThis.gc?.();
  const after = process.memoryUsage();
  process.stderr.write(`nimsim-memory ${JSON.stringify({ before, after })}\n`);
});
