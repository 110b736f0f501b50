/**
 * `poisson`: open-loop Poisson arrivals (seeded) at increasing request rates — how latency behaves
 * when users do not wait for each other, unlike a closed loop.
 */
import { performance } from 'node:perf_hooks';
import { poissonArrivalsMs } from '../lib/arrivals.js';
import { createChatClient, warmUp } from '../lib/chat-client.js';
import { lineChart } from '../lib/charts.js';
import { startLoopLagMonitor } from '../lib/loop-lag.js';
import { aggregate, type RunMetrics } from '../lib/metrics.js';
import { metricTable, runChecks } from '../lib/metrics-table.js';
import { createProgress } from '../lib/progress.js';
import { promptText } from '../lib/prompts.js';
import { runOpenLoop } from '../lib/runner.js';
import { trendText } from '../lib/trend-text.js';
import { openTarget, type Scenario } from '../lib/scenario.js';

export const poisson: Scenario = {
  name: 'poisson',
  summary: 'open loop: Poisson arrivals (seeded) at several request rates; latency against offered load',
  async run(ctx) {
    const rates = ctx.quick ? [2, 8, 32] : [1, 2, 4, 8, 16, 32, 64];
    const inputTokens = 500;
    const outputTokens = 128;
    const started = await openTarget(ctx, { 'time-scale': 1 });
    const lag = startLoopLagMonitor();
    const results: { ratePerS: number; metrics: RunMetrics }[] = [];
    try {
      const client = createChatClient(started.target, { timeoutMs: 300_000 });
      await warmUp(client);
      for (const rate of rates) {
        // About 10 s of simulated arrivals per rate (3 s when quick), at least 8 requests.
        const count = Math.max(8, Math.round(rate * (ctx.quick ? 3 : 10)));
        const progress = createProgress(`poisson ${rate}/s`, count, ctx.progress);
        const records = await runOpenLoop({
          offsetsMs: poissonArrivalsMs(rate, count, ctx.seed).map((t) => t / started.timeScale),
          deadlineMs: performance.now() + (ctx.quick ? 15_000 : 60_000),
          progress,
          send: (i) =>
            client.send({
              messages: [{ role: 'user', content: promptText(inputTokens, ctx.seed, 'poisson', rate, i) }],
              maxTokens: outputTokens,
            }),
        });
        progress.finish();
        results.push({ ratePerS: rate, metrics: aggregate(records, started.timeScale) });
      }
      client.close();
    } finally {
      await started.stop();
    }
    const clientLoopLag = lag.stop();
    return {
      scenario: 'poisson',
      title: 'Poisson arrivals at fixed request rates',
      quick: ctx.quick,
      target: started.description,
      notes: [
        `Open loop: requests arrive as a Poisson process (exponential gaps, seed ${ctx.seed}) at each rate, ` +
          `${inputTokens}-token prompts, ${outputTokens} output tokens; a request is sent on schedule whether ` +
          'or not earlier ones finished, so queueing shows up in TTFT.',
      ],
      conclusions: [
        `TTFT p50 went from ${trendText(
          results.map((r) => ({ label: `${r.ratePerS}/s`, value: r.metrics.ttftMs.p50 })),
          1,
          ' ms',
        )}; TTFT p90 from ${trendText(
          results.map((r) => ({ label: `${r.ratePerS}/s`, value: r.metrics.ttftMs.p90 })),
          1,
          ' ms',
        )}. A rate the server cannot sustain shows as TTFT that keeps ` +
          'growing with the length of the run (requests queue); achieved req/s of a short run is below the ' +
          'offered rate anyway, because the duration includes the last requests’ completion.',
      ],
      tables: [
        metricTable(
          'Per offered rate',
          'offered req/s',
          results.map((r) => [r.ratePerS, r.metrics] as const),
        ),
      ],
      charts: [
        {
          file: 'ttft-vs-rate.svg',
          spec: lineChart({
            title: 'TTFT against offered request rate',
            rows: results.flatMap((r) => [
              { rate: r.ratePerS, stat: 'p50', 'TTFT ms': r.metrics.ttftMs.p50 },
              { rate: r.ratePerS, stat: 'p90', 'TTFT ms': r.metrics.ttftMs.p90 },
            ]),
            x: 'rate',
            xTitle: 'offered requests/s',
            y: 'TTFT ms',
            yTitle: 'TTFT (ms)',
            series: 'stat',
            logX: true,
          }),
        },
      ],
      checks: results.flatMap((r) => runChecks(`${r.ratePerS}/s`, r.metrics, outputTokens)),
      clientLoopLag,
      data: { rates: results },
    };
  },
};
