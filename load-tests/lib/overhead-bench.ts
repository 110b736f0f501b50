/**
 * nimsim's own HTTP/engine cost against a bare Hono server, and whether it holds over time: both
 * run as child processes that stay up for the whole run; autocannon sends the same non-streaming
 * chat request to each in alternating windows (nimsim, bare, nimsim, bare…) after a warm-up of
 * each, so nimsim keeps its cache state across its windows while machine drift hits both alike
 * (overhead-windows.ts does the arithmetic). Used by load-tests/overhead.ts and the `overhead`
 * scenario.
 */
import autocannon from 'autocannon';
import {
  cpuTimeMs,
  freePort,
  LOCALHOST,
  NIMSIM_CLI,
  requireBuild,
  spawnServer,
  type ChildServer,
} from './child-server.js';
import {
  pairOf,
  summarizeWindows,
  type OverheadSummary,
  type OverheadTarget,
  type WindowPair,
  type WindowRun,
} from './overhead-windows.js';

export interface OverheadResult extends OverheadSummary {
  /** Every measured window in the order run (warm-ups left out). */
  readonly runs: readonly WindowRun[];
  /** nimsim's log level for the run. */
  readonly logLevel: string;
  /** Bytes nimsim wrote to its stderr (the access log at INFO) over the whole run. */
  readonly nimsimLogBytes: number;
}

export const OVERHEAD_BODY = JSON.stringify({
  model: 'meta/llama-3.1-8b-instruct',
  messages: [{ role: 'user', content: 'Write a haiku about GPUs.' }],
  max_tokens: 16,
  ignore_eos: true,
});

/**
 * The same request with a prompt unique to each request (autocannon replaces `[<id>]`), so no
 * cache keyed on the prompt (the tokenizer's, the prefix KV cache) makes the repeated request cheap.
 */
export const OVERHEAD_BODY_UNIQUE = JSON.stringify({
  model: 'meta/llama-3.1-8b-instruct',
  messages: [{ role: 'user', content: 'Write a haiku about GPUs. [<id>]' }],
  max_tokens: 16,
  ignore_eos: true,
});

export interface OverheadBenchOptions {
  readonly connections: number;
  /** Seconds of each measured window. */
  readonly windowS: number;
  /** Measured windows per server. */
  readonly windows: number;
  /**
   * Requests each server answers before its first window. A count, not a time: the JIT warms up
   * over a number of requests, however slowly a busy machine runs them, and nimsim's cost depends on
   * how many it has answered, so its first window starts at the same point everywhere.
   */
  readonly warmupRequests: number;
  /** A unique prompt per request (OVERHEAD_BODY_UNIQUE) for both servers. */
  readonly uniquePrompts?: boolean;
  /**
   * nimsim's `--log-level` (default INFO, as it ships: one access-log line per request). Its
   * stderr is a pipe this process drains, as a container runtime's would be.
   */
  readonly logLevel?: string;
  onStart?(): void;
  /** After each pair of measured windows (nimsim's, then bare's). */
  onWindow?(pair: WindowPair): void;
}

/** Load for `length.seconds`, or until `length.requests` were sent. */
async function load(
  server: ChildServer,
  connections: number,
  length: { seconds: number } | { requests: number },
  uniquePrompts: boolean,
): Promise<WindowRun> {
  // idReplacement is autocannon's; the local type declaration only covers the common options.
  const options: Parameters<typeof autocannon>[0] & { idReplacement?: boolean } = {
    url: `http://${LOCALHOST}:${server.port}/v1/chat/completions`,
    connections,
    ...('seconds' in length ? { duration: length.seconds } : { amount: length.requests }),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: uniquePrompts ? OVERHEAD_BODY_UNIQUE : OVERHEAD_BODY,
    idReplacement: uniquePrompts,
  };
  const cpu0 = cpuTimeMs(server.pid);
  const r = await autocannon(options);
  const cpu1 = cpuTimeMs(server.pid);
  const answered = r['2xx'];
  return {
    target: server.name as OverheadTarget,
    requestsPerS: answered / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    failures: r.errors + r.timeouts + r.non2xx,
    cpuUsPerRequest:
      cpu0 === undefined || cpu1 === undefined || answered === 0
        ? undefined
        : ((cpu1 - cpu0) * 1000) / answered,
  };
}

/**
 * Starts both servers, warms each up with `warmupRequests`, runs `windows` × (nimsim, bare) of
 * `windowS` each, calls `onWindow` after each pair, stops the servers. About 2 × windows × windowS
 * s plus the warm-up (a second or two) and start-up.
 */
export async function runOverheadBench(opts: OverheadBenchOptions): Promise<OverheadResult> {
  requireBuild();
  const logLevel = opts.logLevel ?? 'INFO';
  const [nimsimPort, barePort] = [await freePort(), await freePort()];
  const servers: ChildServer[] = [];
  const runs: WindowRun[] = [];
  let nimsimLogBytes = 0;
  // The last two chunks of nimsim's stderr, to show if it dies; the rest is only counted (decoding
  // ~100 MB of access log would cost this process, which shares the cores with both servers).
  let stderrTail: Buffer[] = [];
  const tailText = () => Buffer.concat(stderrTail).toString('utf8').slice(-2000);
  try {
    servers.push(
      await spawnServer({
        name: 'nimsim',
        port: nimsimPort,
        nodeArgs: [
          NIMSIM_CLI,
          'serve',
          '--port',
          String(nimsimPort),
          '--time-scale',
          '0',
          '--log-level',
          logLevel,
        ],
        readyPath: '/v1/health/ready',
        onStderr: (chunk) => {
          nimsimLogBytes += chunk.length;
          stderrTail = [stderrTail.at(-1) ?? Buffer.alloc(0), chunk];
        },
      }),
    );
    servers.push(
      await spawnServer({
        name: 'bare',
        port: barePort,
        nodeArgs: ['--import', 'tsx', 'load-tests/lib/bare-hono.ts', '--port', String(barePort)],
        readyPath: '/v1/health/ready',
      }),
    );
    const [nimsim, bare] = servers as [ChildServer, ChildServer];
    opts.onStart?.();
    const unique = opts.uniquePrompts ?? false;
    await load(nimsim, opts.connections, { requests: opts.warmupRequests }, unique);
    await load(bare, opts.connections, { requests: opts.warmupRequests }, unique);
    const window = async (server: ChildServer) => {
      const run = await load(server, opts.connections, { seconds: opts.windowS }, unique);
      if (server.process.exitCode !== null || server.process.signalCode !== null)
        throw new Error(`${server.name} exited during the run${server === nimsim ? `:\n${tailText()}` : ''}`);
      runs.push(run);
      return run;
    };
    for (let w = 1; w <= opts.windows; w++) {
      const n = await window(nimsim);
      const b = await window(bare);
      opts.onWindow?.(pairOf(w, n, b));
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  return { ...summarizeWindows(runs), runs, logLevel, nimsimLogBytes };
}
