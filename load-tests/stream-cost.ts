/**
 * What one streamed token costs the server, build A against build B, in one run:
 *
 *   npm run build && npx tsx load-tests/stream-cost.ts --a OTHER_DIST [--b dist] [--streams 500]
 *     [--replicas 4] [--max-tokens 200] [--rounds 4]
 *
 * Starts one nimsim from each build (`<dir>/cli.js serve`, the settings of realtime-accuracy.ts:
 * time scale 1, no jitter, every stream in one batch, prefix caching off), warms both, then sends
 * the same burst (`--streams` concurrent chat streams of `--max-tokens` tokens) to A and B in
 * turn, alternating which goes first each round, and reads each server's CPU time (user + system,
 * /proc) over its burst. The figure is server CPU ms per streamed token; the ratio B ÷ A is taken
 * per round (the two bursts of a round ran back to back, under the same background load) and its
 * median reported. On a shared machine wall-clock latencies drift with other people's jobs, the
 * CPU a burst costs much less so; the load average is printed beside each round.
 *
 * A build directory other than this checkout's `dist` needs `node_modules` and this
 * `package.json` beside it (Node resolves packages and the module type from the file's place):
 * e.g. `cp -r dist OTHER/dist && cp package.json OTHER/ && ln -s $PWD/node_modules OTHER/`.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { flagOf, type SettingKey } from '../src/config/settings.js';
import {
  cpuTimesMs,
  freePort,
  LOCALHOST,
  REPO_ROOT,
  spawnServer,
  type ChildServer,
} from './lib/child-server.js';
import { intArg } from './lib/int-arg.js';
import { burstBody } from './lib/streaming-burst.js';
import { summarize } from './lib/percentiles.js';
import { streamRequest } from './lib/sse-client.js';

const streams = intArg('streams', 500);
const maxTokens = intArg('max-tokens', 200);
const replicas = intArg('replicas', 4);
const rounds = intArg('rounds', 4);
const STREAM_TIMEOUT_MS = 180_000;

function dirArg(name: string, fallback: string | undefined): string {
  const i = process.argv.indexOf(`--${name}`);
  const dir = i > 0 ? process.argv[i + 1] : fallback;
  if (dir === undefined || !existsSync(join(resolve(dir), 'cli.js'))) {
    process.stderr.write(`--${name} must name a build directory holding cli.js\n`);
    process.exit(2);
  }
  return resolve(dir);
}

const sides = [
  { name: 'A', dir: dirArg('a', undefined) },
  { name: 'B', dir: dirArg('b', join(REPO_ROOT, 'dist')) },
];

const SETTINGS: Partial<Record<SettingKey, string>> = {
  timeScale: '1',
  jitter: '0',
  seed: '0',
  maxNumSeqs: String(Math.max(512, streams)),
  maxWaiting: String(Math.max(1024, streams)),
  enableKvCacheReuse: '0',
  ...(replicas > 1 ? { replicas: String(replicas) } : {}),
};

async function start(dir: string): Promise<ChildServer> {
  const port = await freePort();
  const flags = Object.entries(SETTINGS).flatMap(([k, v]) => [`--${flagOf(k as SettingKey)}`, v]);
  return spawnServer({
    name: `nimsim (${dir})`,
    port,
    nodeArgs: [join(dir, 'cli.js'), 'serve', '--port', String(port), '--log-level', 'WARNING', ...flags],
    readyPath: '/v1/health/ready',
    onStderr: (chunk) => process.stderr.write(chunk),
  });
}

interface Burst {
  readonly cpuMs: number;
  /** Of which in the kernel (system time: socket writes above all). */
  readonly systemMs: number;
  readonly tokens: number;
  readonly wallS: number;
  readonly itlMeanMs: number;
  readonly failed: number;
}

