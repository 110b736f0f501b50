/**
 * Issue 3: does `serve` at time scale 1 deliver the timing that `simulate` predicts?
 *
 *   npm run build && npx tsx load-tests/realtime-accuracy.ts [--streams 500] [--max-tokens 200]
 *     [--max-num-seqs 512]
 *
 * Starts nimsim as a child process (`--time-scale 1 --jitter 0`), opens all streams at once with a
 * node:http client that timestamps every SSE chunk, and computes per request
 *   TTFT = first content chunk − request start,
 *   ITL  = (last content chunk − first content chunk) / (completion tokens − 1)
 * (AIPerf's definitions, the same as the `simulate` report). Then it stops the server and runs
 * `runSimulation` in-process with the very same settings (concurrency = requests = streams, input
 * tokens = the prompt's exact count from POST /tokenize, output tokens = max_tokens) and prints
 * predicted vs measured means with the relative error (target ≤ 5 % for ITL), the server's peak
 * RSS, its own reported lag, and the client's event-loop delay p99.
 *
 * Prefix caching is off on both sides: every real request sends the same prompt (so later ones
 * would hit the cache), while `simulate` draws distinct random prompts.
 */
import http from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loadConfig, type RawSettings } from '../src/config/config.js';
import { flagOf, type SettingKey } from '../src/config/settings.js';
import { runSimulation } from '../src/simulate/simulate.js';
import { freePort, LOCALHOST, NIMSIM_CLI, peakRssKb, requireBuild, spawnServer } from './lib/child-server.js';
import { intArg } from './lib/int-arg.js';
import { relativeError, summarize } from './lib/percentiles.js';
import { streamRequest, type StreamResult } from './lib/sse-client.js';

const streams = intArg('streams', 500);
const maxTokens = intArg('max-tokens', 200);
const maxNumSeqs = intArg('max-num-seqs', 512);
const STREAM_TIMEOUT_MS = 90_000;
const MODEL = 'meta/llama-3.1-8b-instruct';
const MESSAGES = [
  {
    role: 'user',
    content:
      'Explain in plain words how continuous batching lets an inference server share one GPU ' +
      'between many concurrent requests, and why the time between tokens grows with the batch.',
  },
];

