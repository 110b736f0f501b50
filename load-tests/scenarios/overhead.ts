/**
 * `overhead`: raw HTTP throughput of the non-streaming chat route under autocannon, nimsim (time
 * scale 0, so only its own CPU cost is left) against a bare Hono handler, in alternating windows
 * against two servers that stay up, so a nimsim that slows down as it runs shows. Its check (the
 * CI's, with `--quick`) fails when nimsim's last window is below 0.8 × its first.
 */
import { lineChart } from '../lib/charts.js';
import { startLoopLagMonitor } from '../lib/loop-lag.js';
import { runOverheadBench } from '../lib/overhead-bench.js';
import { WINDOW_HEADER, windowLine } from '../lib/overhead-text.js';
import { SLOWDOWN_LIMIT, TARGET_STEADY_RATIO, TARGET_TREND, slowedDown } from '../lib/overhead-windows.js';
import { num } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';

/**
 * The quick run's windows: long and many enough that a nimsim whose requests get dearer as its
 * cache fills (the fall shows after some tens of thousands of requests) is past it by its last
 * window, short enough for CI — 2 × 4 × 5 s plus the warm-up and start-up, about 45 s. The
 * warm-up is a request count (enough for the JIT) that leaves the first window before the fall.
 */
const QUICK = { windows: 4, windowS: 5, warmupRequests: 5000 };
/** The full run: 60 s of load per server after the warm-up. */
const FULL = { windows: 6, windowS: 10, warmupRequests: 10_000 };

export const overhead: Scenario = {
  name: 'overhead',
  summary:
    'autocannon on the non-streaming chat route: nimsim (time scale 0) vs a bare Hono handler, alternating windows',
  async run(ctx) {
    if (ctx.url !== undefined) throw new Error('overhead starts its own servers; drop --url');
    const connections = 32;
    const { windows, windowS, warmupRequests } = ctx.quick ? QUICK : FULL;
    const lag = startLoopLagMonitor();
    ctx.log(`overhead: ${windows} windows of ${windowS} s per server\n${WINDOW_HEADER}`);
    const result = await runOverheadBench({
      connections,
      windowS,
      windows,
      warmupRequests,
      onWindow: (pair) => ctx.log(windowLine(pair)),
    });
    const clientLoopLag = lag.stop();
    const first = result.pairs[0]!;
    const last = result.pairs.at(-1)!;
    return {
      scenario: 'overhead',
      title: 'nimsim vs a bare Hono handler over time (raw HTTP, non-streaming)',
      quick: ctx.quick,
      target: 'nimsim serve --time-scale 0 and load-tests/lib/bare-hono.ts, child processes on loopback',
      notes: [
        `autocannon, ${connections} connections; ${windows} windows of ${windowS} s per server, alternating ` +
          `nimsim, bare, nimsim, bare… after ${warmupRequests} warm-up requests to each; both servers stay up for the ` +
          'whole run, so nimsim keeps its cache state from one window to the next. Body: one short user ' +
          'message, max_tokens 16, ignore_eos. nimsim logs at INFO (an access-log line per request) to a ' +
          'pipe. autocannon runs in this process, on the same 2 cores as both servers.',
        'CPU µs per request is the server process’s user + system time over the window ÷ the requests it ' +
          'answered (/proc): unlike requests/s it hardly moves when something else takes the cores.',
      ],
      conclusions: [
        `In steady state (windows after the first) nimsim answers ${num(result.steadyRatio, 3)} of the bare ` +
          `handler's requests/s (target ≥ ${TARGET_STEADY_RATIO}): the ceiling of non-streaming requests one ` +
          'nimsim process can simulate on this machine, independent of the simulated GPU.',
        `nimsim's last window ran at ${num(result.trend, 3)} × its first (${num(last.nimsim.requestsPerS, 0)} ` +
          `vs ${num(first.nimsim.requestsPerS, 0)} req/s; target ≥ ${TARGET_TREND}, check ≥ ${SLOWDOWN_LIMIT}); ` +
          `against bare over the same time ${num(result.trendVsBare, 3)}, and its CPU per request in the last ` +
          `window was ${num(result.cpuPerRequestGrowth, 2)}× the first's ` +
          `(${result.cpuPerRequestGrowth > 1 ? 'grew' : 'did not grow'}).`,
      ],
      tables: [
        {
          title: 'Windows',
          columns: [
            'window',
            'nimsim req/s',
            'bare req/s',
            'ratio',
            'nimsim CPU µs/req',
            'bare CPU µs/req',
            'nimsim p50 ms',
            'nimsim p99 ms',
            'failures',
          ],
          rows: result.pairs.map((p) => [
            p.index,
            num(p.nimsim.requestsPerS, 0),
            num(p.bare.requestsPerS, 0),
            num(p.ratio, 3),
            p.nimsim.cpuUsPerRequest === undefined ? 'n/a' : num(p.nimsim.cpuUsPerRequest, 0),
            p.bare.cpuUsPerRequest === undefined ? 'n/a' : num(p.bare.cpuUsPerRequest, 0),
            num(p.nimsim.p50Ms, 0),
            num(p.nimsim.p99Ms, 0),
            p.nimsim.failures + p.bare.failures,
          ]),
        },
      ],
      charts: [
        {
          file: 'requests-per-s.svg',
          spec: lineChart({
            title: 'Requests/s per window, non-streaming chat',
            rows: result.pairs.flatMap((p) => [
              { window: p.index, server: 'nimsim', 'req/s': p.nimsim.requestsPerS },
              { window: p.index, server: 'bare', 'req/s': p.bare.requestsPerS },
            ]),
            x: 'window',
            xTitle: 'window',
            y: 'req/s',
            yTitle: 'requests/s',
            series: 'server',
            integerX: true,
          }),
        },
      ],
      checks: [
        { name: 'no failed requests', ok: result.failures === 0, detail: `${result.failures} failures` },
        {
          name: `nimsim does not slow down: last window ≥ ${SLOWDOWN_LIMIT} × the first`,
          ok: !slowedDown(result),
          detail:
            `${num(last.nimsim.requestsPerS, 0)} vs ${num(first.nimsim.requestsPerS, 0)} req/s (${num(result.trend, 3)}); ` +
            `CPU per request ${num(last.nimsim.cpuUsPerRequest ?? NaN, 0)} vs ${num(first.nimsim.cpuUsPerRequest ?? NaN, 0)} µs`,
        },
      ],
      clientLoopLag,
      data: result,
    };
  },
};