async function burst(server: ChildServer, n: number, tokens: number): Promise<Burst> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const body = burstBody(tokens);
  const cpu0 = cpuTimesMs(server.pid);
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: n }, () =>
      streamRequest({
        host: LOCALHOST,
        port: server.port,
        path: '/v1/chat/completions',
        agent,
        timeoutMs: STREAM_TIMEOUT_MS,
        body,
      }),
    ),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpu1 = cpuTimesMs(server.pid);
  agent.destroy();
  if (cpu0 === undefined || cpu1 === undefined) throw new Error('no /proc: CPU time unavailable');
  const ok = results.filter((r) => r.error === undefined && r.done && r.contentChunkMs.length > 1);
  const itl = ok.map(
    (r) =>
      (r.contentChunkMs.at(-1)! - r.contentChunkMs[0]!) /
      ((r.completionTokens ?? r.contentChunkMs.length) - 1),
  );
  return {
    cpuMs: cpu1.userMs + cpu1.systemMs - cpu0.userMs - cpu0.systemMs,
    systemMs: cpu1.systemMs - cpu0.systemMs,
    tokens: ok.reduce((a, r) => a + (r.completionTokens ?? r.contentChunkMs.length), 0),
    wallS,
    itlMeanMs: summarize(itl).mean,
    failed: n - ok.length,
  };
}

const usPerToken = (b: Burst) => (b.cpuMs * 1000) / b.tokens;
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const servers: ChildServer[] = [];
  try {
    for (const side of sides) servers.push(await start(side.dir));
    for (const [i, side] of sides.entries()) {
      process.stdout.write(`${side.name}: ${side.dir} (pid ${servers[i]!.pid})\n`);
    }
    process.stdout.write(
      `${streams} streams × ${maxTokens} tokens, ${replicas} replica(s), ${rounds} rounds; ` +
        `server CPU per streamed token (user + system, 10 ms ticks)\n`,
    );
    // Warm both (JIT) with one unmeasured burst each.
    for (const s of servers) await burst(s, Math.min(streams, 100), 20);
    const perSide: Burst[][] = sides.map(() => []);
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      const got: Burst[] = [];
      for (const i of order) got[i] = await burst(servers[i]!, streams, maxTokens);
      got.forEach((b, i) => perSide[i]!.push(b));
      const ratio = usPerToken(got[1]!) / usPerToken(got[0]!);
      ratios.push(ratio);
      const cell = (b: Burst) =>
        `${usPerToken(b).toFixed(2)} µs/token (of which system ${((b.systemMs * 1000) / b.tokens).toFixed(2)}; CPU ${(b.cpuMs / 1000).toFixed(2)} s over ${b.wallS.toFixed(2)} s = ` +
        `${((b.cpuMs / (b.wallS * 1000)) * 100).toFixed(0)} % of a core, ITL mean ${b.itlMeanMs.toFixed(2)} ms` +
        `${b.failed > 0 ? `, ${b.failed} failed` : ''})`;
      process.stdout.write(
        `round ${r + 1} (${order.map((i) => sides[i]!.name).join(' then ')}, load average ${loadavg()[0]!.toFixed(2)}):\n` +
          `  A ${cell(got[0]!)}\n  B ${cell(got[1]!)}\n  B ÷ A ${ratio.toFixed(3)}\n`,
      );
    }
    const userPerToken = (b: Burst) => ((b.cpuMs - b.systemMs) * 1000) / b.tokens;
    const userRatios = perSide[0]!.map((a, r) => userPerToken(perSide[1]![r]!) / userPerToken(a));
    process.stdout.write(
      `\nuser-mode µs/token (JavaScript and the runtime, the kernel's share left out): ` +
        `median A ${median(perSide[0]!.map(userPerToken)).toFixed(2)}, B ${median(perSide[1]!.map(userPerToken)).toFixed(2)}; ` +
        `B ÷ A per round ${userRatios.map((x) => x.toFixed(3)).join(', ')}, median ${median(userRatios).toFixed(3)}`,
    );
    process.stdout.write(
      `\nmedian µs/token: A ${median(perSide[0]!.map(usPerToken)).toFixed(2)}, ` +
        `B ${median(perSide[1]!.map(usPerToken)).toFixed(2)}; B ÷ A per round ${ratios.map((x) => x.toFixed(3)).join(', ')}, ` +
        `median ${median(ratios).toFixed(3)}\n`,
    );
  } finally {
    await Promise.all(servers.map((s) => s.stop(30_000)));
  }
}

await main();
