/**
 * Does `serve` at time scale 1 deliver the timing that `simulate` predicts, up to thousands of
 * concurrent streams from one load-generator process?
 *
 *   npm run build && npx tsx load-tests/realtime-accuracy.ts [--streams 500] [--max-tokens 200]
 *     [--max-num-seqs N] [--replicas N] [--router R] [--gpu G] [--cpu-prof DIR] [--dist DIR]
 *
 * Starts nimsim as a child process (`--time-scale 1 --jitter 0`, max-num-seqs and max-waiting at
 * least the stream count so every stream runs in one batch and none is refused), warms up (a few
 * requests, then one 2-token request per stream, which leaves a keep-alive connection per stream
 * open), opens all streams at once on those connections with a node:http client that timestamps
 * every SSE chunk, and computes per request
 *   TTFT = first content chunk − request start,
 *   ITL  = (last content chunk − first content chunk) / (completion tokens − 1)
 * (AIPerf's definitions, the same as the `simulate` report). Then it stops the server and runs
 * `simulate` in-process with the very same settings twice: every stream arriving at 0
 * (`runSimulation`, concurrency = requests = streams, input tokens = the prompt's exact count from
 * POST /tokenize, output tokens = max_tokens), and each request arriving when the server queued it
 * (its response headers; a trace replay) — the same load as the server saw, since thousands of
 * connections take seconds to reach it. It prints, for TTFT, ITL and the output tokens/s
 * delivered, both predictions, the server's own figure (its `vllm:*` metrics over the burst) and
 * the client's, with the client's error against the replay and the server (target ≤ 5 % for ITL
 * against the replay); then what each process cost — CPU share of a core of
 * the server and of this client over the burst (near 100 % = that Node process is the limit), the
 * server's peak RSS, its step lag and lag warnings, the client's event-loop delay.
 * `--cpu-prof DIR` writes a V8 CPU profile of each side over the run to DIR (server: `node
 * --cpu-prof`, written at its exit; client: the inspector, over the burst only), to open in Chrome
 * DevTools or speedscope.
 *
 * `--replicas N` (with `--router`, default nimsim's) runs both sides as a fleet of N engine replicas
 * in the one server process (`serve --replicas N`, `simulate` on the same settings): the streams
 * are spread over N batches, each replica's settings as above, and the client counts the streams
 * each replica served from the `x-nimsim-replica` response header when the server sends it. N
 * replicas deliver N batches' tokens from one process: `--gpu` (e.g. a100-80gb, whose steps are
 * slower than the default H100's) keeps that rate within what one server process can stream.
 *
 * `--dist DIR` runs the server from another build (DIR/cli.js, e.g. a copy of another branch's
 * dist/ with this package.json and node_modules beside it, as stream-cost.ts describes), to compare
 * builds under the same client; `simulate` runs from this checkout's sources either way.
 *
 * Prefix caching is off on both sides: every real request sends the same prompt (so later ones
 * would hit the cache), while `simulate` draws distinct random prompts.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig, type RawSettings } from '../src/config/config.js';
import { flagOf, ROUTER_NAMES, type SettingKey } from '../src/config/settings.js';
import { runSimulation } from '../src/simulate/simulate.js';
import type { TraceEntry } from '../src/simulate/trace.js';
import { runTraceSimulation, TRACE_BLOCK_SIZE } from '../src/simulate/trace-replay.js';
import {
  cpuTimeMs,
  freePort,
  LOCALHOST,
  NIMSIM_CLI,
  peakRssKb,
  requireBuild,
  spawnServer,
} from './lib/child-server.js';
import { intArg } from './lib/int-arg.js';
import { BURST_MESSAGES, BURST_MODEL, burstBody } from './lib/streaming-burst.js';
import { startLoopLagMonitor, type LoopLag } from './lib/loop-lag.js';
import { relativeError, summarize } from './lib/percentiles.js';
import { promTotal } from './lib/prom-text.js';
import { streamRequest, type StreamResult } from './lib/sse-client.js';

const streams = intArg('streams', 500);
const maxTokens = intArg('max-tokens', 200);
const maxNumSeqs = intArg('max-num-seqs', Math.max(512, streams));
const replicas = intArg('replicas', 1);
const gpuArg = process.argv.indexOf('--gpu');
const gpu = gpuArg > 0 ? process.argv[gpuArg + 1] : undefined;
const routerArg = process.argv.indexOf('--router');
const router = routerArg > 0 ? process.argv[routerArg + 1] : undefined;
if (router !== undefined && !(ROUTER_NAMES as readonly string[]).includes(router)) {
  process.stderr.write(`--router must be one of ${ROUTER_NAMES.join(', ')}\n`);
  process.exit(2);
}
const profArg = process.argv.indexOf('--cpu-prof');
const distArg = process.argv.indexOf('--dist');
const serverCli = distArg > 0 ? join(resolve(process.argv[distArg + 1] ?? 'dist'), 'cli.js') : NIMSIM_CLI;
const profDir = profArg > 0 ? resolve(process.argv[profArg + 1] ?? 'cpu-profiles') : undefined;
const STREAM_TIMEOUT_MS = 180_000;
/** The server's step-lag warning (src/engine/step-lag-warning.ts), counted as it passes through. */
const LAG_WARNING = 'engine steps are running late';
const MODEL = BURST_MODEL;
const MESSAGES = BURST_MESSAGES;

