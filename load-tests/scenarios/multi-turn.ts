/**
 * `multi-turn`: N users × T turns with a shared system prompt, think time between turns, each turn
 * resending the whole conversation — against one target, reported per turn so the effect of the
 * prefix cache on later turns is visible. The workload is shared with `cache-strategies`.
 */
import { performance } from 'node:perf_hooks';
import { createChatClient, warmUp } from '../lib/chat-client.js';
import { lineChart } from '../lib/charts.js';
import { startLoopLagMonitor } from '../lib/loop-lag.js';
import { aggregate, type RequestRecord, type RunMetrics } from '../lib/metrics.js';
import { metricTable, runChecks } from '../lib/metrics-table.js';
import { createProgress } from '../lib/progress.js';
import { num, type Check } from '../lib/report.js';
import { openTarget, type Scenario, type ScenarioContext, type StartedTarget } from '../lib/scenario.js';
import { runSessions, type SessionWorkload } from '../lib/sessions.js';

/** The multi-turn workload in simulated ms (think time is divided by the target's time scale). */
export function multiTurnWorkload(ctx: ScenarioContext): SessionWorkload {
  return {
    users: ctx.quick ? 8 : 24,
    turns: ctx.quick ? 3 : 5,
    systemTokens: 2000,
    sharedSystemPrompt: true,
    inputTokens: 200,
    outputTokens: 64,
    thinkTimeMs: ctx.quick ? 1000 : 2000,
    seed: ctx.seed,
  };
}

/** One line describing the workload, for report notes. */
export function describeWorkload(w: SessionWorkload): string {
  return (
    `${w.users} users × ${w.turns} turns; a ${w.systemTokens}-token system prompt ` +
    `${w.sharedSystemPrompt ? 'shared by every user' : 'per user'}; ${w.inputTokens} new user tokens and ` +
    `${w.outputTokens} output tokens per turn; exponential think time (mean ${w.thinkTimeMs} ms simulated) ` +
    'between turns; every turn resends the whole conversation including the previous answers.'
  );
}

/** Runs the workload against a started target; the records' times are wall times. */
export async function runMultiTurn(
  ctx: ScenarioContext,
  started: StartedTarget,
  w: SessionWorkload,
  label: string,
): Promise<RequestRecord[]> {
  const client = createChatClient(started.target, { timeoutMs: 120_000 });
  const progress = createProgress(label, w.users * w.turns, ctx.progress);
  try {
    await warmUp(client);
    return await runSessions({
      client,
      workload: { ...w, thinkTimeMs: w.thinkTimeMs / started.timeScale },
      deadlineMs: performance.now() + (ctx.quick ? 30_000 : 300_000),
      progress,
    });
  } finally {
    progress.finish();
    client.close();
  }
}

/** Metrics per turn index. */
export function perTurn(records: readonly RequestRecord[], turns: number, timeScale: number): RunMetrics[] {
  return Array.from({ length: turns }, (_, t) =>
    aggregate(
      records.filter((r) => r.turn === t),
      timeScale,
    ),
  );
}

/**
 * What the per-turn table says, from its `1` and `later` rows: whether later turns, which resend a
 * longer history, came back faster than first turns and how much more of them the cache served.
 */
export function multiTurnConclusion(first: RunMetrics, later: RunMetrics): string {
  const faster = later.ttftMs.mean < first.ttftMs.mean;
  const moreHits = later.cacheHitRate > first.cacheHitRate;
  return (
    `TTFT mean: first turn ${num(first.ttftMs.mean)} ms, later turns ${num(later.ttftMs.mean)} ms; prefix-cache ` +
    `hit rate (Σ cached_tokens / Σ prompt_tokens): first turn ${num(first.cacheHitRate * 100)} %, later turns ` +
    `${num(later.cacheHitRate * 100)} %. ` +
    (faster && moreHits
      ? 'Later turns resend a longer history yet start sooner: the prefix cache serves the part already seen.'
      : faster
        ? 'Later turns start sooner without a higher hit rate: the difference is load, not the cache.'
        : 'Later turns, with their longer history, are not faster here: the cache does not make up for it.')
  );
}

export const multiTurn: Scenario = {
  name: 'multi-turn',
  summary:
    'N users × T turns resending their history, shared system prompt, think time; per-turn TTFT and hits',
  async run(ctx) {
    const w = multiTurnWorkload(ctx);
    const started = await openTarget(ctx, { 'time-scale': 5 });
    const lag = startLoopLagMonitor();
    let records: RequestRecord[];
    try {
      records = await runMultiTurn(ctx, started, w, 'multi-turn');
    } finally {
      await started.stop();
    }
    const clientLoopLag = lag.stop();
    const ts = started.timeScale;
    const all = aggregate(records, ts);
    const turns = perTurn(records, w.turns, ts);
    const first = turns[0]!;
    const later = aggregate(
      records.filter((r) => r.turn > 0),
      ts,
    );
    const checks: Check[] = [...runChecks('all turns', all, w.outputTokens)];
    if (ctx.url === undefined) {
      checks.push({
        name: 'later turns hit the prefix cache more than first turns',
        ok: later.cacheHitRate > first.cacheHitRate,
        detail: `hit rate turn 1 ${num(first.cacheHitRate * 100)} %, later turns ${num(later.cacheHitRate * 100)} %`,
      });
    }
    return {
      scenario: 'multi-turn',
      title: 'Multi-turn sessions',
      quick: ctx.quick,
      target: started.description,
      notes: [
        describeWorkload(w),
        ts !== 1
          ? `nimsim ran at time scale ${ts}: every time here is the client's wall time × ${ts} (simulated time), ` +
            `every rate ÷ ${ts}.`
          : 'Times are wall-clock times.',
      ],
      conclusions: [multiTurnConclusion(first, later)],
      tables: [
        metricTable('Per turn', 'turn', [
          ...turns.map((m, t) => [String(t + 1), m] as const),
          [`later (2–${w.turns})`, later],
          ['all', all],
        ]),
      ],
      charts: [
        {
          file: 'ttft-per-turn.svg',
          spec: lineChart({
            title: 'TTFT per turn',
            rows: turns.flatMap((m, t) => [
              { turn: t + 1, stat: 'mean', 'TTFT ms': m.ttftMs.mean },
              { turn: t + 1, stat: 'p90', 'TTFT ms': m.ttftMs.p90 },
            ]),
            x: 'turn',
            xTitle: 'turn',
            y: 'TTFT ms',
            yTitle: 'TTFT (ms)',
            series: 'stat',
            integerX: true,
          }),
        },
      ],
      checks,
      clientLoopLag,
      data: { all, perTurn: turns, workload: w, timeScale: ts },
    };
  },
};
