/**
 * `streams-1k`: the load generator's own overhead. Opens 1,024 streams at once from this one
 * process against nimsim (time scale 1, max-num-seqs 1024, short outputs) and reports the client's
 * event-loop delay while they run — if it stays small, chunk timestamps are taken on time — and
 * compares the client's ITL with the server's own `vllm:inter_token_latency_seconds` over the burst.
 */
import { performance } from 'node:perf_hooks';
import { createChatClient } from '../lib/chat-client.js';
import { lineChart } from '../lib/charts.js';
import { peakRssKb } from '../lib/child-server.js';
import { startLoopLagMonitor } from '../lib/loop-lag.js';
import { aggregate, requestMetrics } from '../lib/metrics.js';
import { metricTable, runChecks } from '../lib/metrics-table.js';
import { createProgress } from '../lib/progress.js';
import { promptText } from '../lib/prompts.js';
import { num } from '../lib/report.js';
import { getText, startNimsim, type Scenario } from '../lib/scenario.js';
import type { StreamResult } from '../lib/sse-client.js';

/** `[sum, count]` of a Prometheus histogram; zeros if absent. */
function histogram(text: string | undefined, name: string): [number, number] {
  const value = (suffix: string) => {
    const m = new RegExp(`^${name.replace(/:/g, '\\:')}${suffix}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(
      text ?? '',
    );
    return m ? Number(m[1]) : 0;
  };
  return [value('_sum'), value('_count')];
}

/**
 * The most streams that were receiving tokens at the same moment (between their first content
 * chunk and their end), from a sweep over those intervals.
 */
function maxStreaming(records: readonly StreamResult[]): number {
  const events: [number, number][] = [];
  for (const r of records) {
    const first = r.contentChunkMs[0];
    if (first === undefined) continue;
    events.push([first, 1], [r.endAtMs, -1]);
  }
  // Ends before starts at the same instant, so touching intervals do not count as overlapping.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of events) {
    open += d;
    peak = Math.max(peak, open);
  }
  return peak;
}

/**
 * How far the client's mean ITL may be from the server's own before its timestamps are suspect:
 * a client that falls behind stamps chunks late and in bunches, which shows up here first.
 */
const MAX_ITL_GAP = 0.05;

export const streams1k: Scenario = {
  name: 'streams-1k',
  summary:
    "1,024 concurrent streams from one process; the load generator's event-loop lag and ITL vs the server's",
  async run(ctx) {
    if (ctx.url !== undefined) throw new Error('streams-1k starts its own nimsim; drop --url');
    const streams = 1024;
    // Long enough that every stream is still receiving tokens when the last one is admitted.
    const outputTokens = ctx.quick ? 128 : 256;
    const inputTokens = 64;
    const started = await startNimsim(ctx, {
      'time-scale': 1,
      'max-num-seqs': streams,
      'max-waiting': 4096,
      'enable-kv-cache-reuse': 0,
      jitter: 0,
    });
    let records;
    let before: string | undefined;
    let after: string | undefined;
    let rssKb: number | undefined;
    let lagResult;
    let wallS: number;
    // CPU time of this process over the burst ÷ wall time (1 = one core busy all along).
    let clientCpuShare: number;
    try {
      const client = createChatClient(started.target, { timeoutMs: 120_000 });
      // Prompts are built before the burst: the measured phase is sending and reading only.
      const prompts = Array.from({ length: streams }, (_, i) =>
        promptText(inputTokens, ctx.seed, 'streams', i),
      );
      const send = (i: number, tokens: number) =>
        client.send({
          messages: [
            { role: 'user', content: prompts[i] ?? promptText(inputTokens, ctx.seed, 'warm-up', i) },
          ],
          maxTokens: tokens,
        });
      // Warm both processes' code paths before the measured burst.
      await Promise.all(Array.from({ length: 16 }, (_, i) => send(streams + i, 8)));
      before = await getText(started.target, '/metrics');
      const progress = createProgress('streams-1k', streams, ctx.progress);
      let done = 0;
      const lag = startLoopLagMonitor();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      records = await Promise.all(
        Array.from({ length: streams }, (_, i) =>
          send(i, outputTokens).then((r) => {
            progress.update(++done);
            return r;
          }),
        ),
      );
      wallS = (performance.now() - t0) / 1000;
      lagResult = lag.stop();
      const cpu = process.cpuUsage(cpu0);
      clientCpuShare = (cpu.user + cpu.system) / 1000 / (wallS * 1000);
      progress.finish();
      after = await getText(started.target, '/metrics');
      rssKb = started.server === undefined ? undefined : peakRssKb(started.server.pid);
      client.close();
    } finally {
      await started.stop();
    }
    const m = aggregate(records, 1);
    const [s0, c0] = histogram(before, 'vllm:inter_token_latency_seconds');
    const [s1, c1] = histogram(after, 'vllm:inter_token_latency_seconds');
    const serverItlMs = c1 > c0 ? ((s1 - s0) / (c1 - c0)) * 1000 : undefined;
    const concurrentAtPeak = maxStreaming(records);
    const itlPoints = records
      .map((r, i) => ({ i, rm: requestMetrics(r, 1) }))
      .filter((x) => x.rm?.itlMs !== undefined)
      .map(({ i, rm }) => ({ stream: i, 'ITL ms': rm!.itlMs! }));
    const itlGap = serverItlMs === undefined ? undefined : (m.itlMs.mean - serverItlMs) / serverItlMs;
    return {
      scenario: 'streams-1k',
      title: 'Load generator overhead: 1,024 concurrent streams from one process',
      quick: ctx.quick,
      target: started.description,
      notes: [
        `${streams} streaming requests started at once (${inputTokens}-token prompts, ${outputTokens} output tokens, ` +
          'prefix caching off, jitter 0) after a 16-request warm-up; nimsim runs in real time with ' +
          `max-num-seqs ${streams}, so all streams are in one batch. Client and server share this machine's 2 cores.`,
        'The event-loop delay includes time the client process waited for a CPU: on a machine that is busier ' +
          'than its cores, a high p99 with a low client CPU share is the machine, not the load generator. ' +
          'The client event-loop delay is sampled (perf_hooks.monitorEventLoopDelay, 10 ms resolution) only over ' +
          'the burst; a chunk that arrives while the loop is blocked is timestamped late by up to that delay.',
      ],
      conclusions: [
        `${m.succeeded}/${streams} streams completed in ${num(wallS, 2)} s wall, up to ${concurrentAtPeak} of them ` +
          `receiving tokens at the same moment, the client using ${num(clientCpuShare * 100, 0)} % of one core; ` +
          `its event-loop delay was p50 ${num(lagResult.p50Ms)} ms, p99 ` +
          `${num(lagResult.p99Ms)} ms, max ${num(lagResult.maxMs)} ms.`,
        serverItlMs === undefined
          ? 'The server exposed no ITL histogram to compare with.'
          : `Client-measured ITL mean ${num(m.itlMs.mean, 2)} ms (AIPerf's per-request ITL, averaged over streams) ` +
            `vs the server's own ${num(serverItlMs, 2)} ms (vllm:inter_token_latency_seconds, averaged over every token gap) ` +
            `(${num((itlGap ?? 0) * 100)} %): the client's timestamps add little to what the server delivered.`,
      ],
      tables: [
        metricTable('Burst', 'run', [[`${streams} streams`, m]]),
        {
          title: 'Load generator',
          columns: [
            'most streaming at once',
            'client CPU %',
            'wall s',
            'loop delay p50 ms',
            'p99 ms',
            'max ms',
            'client ITL ms',
            'server ITL ms',
            'server peak RSS MiB',
          ],
          rows: [
            [
              concurrentAtPeak,
              num(clientCpuShare * 100, 0),
              num(wallS, 2),
              num(lagResult.p50Ms),
              num(lagResult.p99Ms),
              num(lagResult.maxMs),
              num(m.itlMs.mean, 2),
              serverItlMs === undefined ? 'n/a' : num(serverItlMs, 2),
              rssKb === undefined ? 'n/a' : num(rssKb / 1024),
            ],
          ],
        },
      ],
      charts: [
        {
          file: 'itl-per-stream.svg',
          spec: {
            ...lineChart({
              title: 'Client-measured ITL per stream',
              rows: itlPoints,
              x: 'stream',
              xTitle: 'stream',
              y: 'ITL ms',
              yTitle: 'ITL (ms)',
              integerX: true,
            }),
            mark: { type: 'point', size: 8 },
          },
        },
      ],
      checks: [
        ...runChecks('burst', m, outputTokens),
        {
          name: `client ITL within ${MAX_ITL_GAP * 100} % of the server's`,
          ok: itlGap !== undefined && Math.abs(itlGap) <= MAX_ITL_GAP,
          detail:
            `client ${num(m.itlMs.mean, 2)} ms, server ${serverItlMs === undefined ? 'n/a' : num(serverItlMs, 2)} ms; ` +
            `event-loop delay p99 ${num(lagResult.p99Ms)} ms`,
        },
      ],
      clientLoopLag: lagResult,
      data: { metrics: m, wallS, serverItlMs, concurrentAtPeak, clientCpuShare, loopLag: lagResult },
    };
  },
};
