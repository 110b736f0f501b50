/**
 * Issue 2: the HTTP/engine overhead of nimsim compared with a bare Hono server.
 *
 *   npm run build && npx tsx load-tests/overhead.ts [--connections 32] [--duration 10] [--rounds 2]
 *
 * Both servers run as child processes (the load generator must not share their event loop):
 * nimsim as `node dist/cli.js serve --time-scale 0` (no simulated waiting, so only its own CPU
 * cost is left) and load-tests/lib/bare-hono.ts (parse the body, answer a fixed chat.completion).
 * autocannon sends the same non-streaming chat request to each, alternating A/B `rounds` times so
 * that machine drift hits both alike, after a short warm-up of each. Prints requests/s, p50/p99
 * latency and the ratio nimsim / bare (target ≥ 0.5). Bounded: about 4 + 2 × rounds × duration s.
 */
import autocannon from 'autocannon';
import {
  freePort,
  LOCALHOST,
  NIMSIM_CLI,
  requireBuild,
  spawnServer,
  type ChildServer,
} from './lib/child-server.js';

function intArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`--${name} must be a positive integer\n`);
    process.exit(2);
  }
  return value;
}

const connections = intArg('connections', 32);
const durationS = intArg('duration', 10);
const rounds = intArg('rounds', 2);
const WARMUP_S = 2;

const BODY = JSON.stringify({
  model: 'meta/llama-3.1-8b-instruct',
  messages: [{ role: 'user', content: 'Write a haiku about GPUs.' }],
  max_tokens: 16,
  ignore_eos: true,
});

interface Run {
  readonly target: string;
  readonly requestsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
}

async function load(server: ChildServer, seconds: number): Promise<Run> {
  const r = await autocannon({
    url: `http://${LOCALHOST}:${server.port}/v1/chat/completions`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
  });
  return {
    target: server.name,
    requestsPerS: r['2xx'] / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    failures: r.errors + r.timeouts + r.non2xx,
  };
}

const fmt = (x: number, digits = 0) => x.toFixed(digits).padStart(9);

async function main(): Promise<void> {
  requireBuild();
  const [nimsimPort, barePort] = [await freePort(), await freePort()];
  const servers: ChildServer[] = [];
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
    process.stdout.write(
      `overhead: ${connections} connections, ${durationS} s per run, ${rounds} rounds of nimsim/bare ` +
        `(+${WARMUP_S} s warm-up each)\n`,
    );
    await load(nimsim, WARMUP_S);
    await load(bare, WARMUP_S);

    const runs: Run[] = [];
    process.stdout.write(
      `\n${'run'.padEnd(10)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}\n`,
    );
    for (let round = 0; round < rounds; round++) {
      // Alternate the order each round (ABBA…) so neither always runs first.
      const order = round % 2 === 0 ? [nimsim, bare] : [bare, nimsim];
      for (const server of order) {
        const run = await load(server, durationS);
        runs.push(run);
        const failed = run.failures > 0 ? `  (${run.failures} failed)` : '';
        process.stdout.write(
          `${run.target.padEnd(10)}${fmt(run.requestsPerS)}${fmt(run.p50Ms)}${fmt(run.p99Ms)}${failed}\n`,
        );
      }
    }

    const mean = (target: string, f: (r: Run) => number) => {
      const xs = runs.filter((r) => r.target === target).map(f);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    process.stdout.write(
      `\n${'mean'.padEnd(10)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}\n`,
    );
    for (const target of ['nimsim', 'bare']) {
      process.stdout.write(
        `${target.padEnd(10)}${fmt(mean(target, (r) => r.requestsPerS))}` +
          `${fmt(mean(target, (r) => r.p50Ms))}${fmt(mean(target, (r) => r.p99Ms))}\n`,
      );
    }
    const ratio = mean('nimsim', (r) => r.requestsPerS) / mean('bare', (r) => r.requestsPerS);
    const failures = runs.reduce((a, r) => a + r.failures, 0);
    process.stdout.write(
      `\nratio nimsim/bare requests/s: ${ratio.toFixed(3)} (target ≥ 0.5: ${ratio >= 0.5 ? 'met' : 'MISSED'})` +
        `${failures > 0 ? `; ${failures} failed requests` : ''}\n`,
    );
  } finally {
    for (const s of servers) await s.stop();
  }
}

await main();
