/**
 * The liveness probe of tests/helpers/guarded-server.ts, in a worker thread of its own: while
 * watching it polls `/v1/health/live` every 20 ms and records the slowest answer. On its own event
 * loop, the probe measures the server, not the test's main thread, which may be busy serialising a
 * 10 MB request or reading a 65 MB answer at the same time. One worker per server, started with
 * it, so a watch starts probing at once. Plain JavaScript: workers do not go through Vite.
 *
 * Messages in: 'start' (reset and probe), 'stop' (answer with the report and pause).
 */
/* global performance, fetch, AbortSignal, setTimeout */
import { parentPort, workerData } from 'node:worker_threads';

const { url } = workerData;
let running = false;
let maxProbeMs = 0;
let probes = 0;
let failures = 0;
let pendingSince;
let loop = Promise.resolve();

async function probeLoop() {
  while (running) {
    const start = performance.now();
    pendingSince = start;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      probes++;
    } catch {
      failures++;
    }
    pendingSince = undefined;
    maxProbeMs = Math.max(maxProbeMs, performance.now() - start);
    await new Promise((r) => setTimeout(r, 20));
  }
}

parentPort.on('message', async (message) => {
  if (message === 'start') {
    await loop;
    maxProbeMs = 0;
    probes = 0;
    failures = 0;
    running = true;
    loop = probeLoop();
    parentPort.postMessage({ started: true });
    return;
  }
  // A probe still waiting counts its age: a frozen server must not look live by never answering.
  const stuckMs = pendingSince === undefined ? 0 : performance.now() - pendingSince;
  running = false;
  await Promise.race([loop, new Promise((r) => setTimeout(r, 1_000))]);
  parentPort.postMessage({ maxProbeMs: Math.max(maxProbeMs, stuckMs), probes, failures });
});
parentPort.postMessage({ ready: true });
