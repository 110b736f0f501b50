/**
 * `sweep`: closed-loop concurrency 1, 2, 4 … 256 with synthetic prompts of exact length — the
 * shape of NIM's published benchmark tables (TTFT, ITL and throughput against concurrency).
 */
import { performance } from 'node:perf_hooks';
import { createChatClient, warmUp } from '../lib/chat-client.js';
import { lineChart } from '../lib/charts.js';
import { startLoopLagMonitor } from '../lib/loop-lag.js';
import { aggregate } from '../lib/metrics.js';
import { medianTokensPerSPerUser, runChecks } from '../lib/metrics-table.js';
import { createProgress } from '../lib/progress.js';
import { promptText } from '../lib/prompts.js';
import { num, type Check } from '../lib/report.js';
import { runClosedLoop } from '../lib/runner.js';
import { getText, openTarget, promValue, type Scenario } from '../lib/scenario.js';
import { sweepSections, type SweepLevel } from './sweep-report.js';

export const sweep: Scenario = {
  name: 'sweep',
  summary: 'closed loop at concurrency 1…256 (doubling); TTFT, ITL and throughput against concurrency',
  async run(ctx) {
    const levels = ctx.quick ? [1, 4, 16, 64] : [1, 2, 4, 8, 16, 32, 64, 128, 256];
    const inputTokens = ctx.quick ? 200 : 1000;
    const outputTokens = ctx.quick ? 64 : 200;
    // Real time: at 256 streams the token rate is already what one Node process on this machine
    // can stream; a faster time scale would measure the server's CPU, not the simulated GPU.
    const started = await openTarget(ctx, { 'time-scale': 1, 'max-num-seqs': 256 });
    const lag = startLoopLagMonitor();
    const results: SweepLevel[] = [];
    try {
      const client = createChatClient(started.target, { timeoutMs: 300_000 });
      await warmUp(client);
      for (const c of levels) {
        const count = Math.max(2 * c, ctx.quick ? 8 : 16);
        const progress = createProgress(`sweep c=${c}`, count, ctx.progress);
        const records = await runClosedLoop({
          count,
          concurrency: c,
          deadlineMs: performance.now() + (ctx.quick ? 15_000 : 120_000),
          progress,
          send: (i) =>
            client.send({
              messages: [{ role: 'user', content: promptText(inputTokens, ctx.seed, 'sweep', c, i) }],
              maxTokens: outputTokens,
            }),
        });
        progress.finish();
        const metricsText = await getText(started.target, '/metrics');
        const lagS = promValue(metricsText, 'nimsim_engine_step_lag_seconds');
        results.push({
          concurrency: c,
          metrics: aggregate(records, started.timeScale),
          stepLagMs: lagS === undefined ? undefined : lagS * 1000,
        });
      }
      client.close();
    } finally {
      await started.stop();
    }
    const clientLoopLag = lag.stop();
    const checks: Check[] = results.flatMap((r) => runChecks(`c=${r.concurrency}`, r.metrics, outputTokens));
    const lo = results[0]!;
    const hi = results[results.length - 1]!;
    checks.push({
      name: 'throughput grows with concurrency',
      ok: hi.metrics.outputTokensPerS > lo.metrics.outputTokensPerS,
      detail: `${num(lo.metrics.outputTokensPerS, 0)} tok/s at c=${lo.concurrency} → ${num(hi.metrics.outputTokensPerS, 0)} at c=${hi.concurrency}`,
    });
    const sections = sweepSections(results);
    const rows = results.flatMap((r) => [
      { concurrency: r.concurrency, stat: 'mean', 'TTFT ms': r.metrics.ttftMs.mean },
      { concurrency: r.concurrency, stat: 'p90', 'TTFT ms': r.metrics.ttftMs.p90 },
    ]);
    return {
      scenario: 'sweep',
      title: 'Concurrency sweep',
      quick: ctx.quick,
      target: started.description,
      notes: [
        `Synthetic prompts of exactly ${inputTokens} Llama 3 tokens, ${outputTokens} output tokens (ignore_eos), ` +
          `closed loop at each concurrency for max(2 × concurrency, ${ctx.quick ? 8 : 16}) requests, one after another ` +
          'on the same server.',
        sections.cacheNote,
        started.timeScale !== 1
          ? `Times are wall × ${started.timeScale} (simulated).`
          : 'Times are wall-clock; nimsim runs in real time (time scale 1).',
      ],
      conclusions: sections.conclusions,
      tables: [sections.table],
      charts: [
        {
          file: 'ttft-vs-concurrency.svg',
          spec: lineChart({
            title: 'TTFT against concurrency',
            rows,
            x: 'concurrency',
            xTitle: 'concurrency',
            y: 'TTFT ms',
            yTitle: 'TTFT (ms)',
            series: 'stat',
            logX: true,
          }),
        },
        {
          file: 'throughput-vs-concurrency.svg',
          spec: lineChart({
            title: 'Output token throughput against concurrency',
            rows: results.flatMap((r) => [
              { concurrency: r.concurrency, metric: 'total tok/s', value: r.metrics.outputTokensPerS },
              {
                concurrency: r.concurrency,
                metric: 'tok/s/user p50 × concurrency',
                value: medianTokensPerSPerUser(r.metrics) * r.concurrency,
              },
            ]),
            x: 'concurrency',
            xTitle: 'concurrency',
            y: 'value',
            yTitle: 'output tokens/s',
            series: 'metric',
            logX: true,
          }),
        },
        {
          file: 'itl-vs-concurrency.svg',
          spec: lineChart({
            title: 'ITL against concurrency',
            rows: results.flatMap((r) => [
              { concurrency: r.concurrency, stat: 'p50', 'ITL ms': r.metrics.itlMs.p50 },
              { concurrency: r.concurrency, stat: 'p99', 'ITL ms': r.metrics.itlMs.p99 },
            ]),
            x: 'concurrency',
            xTitle: 'concurrency',
            y: 'ITL ms',
            yTitle: 'ITL per request (ms)',
            series: 'stat',
            logX: true,
          }),
        },
      ],
      checks,
      clientLoopLag,
      data: { levels: results, inputTokens, outputTokens, timeScale: started.timeScale },
    };
  },
};