/** The settings both sides run with; the rest are defaults (or the same environment). */
const SETTINGS: RawSettings = {
  timeScale: '1',
  jitter: '0',
  seed: '0',
  maxNumSeqs: String(maxNumSeqs),
  // Every stream is queued rather than refused, on both sides (simulate also applies the bound).
  maxWaiting: String(Math.max(1024, streams)),
  enableKvCacheReuse: '0',
  // A fleet only when asked: the single-engine run keeps exactly its former settings.
  ...(replicas > 1 ? { replicas: String(replicas) } : {}),
  ...(router !== undefined ? { router } : {}),
  ...(gpu !== undefined ? { gpu } : {}),
};

function settingFlags(raw: RawSettings): string[] {
  return Object.entries(raw).flatMap(([key, value]) => [`--${flagOf(key as SettingKey)}`, String(value)]);
}

async function postJson<T>(port: number, path: string, body: unknown): Promise<T> {
  const res = await fetch(`http://${LOCALHOST}:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * `[sum, count]` of a histogram in Prometheus text (sum in its unit, seconds); zeros if absent.
 * Summed over its samples (per-engine ones when a fleet labels them `engine`), so a fleet that
 * exposes a series per replica is counted whole.
 */
function histogramTotals(metricsText: string, name: string): [number, number] {
  return [promTotal(metricsText, `${name}_sum`) ?? 0, promTotal(metricsText, `${name}_count`) ?? 0];
}

/** Mean of a histogram over the observations made between two scrapes; undefined if none. */
function histogramMeanBetween(before: string, after: string, name: string): number | undefined {
  const [sum0, count0] = histogramTotals(before, name);
  const [sum1, count1] = histogramTotals(after, name);
  return count1 > count0 ? (sum1 - sum0) / (count1 - count0) : undefined;
}

function gaugeValue(metricsText: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(metricsText);
  return m ? Number(m[1]) : undefined;
}

/** Streams per replica from the `x-nimsim-replica` header, or why they are unknown. */
function perReplicaLine(ok: readonly StreamResult[], n: number): string {
  if (!ok.every((r) => r.replica !== undefined && r.replica < n))
    return 'streams per replica: n/a (the server sent no x-nimsim-replica header)';
  const counts = new Array<number>(n).fill(0);
  for (const r of ok) counts[r.replica!]!++;
  return `streams per replica: ${counts.join(' / ')}`;
}

const pct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} %` : 'n/a');
const ms = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(2)} ms`);

/** Starts a V8 CPU profile of this process; `stop()` writes it to `file`. */
async function profileClient(file: string): Promise<{ stop(): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

async function main(): Promise<void> {
  if (distArg < 0) requireBuild();
  else if (!existsSync(serverCli)) {
    process.stderr.write(`--dist: ${serverCli} does not exist\n`);
    process.exit(2);
  }
  const port = await freePort();
  if (profDir !== undefined) mkdirSync(profDir, { recursive: true });
  const args = [
    ...(profDir === undefined
      ? []
      : ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', 'server.cpuprofile']),
    serverCli,
    'serve',
    '--port',
    String(port),
    '--log-level',
    'WARNING',
    ...settingFlags(SETTINGS),
  ];
  let lagWarnings = 0;
  const server = await spawnServer({
    name: 'nimsim',
    port,
    nodeArgs: args,
    readyPath: '/v1/health/ready',
    onStderr: (chunk) => {
      const text = chunk.toString('utf8');
      lagWarnings += text.split(LAG_WARNING).length - 1;
      process.stderr.write(text);
    },
  });
  let results: StreamResult[];
  let wallS: number;
  let metricsBefore: string;
  let metricsText: string;
  let rssKb: number | undefined;
  let promptTokens: number;
  let serverCpuMs: number | undefined;
  let clientCpuMs: number;
  let loopLag: LoopLag;
  try {
    ({ count: promptTokens } = await postJson<{ count: number }>(port, '/tokenize', {
      model: MODEL,
      messages: MESSAGES,
    }));
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity });
    const request = (tokens: number) =>
      streamRequest({
        host: LOCALHOST,
        port,
        path: '/v1/chat/completions',
        agent,
        timeoutMs: STREAM_TIMEOUT_MS,
        body: burstBody(tokens),
      });
    // Warm both processes' code paths (JIT) before the measured burst, then open the burst's
    // keep-alive connections with one short request each: the measured burst then times streaming
    // at that concurrency, not `streams` TCP handshakes and first runs landing in one event-loop turn
    // (a benchmark client's warm-up, as AIPerf's --warmup-request-count).
    await Promise.all(Array.from({ length: 8 }, () => request(8)));
    await Promise.all(Array.from({ length: streams }, () => request(2)));
    process.stdout.write(
      `realtime-accuracy: ${streams} concurrent streams × ${maxTokens} tokens, prompt ${promptTokens} tokens, ` +
        `max-num-seqs ${maxNumSeqs}` +
        (replicas > 1 ? ` per replica, ${replicas} replicas (router ${router ?? 'default'})` : '') +
        `, server pid ${server.pid} (${serverCli})\n`,
    );
    metricsBefore = await (await fetch(`http://${LOCALHOST}:${port}/metrics`)).text();
    const profiler =
      profDir === undefined ? undefined : await profileClient(join(profDir, 'client.cpuprofile'));
    const lag = startLoopLagMonitor();
    const serverCpu0 = cpuTimeMs(server.pid);
    const clientCpu0 = process.cpuUsage();
    const t0 = performance.now();
    results = await Promise.all(Array.from({ length: streams }, () => request(maxTokens)));
    wallS = (performance.now() - t0) / 1000;
    const serverCpu1 = cpuTimeMs(server.pid);
    const clientCpu = process.cpuUsage(clientCpu0);
    clientCpuMs = (clientCpu.user + clientCpu.system) / 1000;
    serverCpuMs = serverCpu0 === undefined || serverCpu1 === undefined ? undefined : serverCpu1 - serverCpu0;
    loopLag = lag.stop();
    await profiler?.stop();
    agent.destroy();
    metricsText = await (await fetch(`http://${LOCALHOST}:${port}/metrics`)).text();
    rssKb = peakRssKb(server.pid);
  } finally {
    await server.stop(30_000);
  }

  const failed = results.filter((r) => r.error !== undefined || !r.done);
  const ok = results.filter((r) => r.error === undefined && r.done && r.contentChunkMs.length > 0);
  const ttft = ok.map((r) => r.contentChunkMs[0]! - r.sentAtMs);
  const itl = ok
    .filter((r) => (r.completionTokens ?? r.contentChunkMs.length) > 1)
    .map(
      (r) =>
        (r.contentChunkMs.at(-1)! - r.contentChunkMs[0]!) /
        ((r.completionTokens ?? r.contentChunkMs.length) - 1),
    );
  const accepted = summarize(ok.map((r) => (r.headersAtMs ?? r.sentAtMs) - r.sentAtMs));
  const chunks = summarize(ok.map((r) => r.contentChunkMs.length));
  const measuredTtft = summarize(ttft);
  const measuredItl = summarize(itl);
  // AIPerf's benchmark duration: the first request's start to the last response's end.
  const benchS =
    (Math.max(...results.map((r) => r.endAtMs)) - Math.min(...results.map((r) => r.sentAtMs))) / 1000;
  const clientTokens = ok.reduce((a, r) => a + (r.completionTokens ?? r.contentChunkMs.length), 0);

  const config = loadConfig(process.env, SETTINGS);
  // simulate's own model of the load: every stream arrives at 0.
  const atOnce = runSimulation(config, {
    concurrency: streams,
    requests: streams,
    inputTokens: promptTokens,
    outputTokens: maxTokens,
    sharedPrefixTokens: 0,
    turns: 1,
    thinkTimeMs: 0,
  });
  // The same load as the server saw it: each request arriving when the server queued it (nimsim
  // sends the response headers then), replayed as a trace. Thousands of connections take seconds
  // to reach one process, and prefill of late arrivals lengthens everyone's steps meanwhile.
  const firstHeadersMs = Math.min(...ok.map((r) => r.headersAtMs ?? r.sentAtMs));
  const arrivals: TraceEntry[] = ok
    .map((r, i) => ({
      timestampMs: (r.headersAtMs ?? r.sentAtMs) - firstHeadersMs,
      sessionId: `s${i}`,
      inputTokens: promptTokens,
      outputTokens: maxTokens,
    }))
    .sort((a, b) => a.timestampMs - b.timestampMs);
  const replayed = runTraceSimulation(config, arrivals, { blockSize: TRACE_BLOCK_SIZE });

  // Server-side figures over the measured burst only (the warm-up requests are subtracted).
  const serverItlS = histogramMeanBetween(metricsBefore, metricsText, 'vllm:inter_token_latency_seconds');
  const serverTtftS = histogramMeanBetween(metricsBefore, metricsText, 'vllm:time_to_first_token_seconds');
  const serverTokens =
    (promTotal(metricsText, 'vllm:generation_tokens_total') ?? NaN) -
    (promTotal(metricsBefore, 'vllm:generation_tokens_total') ?? NaN);
  const stepLagS = gaugeValue(metricsText, 'nimsim_engine_step_lag_seconds');

  const cell = (x: number | undefined, digits = 2) =>
    (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits)).padStart(12);
  const vs = (client: number, other: number | undefined) =>
    (other === undefined ? 'n/a' : pct(relativeError(client, other))).padStart(13);
  const COLUMNS = ['sim at 0', 'sim replay', 'server', 'client', 'vs replay', 'vs server'];
  const row = (
    name: string,
    values: { atOnce: number; replayed: number; server: number | undefined; client: number },
    digits = 2,
  ) =>
    `${name.padEnd(14)}${cell(values.atOnce, digits)}${cell(values.replayed, digits)}${cell(values.server, digits)}` +
    `${cell(values.client, digits)}${vs(values.client, values.replayed)}${vs(values.client, values.server)}\n`;
  const itlError = relativeError(measuredItl.mean, replayed.itl_ms.mean);
  const share = (cpuMs: number | undefined) =>
    cpuMs === undefined ? 'n/a' : `${((cpuMs / (wallS * 1000)) * 100).toFixed(0)} % of a core`;
  const dist = (d: { p50: number; p90: number; p99: number }) => `${ms(d.p50)} / ${ms(d.p90)} / ${ms(d.p99)}`;
  process.stdout.write(
    [
      `\ncompleted ${ok.length}/${streams} streams in ${wallS.toFixed(2)} s wall` +
        (failed.length > 0 ? ` (${failed.length} failed, first: ${failed[0]!.error ?? 'no [DONE]'})` : '') +
        `; simulated duration ${atOnce.duration_s.toFixed(2)} s all at 0, ${replayed.duration_s.toFixed(2)} s replayed` +
        (atOnce.rejected_429 + replayed.rejected_429 > 0
          ? `; simulate refused ${atOnce.rejected_429} / ${replayed.rejected_429}`
          : ''),
      ...(replicas > 1 ? [perReplicaLine(ok, replicas)] : []),
      `content chunks per stream: mean ${chunks.mean.toFixed(1)}, min…max ${Math.min(...ok.map((r) => r.contentChunkMs.length))}…${chunks.max}`,
      `requests reached the server (response headers) after their start p50/p90/p99/max ${dist(accepted)} / ` +
        `${ms(accepted.max)}; the last ${ms(Math.max(...arrivals.map((a) => a.timestampMs)))} after the first`,
      '',
      `sim at 0: simulate with every stream arriving at 0; sim replay: simulate with each arriving when the server ` +
        `got it; server: its own vllm:* metrics over the burst; client: measured here (TTFT from the request's start)`,
      `${''.padEnd(14)}${COLUMNS.map((c) => c.padStart(c.startsWith('vs') ? 13 : 12)).join('')}`,
    ].join('\n') + '\n',
  );
  process.stdout.write(
    row('TTFT mean ms', {
      atOnce: atOnce.ttft_ms.mean,
      replayed: replayed.ttft_ms.mean,
      server: serverTtftS && serverTtftS * 1000,
      client: measuredTtft.mean,
    }),
  );
  process.stdout.write(
    row('ITL mean ms', {
      atOnce: atOnce.itl_ms.mean,
      replayed: replayed.itl_ms.mean,
      server: serverItlS && serverItlS * 1000,
      client: measuredItl.mean,
    }),
  );
  process.stdout.write(
    row('ITL p99 ms', {
      atOnce: atOnce.itl_ms.p99,
      replayed: replayed.itl_ms.p99,
      server: undefined,
      client: measuredItl.p99,
    }),
  );
  process.stdout.write(
    row(
      'output tok/s',
      {
        atOnce: atOnce.output_tokens_per_s,
        replayed: replayed.output_tokens_per_s,
        server: serverTokens / benchS,
        client: clientTokens / benchS,
      },
      0,
    ),
  );
  process.stdout.write(
    [
      '',
      `measured TTFT p50/p90/p99 ${dist(measuredTtft)} (replay ${dist(replayed.ttft_ms)}, at 0 ${dist(atOnce.ttft_ms)})`,
      `measured ITL  p50/p90/p99 ${dist(measuredItl)} (replay ${dist(replayed.itl_ms)}, at 0 ${dist(atOnce.itl_ms)})`,
      `tokens/s: client and server over the ${benchS.toFixed(2)} s from the first request to the last response ` +
        `(client counted ${clientTokens}, server ${serverTokens}); simulate over its simulated duration`,
      `ITL error against the replay ${pct(itlError)} (target ≤ 5 %: ${Math.abs(itlError) <= 0.05 ? 'met' : 'MISSED'})`,
      `CPU over the burst: server ${share(serverCpuMs)}, client ${share(clientCpuMs)} (near 100 %: that process is the limit)`,
      `server peak RSS ${rssKb === undefined ? 'n/a' : `${(rssKb / 1024).toFixed(1)} MiB`}` +
        `; step lag at the end ${ms(stepLagS === undefined ? undefined : stepLagS * 1000)}; ${lagWarnings} step-lag warning(s)`,
      `client event-loop delay p50/p99/max ${ms(loopLag.p50Ms)} / ${ms(loopLag.p99Ms)} / ${ms(loopLag.maxMs)}`,
      ...(profDir === undefined
        ? []
        : [`CPU profiles: ${join(profDir, 'server.cpuprofile')}, ${join(profDir, 'client.cpuprofile')}`]),
    ].join('\n') + '\n',
  );
}

await main();
