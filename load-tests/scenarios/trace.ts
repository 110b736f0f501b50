/**
 * `trace`: replays a JSONL trace (src/simulate/trace.ts; default traces/sample.jsonl, or `--trace FILE`) in
 * open loop: each line at its timestamp, a session's turns resending its history.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createChatClient, warmUp } from '../lib/chat-client.js';
import { lineChart } from '../lib/charts.js';
import { startLoopLagMonitor } from '../lib/loop-lag.js';
import { aggregate, requestMetrics } from '../lib/metrics.js';
import { medianTokensPerSPerUser, metricTable, runChecks } from '../lib/metrics-table.js';
import { createProgress } from '../lib/progress.js';
import { num } from '../lib/report.js';
import { openTarget, type Scenario } from '../lib/scenario.js';
import { runTrace } from '../lib/sessions.js';
import { parseTrace } from '../../src/simulate/trace.js';

const SAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', 'traces', 'sample.jsonl');

export const trace: Scenario = {
  name: 'trace',
  summary: 'replay a JSONL trace (timestamp, session_id, input_length, output_length); --trace FILE',
  async run(ctx) {
    const path = ctx.tracePath ?? SAMPLE;
    const entries = parseTrace(await readFile(path, 'utf8'));
    const started = await openTarget(ctx, { 'time-scale': ctx.quick ? 4 : 1 });
    const lag = startLoopLagMonitor();
    let records;
    try {
      const client = createChatClient(started.target, { timeoutMs: 300_000 });
      await warmUp(client);
      const progress = createProgress('trace', entries.length, ctx.progress);
      records = await runTrace({
        client,
        entries,
        timeScale: started.timeScale,
        seed: ctx.seed,
        deadlineMs: performance.now() + (ctx.quick ? 30_000 : 600_000),
        progress,
      });
      progress.finish();
      client.close();
    } finally {
      await started.stop();
    }
    const clientLoopLag = lag.stop();
    const ts = started.timeScale;
    const m = aggregate(records, ts);
    const sessions = new Set(entries.map((e) => e.sessionId)).size;
    const points = records
      .map((r) => ({ r, m: requestMetrics(r, ts) }))
      .filter((x) => x.m !== undefined)
      .map(({ r, m: rm }) => ({
        'prompt tokens': r.promptTokens ?? 0,
        'TTFT ms': rm!.ttftMs,
        turn: r.turn === 0 ? 'first turn' : 'later turn',
      }));
    return {
      scenario: 'trace',
      title: 'Trace replay',
      quick: ctx.quick,
      target: started.description,
      notes: [
        `Trace ${ctx.tracePath ?? 'traces/sample.jsonl'}: ${entries.length} requests in ${sessions} sessions; each ` +
          'line is sent at its timestamp (or when its session’s previous turn finished, if later), resending ' +
          'the session’s history plus input_length new tokens.',
        ts !== 1 ? `Trace timestamps and all times are in simulated ms (nimsim at time scale ${ts}).` : '',
      ].filter((n) => n !== ''),
      conclusions: [
        `${m.succeeded}/${m.requests} requests ok; TTFT p50 ${num(m.ttftMs.p50)} ms, p99 ${num(m.ttftMs.p99)} ms; ` +
          `ITL p50 ${num(m.itlMs.p50, 2)} ms (${num(medianTokensPerSPerUser(m))} tok/s for the median user); ` +
          `prefix-cache hit rate ${num(m.cacheHitRate * 100)} %.`,
      ],
      tables: [metricTable('Replay', 'run', [['trace', m]])],
      charts: [
        {
          file: 'ttft-vs-prompt.svg',
          spec: lineChart({
            title: 'TTFT against billed prompt length',
            rows: points,
            x: 'prompt tokens',
            xTitle: 'usage.prompt_tokens',
            y: 'TTFT ms',
            yTitle: 'TTFT (ms)',
            series: 'turn',
            points: true,
          }),
        },
      ],
      checks: runChecks('trace', m),
      clientLoopLag,
      data: { metrics: m, entries: entries.length, sessions },
    };
  },
};
