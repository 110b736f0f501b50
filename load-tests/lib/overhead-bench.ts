/**
 * nimsim's own HTTP/engine cost against a bare Hono server: both as child processes, autocannon
 * sending the same non-streaming chat request to each (raw HTTP throughput), alternating A/B
 * `rounds` times so machine drift hits both alike, after a warm-up of each. Used by
 * load-tests/overhead.ts and the `overhead` scenario.
 */
import autocannon from 'autocannon';
import {
  freePort,
  LOCALHOST,
  NIMSIM_CLI,
  requireBuild,
  spawnServer,
  type ChildServer,
} from './child-server.js';

export interface OverheadRun {
  readonly target: 'nimsim' | 'bare';
  readonly requestsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
}

export interface OverheadResult {
  readonly runs: readonly OverheadRun[];
  /** Mean nimsim requests/s ÷ mean bare requests/s. */
  readonly ratio: number;
  readonly mean: Readonly<Record<'nimsim' | 'bare', { requestsPerS: number; p50Ms: number; p99Ms: number }>>;
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

async function load(
  server: ChildServer,
  connections: number,
  seconds: number,
  uniquePrompts: boolean,
): Promise<OverheadRun> {
  // idReplacement is autocannon's; the local type declaration only covers the common options.
  const options: Parameters<typeof autocannon>[0] & { idReplacement?: boolean } = {
    url: `http://${LOCALHOST}:${server.port}/v1/chat/completions`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: uniquePrompts ? OVERHEAD_BODY_UNIQUE : OVERHEAD_BODY,
    idReplacement: uniquePrompts,
  };
  const r = await autocannon(options);
  return {
    target: server.name as 'nimsim' | 'bare',
    requestsPerS: r['2xx'] / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    failures: r.errors + r.timeouts + r.non2xx,
  };
}

/**
 * Starts both servers, warms each up for `warmupS`, runs `rounds` × (nimsim, bare) for `durationS`
 * each (order alternating ABBA…), calls `onRun` after each run, stops the servers.
 */
export async function runOverheadBench(opts: {
  connections: number;
  durationS: number;
  rounds: number;
  warmupS: number;
  /** A unique prompt per request (OVERHEAD_BODY_UNIQUE) for both servers. */
  uniquePrompts?: boolean;
  onStart?: () => void;
  onRun?: (run: OverheadRun) => void;
}): Promise<OverheadResult> {
  requireBuild();
  const [nimsimPort, barePort] = [await freePort(), await freePort()];
  const servers: ChildServer[] = [];
  const runs: OverheadRun[] = [];
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
          'WARNING',
        ],
        readyPath: '/v1/health/ready',
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
    await load(nimsim, opts.connections, opts.warmupS, unique);
    await load(bare, opts.connections, opts.warmupS, unique);
    for (let round = 0; round < opts.rounds; round++) {
      // Alternate the order each round (ABBA…) so neither always runs first.
      const order = round % 2 === 0 ? [nimsim, bare] : [bare, nimsim];
      for (const server of order) {
        const run = await load(server, opts.connections, opts.durationS, unique);
        runs.push(run);
        opts.onRun?.(run);
      }
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  const meanOf = (target: 'nimsim' | 'bare') => {
    const xs = runs.filter((r) => r.target === target);
    const avg = (f: (r: OverheadRun) => number) => xs.reduce((a, r) => a + f(r), 0) / xs.length;
    return {
      requestsPerS: avg((r) => r.requestsPerS),
      p50Ms: avg((r) => r.p50Ms),
      p99Ms: avg((r) => r.p99Ms),
    };
  };
  const mean = { nimsim: meanOf('nimsim'), bare: meanOf('bare') };
  return { runs, mean, ratio: mean.nimsim.requestsPerS / mean.bare.requestsPerS };
}
