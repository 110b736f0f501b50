/**
 * A built nimsim in a child process with a small heap, watched while a test sends it something
 * hostile: a liveness probe polls `/v1/health/live` every 20 ms from a worker thread (so the
 * test's own work does not delay it: liveness-probe-worker.mjs) and records the slowest answer, and
 * the child's resident memory is sampled from /proc. Hardening tests assert that the hostile
 * request got a prompt 4xx (or its documented behaviour), that the event loop kept answering and
 * that memory stayed bounded.
 *
 * The heap limit is about what the Kubernetes example's 1 GiB memory limit leaves the V8 heap after
 * Node's own native memory (deploy/k8s/nimsim.yaml).
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import {
  freePort,
  LOCALHOST,
  NIMSIM_CLI,
  requireBuild,
  spawnServer,
  type ChildServer,
} from '../../load-tests/lib/child-server.js';

export const SMALL_HEAP_MB = 768;

export interface GuardedServer {
  readonly baseUrl: string;
  readonly port: number;
  readonly child: ChildServer;
  /** Resident set now, in MiB (VmRSS), or NaN where /proc is unavailable. */
  rssMb(): number;
  /** Starts (or restarts) the liveness probe and the RSS sampling; `watch().stop()` reports. */
  watch(): LivenessWatch;
  /** True while the child process is alive. */
  alive(): boolean;
  stop(): Promise<void>;
}

export interface LivenessReport {
  /** Slowest `/v1/health/live` answer seen, in ms (a probe still pending counts its age). */
  readonly maxProbeMs: number;
  /** Probes answered. */
  readonly probes: number;
  /** Probes that failed (connection refused or reset: the server died). */
  readonly failures: number;
  /** Highest RSS sampled, in MiB. */
  readonly peakRssMb: number;
}

export interface LivenessWatch {
  stop(): Promise<LivenessReport>;
}

/**
 * Spawns `node --max-old-space-size=<heapMb> dist/cli.js serve` on a free port of 127.0.0.1 with
 * time scale 0 and no jitter; `flags` are extra command-line flags (e.g. `['--max-body-bytes',
 * '1000']`).
 */
export async function startGuardedServer(
  flags: readonly string[] = [],
  opts: { heapMb?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<GuardedServer> {
  requireBuild();
  const port = await freePort();
  const child = await spawnServer({
    name: 'nimsim (guarded)',
    port,
    nodeArgs: [
      `--max-old-space-size=${opts.heapMb ?? SMALL_HEAP_MB}`,
      NIMSIM_CLI,
      'serve',
      '--host',
      LOCALHOST,
      '--port',
      String(port),
      '--time-scale',
      '0',
      '--jitter',
      '0',
      '--log-level',
      'ERROR',
      ...flags,
    ],
    readyPath: '/v1/health/ready',
  });
  const baseUrl = `http://${LOCALHOST}:${port}`;
  const rssMb = () => rssOf(child.pid);
  const probe = await startProbeWorker(baseUrl);
  let exited = false;
  child.process.once('exit', () => (exited = true));
  return {
    baseUrl,
    port,
    child,
    rssMb,
    alive: () => !exited,
    watch: () => watchLiveness(probe, rssMb),
    stop: async () => {
      await probe.terminate();
      await child.stop();
    },
  };
}

function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The probe worker of one server (liveness-probe-worker.mjs), ready to be started. */
async function startProbeWorker(baseUrl: string): Promise<Worker> {
  const worker = new Worker(new URL('./liveness-probe-worker.mjs', import.meta.url), {
    workerData: { url: `${baseUrl}/v1/health/live` },
  });
  await new Promise((resolve) => worker.once('message', resolve));
  return worker;
}

/** The next message of `worker`. */
const nextMessage = <T>(worker: Worker): Promise<T> =>
  new Promise((resolve) => worker.once('message', (message: T) => resolve(message)));

function watchLiveness(probe: Worker, rssMb: () => number): LivenessWatch {
  const started = nextMessage(probe);
  probe.postMessage('start');
  let peakRssMb = rssMb();
  const sampler = setInterval(() => {
    const rss = rssMb();
    if (rss > peakRssMb) peakRssMb = rss;
  }, 20);
  return {
    async stop() {
      await started;
      clearInterval(sampler);
      const report = nextMessage<Omit<LivenessReport, 'peakRssMb'>>(probe);
      probe.postMessage('stop');
      return { ...(await report), peakRssMb: Math.max(peakRssMb, rssMb()) };
    },
  };
}
