import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createVirtualClock } from '../../src/engine/clock.js';
import {
  concurrencyProblem,
  MAX_CONCURRENCY_OVER_CAPACITY,
  serverCapacity,
} from '../../src/simulate/concurrency-bound.js';
import type { SimulationProgress } from '../../src/simulate/harness.js';
import { createProgressLine } from '../../src/simulate/progress-line.js';
import { runSimulation } from '../../src/simulate/simulate.js';
import type { WorkloadOptions } from '../../src/simulate/workload.js';

const workload = (over: Partial<WorkloadOptions>): WorkloadOptions => ({
  concurrency: 1,
  requests: 100,
  inputTokens: 50,
  outputTokens: 20,
  sharedPrefixTokens: 0,
  turns: 1,
  thinkTimeMs: 0,
  ...over,
});

/** The report without the two fields that measure the machine. */
const simulated = ({ wall_s: _w, speedup: _s, ...rest }: ReturnType<typeof runSimulation>) => rest;

describe('simulate progress', () => {
  it('fires the same timers in the same order in slices as in one run', () => {
    const order = (run: (c: ReturnType<typeof createVirtualClock>) => void) => {
      const clock = createVirtualClock();
      const fired: string[] = [];
      const at = (ms: number, name: string, then?: () => void) =>
        clock.schedule(ms, () => {
          fired.push(`${name}@${clock.now()}`);
          then?.();
        });
      for (let i = 0; i < 10; i++) at(i % 3, `t${i}`, () => at(clock.now() + 1, `child${i}`));
      run(clock);
      return fired;
    };
    const whole = order((c) => c.runUntilIdle());
    const slices: number[] = [];
    const sliced = order((c) => {
      while (c.runSome(3)) slices.push(c.now());
    });
    expect(sliced).toEqual(whole);
    expect(slices.length).toBe(6); // 20 timers, 3 at a time, the last slice leaving none
  });

  it('reports progress as the run goes without changing the report', () => {
    // Overloaded on purpose: sessions refused with the queue full retry, and the progress says so.
    const config = loadConfig({}, { maxNumSeqs: '8', maxWaiting: '8' });
    const w = workload({ concurrency: 60, requests: 3000 });
    const seen: SimulationProgress[] = [];
    const withProgress = runSimulation(config, w, { onProgress: (p) => seen.push(p) });
    const without = runSimulation(config, w);
    expect(simulated(withProgress)).toEqual(simulated(without));
    expect(without.rejected_429).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.simulatedMs).toBeGreaterThanOrEqual(seen[i - 1]!.simulatedMs);
      expect(seen[i]!.completed).toBeGreaterThanOrEqual(seen[i - 1]!.completed);
      expect(seen[i]!.rejected).toBeGreaterThanOrEqual(seen[i - 1]!.rejected);
    }
    expect(seen.at(-1)!.completed).toBeLessThanOrEqual(3000);
    expect(seen.at(-1)!.rejected).toBeLessThanOrEqual(without.rejected_429);
  });

  it('draws one line only after a few seconds, at most a few times a second, and erases it', () => {
    let now = 0;
    const written: string[] = [];
    const line = createProgressLine({
      write: (t) => written.push(t),
      now: () => now,
      total: 20_000,
      columns: 200,
    });
    const at = (ms: number, completed: number) => {
      now = ms;
      line.update({ simulatedMs: completed * 10, completed, rejected: completed * 3 });
    };
    at(500, 10);
    at(1999, 20);
    expect(written).toEqual([]); // a short run prints nothing
    at(2000, 100);
    expect(written).toEqual([
      '\rsimulating: 100/20,000 requests, 1.0 s simulated, 300 refused (429); 2 s\x1b[K',
    ]);
    at(2100, 200);
    at(2249, 300);
    expect(written).toHaveLength(1); // throttled
    at(2250, 12_345);
    expect(written.at(-1)).toContain('12,345/20,000 requests');
    line.clear();
    expect(written.at(-1)).toBe('\r\x1b[K');
    line.clear();
    expect(written.filter((t) => t === '\r\x1b[K')).toHaveLength(1);
  });

  it('cuts the line to the terminal width, and erases nothing when it never drew', () => {
    let now = 0;
    const written: string[] = [];
    const line = createProgressLine({
      write: (t) => written.push(t),
      now: () => now,
      total: 10,
      columns: 40,
    });
    line.clear();
    expect(written).toEqual([]);
    now = 5000;
    line.update({ simulatedMs: 1, completed: 1, rejected: 0 });
    const text = written[0]!.replace('\r', '').replace('\x1b[K', '');
    expect(text.length).toBeLessThanOrEqual(39);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('simulate concurrency bound', () => {
  const config = { maxNumSeqs: 256, maxWaiting: 1024, replicas: 1 };
  const limit = MAX_CONCURRENCY_OVER_CAPACITY * serverCapacity(config);

  it('refuses a closed loop far beyond what the server holds, saying what it holds', () => {
    expect(serverCapacity(config)).toBe(1280);
    expect(concurrencyProblem(config, workload({ concurrency: limit, requests: limit }))).toBeUndefined();
    const problem = concurrencyProblem(config, workload({ concurrency: limit + 1, requests: 20_000 }));
    expect(problem).toContain('the 1280 requests the server holds at once');
    expect(problem).toContain(`; at most ${limit}`);
    // Every replica holds as many.
    const fleet = { ...config, replicas: 4 };
    expect(concurrencyProblem(fleet, workload({ concurrency: limit + 1, requests: 20_000 }))).toBeUndefined();
    expect(concurrencyProblem(fleet, workload({ concurrency: 4 * limit + 1, requests: 1e6 }))).toContain(
      '× --replicas',
    );
  });

  it('counts only sessions that can start, and lets thinking users and open loops be', () => {
    // Sessions beyond --requests never start.
    expect(concurrencyProblem(config, workload({ concurrency: 100_000, requests: 100 }))).toBeUndefined();
    // Users who think between turns are not all in the server: a chat workload of many users.
    expect(
      concurrencyProblem(
        config,
        workload({ concurrency: 100_000, requests: 200_000, turns: 3, thinkTimeMs: 20_000 }),
      ),
    ).toBeUndefined();
    expect(
      concurrencyProblem(config, workload({ concurrency: 100_000, requests: 200_000, turns: 3 })),
    ).toBeDefined();
    expect(
      concurrencyProblem(config, workload({ concurrency: 100_000, requests: 200_000, requestRate: 10 })),
    ).toBeUndefined();
  });
});
