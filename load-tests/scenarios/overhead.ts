/**
 * `overhead`: raw HTTP throughput of the non-streaming chat route under autocannon, nimsim
 * (time scale 0, so only its own CPU cost is left) against a bare Hono handler, same run.
 */
import { groupedBarChart } from '../lib/charts.js';
import { startLoopLagMonitor } from '../lib/loop-lag.js';
import { runOverheadBench } from '../lib/overhead-bench.js';
import { num } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';

export const overhead: Scenario = {
  name: 'overhead',
  summary: 'autocannon on the non-streaming chat route: nimsim (time scale 0) vs a bare Hono handler',
  async run(ctx) {
    if (ctx.url !== undefined) throw new Error('overhead starts its own servers; drop --url');
    const connections = 32;
    const durationS = ctx.quick ? 3 : 10;
    const rounds = ctx.quick ? 1 : 2;
    const warmupS = ctx.quick ? 1 : 2;
    const lag = startLoopLagMonitor();
    const result = await runOverheadBench({
      connections,
      durationS,
      rounds,
      warmupS,
      onRun: (r) => ctx.log(`overhead: ${r.target} ${r.requestsPerS.toFixed(0)} req/s`),
    });
    const clientLoopLag = lag.stop();
    const failures = result.runs.reduce((a, r) => a + r.failures, 0);
    return {
      scenario: 'overhead',
      title: 'nimsim vs a bare Hono handler (raw HTTP, non-streaming)',
      quick: ctx.quick,
      target: 'nimsim serve --time-scale 0 and load-tests/lib/bare-hono.ts, child processes on loopback',
      notes: [
        `autocannon, ${connections} connections, ${durationS} s per run, ${rounds} round(s) alternating ` +
          `nimsim/bare after a ${warmupS} s warm-up of each; body: one short user message, max_tokens 16, ` +
          'ignore_eos. autocannon runs in this process, on the same 2 cores as both servers.',
      ],
      conclusions: [
        `nimsim answers ${num(result.mean.nimsim.requestsPerS, 0)} requests/s against the bare handler's ` +
          `${num(result.mean.bare.requestsPerS, 0)} (ratio ${num(result.ratio, 3)}): this is the ceiling of ` +
          'non-streaming requests one nimsim process can simulate on this machine, independent of the simulated GPU.',
      ],
      tables: [
        {
          title: 'Runs',
          columns: ['run', 'target', 'req/s', 'p50 ms', 'p99 ms', 'failures'],
          rows: result.runs.map((r, i) => [
            i + 1,
            r.target,
            num(r.requestsPerS, 0),
            num(r.p50Ms, 0),
            num(r.p99Ms, 0),
            r.failures,
          ]),
        },
      ],
      charts: [
        {
          file: 'requests-per-s.svg',
          spec: groupedBarChart({
            title: 'Requests/s, non-streaming chat',
            rows: result.runs.map((r, i) => ({
              target: r.target,
              run: `run ${i + 1}`,
              'req/s': r.requestsPerS,
            })),
            category: 'target',
            categoryTitle: 'server',
            group: 'run',
            value: 'req/s',
            valueTitle: 'requests/s',
          }),
        },
      ],
      checks: [
        { name: 'no failed requests', ok: failures === 0, detail: `${failures} failures` },
        {
          name: 'both servers answered',
          ok: result.mean.nimsim.requestsPerS > 0 && result.mean.bare.requestsPerS > 0,
          detail: `nimsim ${num(result.mean.nimsim.requestsPerS, 0)} req/s, bare ${num(result.mean.bare.requestsPerS, 0)} req/s`,
        },
      ],
      clientLoopLag,
      data: result,
    };
  },
};