/** The settings both sides run with; the rest are defaults (or the same environment). */
const SETTINGS: RawSettings = {
  timeScale: '1',
  jitter: '0',
  seed: '0',
  maxNumSeqs: String(maxNumSeqs),
  enableKvCacheReuse: '0',
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

/** `[sum, count]` of a histogram in Prometheus text (sum in its unit, seconds); zeros if absent. */
function histogramTotals(metricsText: string, name: string): [number, number] {
  const value = (suffix: string) => {
    const m = new RegExp(`^${name}${suffix}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(metricsText);
    return m ? Number(m[1]) : 0;
  };
  return [value('_sum'), value('_count')];
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

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} %`;
const ms = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(2)} ms`);

async function main(): Promise<void> {
  requireBuild();
  const port = await freePort();
  const args = [
    NIMSIM_CLI,
    'serve',
    '--port',
    String(port),
    '--log-level',
    'WARNING',
    ...settingFlags(SETTINGS),
  ];
  const server = await spawnServer({ name: 'nimsim', port, nodeArgs: args, readyPath: '/v1/health/ready' });
  let results: StreamResult[];
  let wallS: number;
  let metricsBefore: string;
  let metricsText: string;
  let rssKb: number | undefined;
  let promptTokens: number;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  try {
    ({ count: promptTokens } = await postJson<{ count: number }>(port, '/tokenize', {
      model: MODEL,
      messages: MESSAGES,
    }));
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    const request = (tokens: number) =>
      streamRequest({
        host: LOCALHOST,
        port,
        path: '/v1/chat/completions',
        agent,
        timeoutMs: STREAM_TIMEOUT_MS,
        body: JSON.stringify({
          model: MODEL,
          messages: MESSAGES,
          max_tokens: tokens,
          ignore_eos: true,
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
    // Warm both processes' code paths (JIT) before the measured burst.
    await Promise.all(Array.from({ length: 8 }, () => request(8)));
    process.stdout.write(
      `realtime-accuracy: ${streams} concurrent streams × ${maxTokens} tokens, prompt ${promptTokens} tokens, ` +
        `max-num-seqs ${maxNumSeqs}, server pid ${server.pid}\n`,
    );
    metricsBefore = await (await fetch(`http://${LOCALHOST}:${port}/metrics`)).text();
    loopDelay.enable();
    const t0 = performance.now();
    results = await Promise.all(Array.from({ length: streams }, () => request(maxTokens)));
    wallS = (performance.now() - t0) / 1000;
    loopDelay.disable();
    agent.destroy();
    metricsText = await (await fetch(`http://${LOCALHOST}:${port}/metrics`)).text();
    rssKb = peakRssKb(server.pid);
  } finally {
    await server.stop();
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

  const config = loadConfig(process.env, SETTINGS);
  const predicted = runSimulation(config, {
    concurrency: streams,
    requests: streams,
    inputTokens: promptTokens,
    outputTokens: maxTokens,
    sharedPrefixTokens: 0,
    turns: 1,
    thinkTimeMs: 0,
  });

  // Server-side means over the measured burst only (the warm-up requests are subtracted).
  const serverItlS = histogramMeanBetween(metricsBefore, metricsText, 'vllm:inter_token_latency_seconds');
  const serverTtftS = histogramMeanBetween(metricsBefore, metricsText, 'vllm:time_to_first_token_seconds');
  const stepLagS = gaugeValue(metricsText, 'nimsim_engine_step_lag_seconds');
  const row = (name: string, p: number, m: number, server: number | undefined) =>
    `${name.padEnd(10)}${p.toFixed(2).padStart(12)}${m.toFixed(2).padStart(12)}${pct(relativeError(m, p)).padStart(11)}` +
    `${(server === undefined ? 'n/a' : (server * 1000).toFixed(2)).padStart(14)}\n`;
  const itlError = relativeError(measuredItl.mean, predicted.itl_ms.mean);
  process.stdout.write(
    [
      `\ncompleted ${ok.length}/${streams} streams in ${wallS.toFixed(2)} s wall` +
        (failed.length > 0 ? ` (${failed.length} failed, first: ${failed[0]!.error ?? 'no [DONE]'})` : '') +
        `; simulated duration ${predicted.duration_s.toFixed(2)} s`,
      `content chunks per stream: mean ${chunks.mean.toFixed(1)}, min…max ${Math.min(...ok.map((r) => r.contentChunkMs.length))}…${chunks.max}`,
      '',
      `${'mean'.padEnd(10)}${'predicted'.padStart(12)}${'measured'.padStart(12)}${'error'.padStart(11)}${'server-side'.padStart(14)}`,
    ].join('\n') + '\n',
  );
  process.stdout.write(row('TTFT ms', predicted.ttft_ms.mean, measuredTtft.mean, serverTtftS));
  process.stdout.write(row('ITL ms', predicted.itl_ms.mean, measuredItl.mean, serverItlS));
  process.stdout.write(
    [
      '',
      `measured TTFT p50/p90/p99 ${ms(measuredTtft.p50)} / ${ms(measuredTtft.p90)} / ${ms(measuredTtft.p99)}` +
        ` (predicted ${ms(predicted.ttft_ms.p50)} / ${ms(predicted.ttft_ms.p90)} / ${ms(predicted.ttft_ms.p99)})`,
      `measured ITL  p50/p90/p99 ${ms(measuredItl.p50)} / ${ms(measuredItl.p90)} / ${ms(measuredItl.p99)}` +
        ` (predicted ${ms(predicted.itl_ms.p50)} / ${ms(predicted.itl_ms.p90)} / ${ms(predicted.itl_ms.p99)})`,
      `response headers (request accepted) after start p50/p90/p99/max ${ms(accepted.p50)} / ${ms(accepted.p90)} / ` +
        `${ms(accepted.p99)} / ${ms(accepted.max)} (simulate: all arrive at 0 ms)`,
      `ITL error ${pct(itlError)} (target ≤ 5 %: ${Math.abs(itlError) <= 0.05 ? 'met' : 'MISSED'})`,
      `server peak RSS ${rssKb === undefined ? 'n/a' : `${(rssKb / 1024).toFixed(1)} MiB`}` +
        `; server step lag at the end ${ms(stepLagS === undefined ? undefined : stepLagS * 1000)}`,
      `client event-loop delay p99 ${ms(loopDelay.percentile(99) / 1e6)} (max ${ms(loopDelay.max / 1e6)})`,
    ].join('\n') + '\n',
  );
}

await main();
