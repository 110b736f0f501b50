/**
 * `smoke`: a short closed loop and a short Poisson run against one target — does the whole kit
 * (client, metrics, report, charts) work, and is the endpoint sane?
 */
import { performance } from 'node:perf_hooks';
import { poissonArrivalsMs } from '../lib/arrivals.js';
import { createChatClient, warmUp } from '../lib/chat-client.js';
import { lineChart } from '../lib/charts.js';
import { startLoopLagMonitor } from '../lib/loop-lag.js';
import { aggregate, requestMetrics } from '../lib/metrics.js';
import { metricTable, runChecks } from '../lib/metrics-table.js';
import { createProgress } from '../lib/progress.js';
import { promptText } from '../lib/prompts.js';
import { num } from '../lib/report.js';
import { runClosedLoop, runOpenLoop } from '../lib/runner.js';
import { openTarget, type Scenario } from '../lib/scenario.js';

export const smoke: Scenario = {
  name: 'smoke',
  summary:
    'closed loop + Poisson arrivals, synthetic prompts of exact length; checks the endpoint and the kit',
  async run(ctx) {
    const requests = ctx.quick ? 24 : 200;
    const concurrency = ctx.quick ? 4 : 16;
    const ratePerS = ctx.quick ? 20 : 10;
    const inputTokens = 128;
    const outputTokens = 32;
    const started = await openTarget(ctx, { 'time-scale': 1 });
    const lag = startLoopLagMonitor();
    try {
      const client = createChatClient(started.target, { timeoutMs: 60_000 });
      await warmUp(client);
      const messages = (i: number) => [
        { role: 'user' as const, content: promptText(inputTokens, ctx.seed, 'smoke', i) },
      ];
      const deadlineMs = performance.now() + (ctx.quick ? 20_000 : 120_000);
      const p1 = createProgress('smoke closed loop', requests, ctx.progress);
      const closed = await runClosedLoop({
        count: requests,
        concurrency,
        deadlineMs,
        progress: p1,
        send: (i) => client.send({ messages: messages(i), maxTokens: outputTokens }),
      });
      p1.finish();
      const p2 = createProgress('smoke poisson', requests, ctx.progress);
      const open = await runOpenLoop({
        offsetsMs: poissonArrivalsMs(ratePerS, requests, ctx.seed).map((t) => t / started.timeScale),
        deadlineMs: performance.now() + (ctx.quick ? 20_000 : 120_000),
        progress: p2,
        send: (i) => client.send({ messages: messages(requests + i), maxTokens: outputTokens }),
      });
      p2.finish();
      client.close();
      const ts = started.timeScale;
      const mClosed = aggregate(closed, ts);
      const mOpen = aggregate(open, ts);
      const clientLoopLag = lag.stop();
      const ttftRows = closed
        .map((r, i) => ({ i, m: requestMetrics(r, ts) }))
        .filter((x) => x.m !== undefined)
        .map(({ i, m }) => ({ request: i, 'TTFT ms': m!.ttftMs, 'ITL ms': m!.itlMs ?? 0 }));
      return {
        scenario: 'smoke',
        title: 'Smoke: closed loop and Poisson arrivals',
        quick: ctx.quick,
        target: started.description,
        notes: [
          `Synthetic prompts of exactly ${inputTokens} Llama 3 tokens (one user message; the chat template ` +
            `adds its own, see "ISL billed"), ${outputTokens} output tokens (ignore_eos), streaming with ` +
            `include_usage. Closed loop: ${requests} requests at concurrency ${concurrency}. Open loop: ` +
            `${requests} Poisson arrivals at ${ratePerS} requests/s (seed ${ctx.seed}).`,
          'Metrics follow AIPerf: TTFT = first content chunk − request start; ITL = (last − first content ' +
            'chunk) / (output tokens − 1) with output tokens from usage; tok/s/user p50 = 1000 / ITL p50; ' +
            'throughputs over the benchmark duration (first request start → last response).',
        ],
        conclusions: [
          `The endpoint answered ${mClosed.succeeded + mOpen.succeeded}/${mClosed.requests + mOpen.requests} ` +
            `streams; at concurrency ${concurrency} TTFT p50 was ${num(mClosed.ttftMs.p50)} ms and ITL p50 ` +
            `${num(mClosed.itlMs.p50, 2)} ms.`,
        ],
        tables: [
          metricTable('Runs', 'run', [
            [`closed c=${concurrency}`, mClosed],
            [`poisson ${ratePerS}/s`, mOpen],
          ]),
        ],
        charts: [
          {
            file: 'ttft-per-request.svg',
            spec: lineChart({
              title: `TTFT per request (closed loop, c=${concurrency})`,
              rows: ttftRows,
              x: 'request',
              xTitle: 'request (in completion order)',
              y: 'TTFT ms',
              yTitle: 'TTFT (ms)',
              integerX: true,
            }),
          },
        ],
        checks: [
          ...runChecks('closed loop', mClosed, outputTokens),
          ...runChecks('poisson', mOpen, outputTokens),
          {
            name: 'billed ISL covers the prompt',
            ok: mClosed.promptTokens.count > 0 && mClosed.promptTokens.p50 >= inputTokens,
            detail: `usage.prompt_tokens p50 ${mClosed.promptTokens.p50} ≥ ${inputTokens} content tokens`,
          },
        ],
        clientLoopLag,
        data: { closed: mClosed, poisson: mOpen },
      };
    } finally {
      await started.stop();
    }
  },
};
