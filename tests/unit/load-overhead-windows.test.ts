import { describe, expect, it } from 'vitest';
import {
  slowedDown,
  summarizeWindows,
  type OverheadTarget,
  type WindowRun,
} from '../../load-tests/lib/overhead-windows.js';

const run = (
  target: OverheadTarget,
  requestsPerS: number,
  cpuUsPerRequest?: number,
  failures = 0,
): WindowRun => ({
  target,
  requestsPerS,
  p50Ms: 1,
  p99Ms: 5,
  failures,
  cpuUsPerRequest,
});

describe('overhead windows', () => {
  it('pairs alternating windows and averages the ratios after the first', () => {
    const s = summarizeWindows([
      run('nimsim', 9000, 100),
      run('bare', 20000, 50),
      run('nimsim', 6000, 150),
      run('bare', 20000, 50),
      run('nimsim', 4800, 200),
      run('bare', 16000, 60, 2),
    ]);
    expect(s.pairs.map((p) => [p.index, p.ratio])).toEqual([
      [1, 0.45],
      [2, 0.3],
      [3, 0.3],
    ]);
    expect(s.steadyRatio).toBeCloseTo(0.3, 12);
    expect(s.trend).toBeCloseTo(4800 / 9000, 12);
    expect(s.trendVsBare).toBeCloseTo(0.3 / 0.45, 12);
    expect(s.cpuPerRequestGrowth).toBe(2);
    expect(s.failures).toBe(2);
    expect(slowedDown(s)).toBe(true);
  });

  it('passes the slowdown check at exactly 0.8 of the first window and fails just below', () => {
    const at = (last: number) =>
      summarizeWindows([run('nimsim', 10000), run('bare', 20000), run('nimsim', last), run('bare', 20000)]);
    expect(slowedDown(at(8000))).toBe(false);
    expect(slowedDown(at(7999))).toBe(true);
    expect(at(8000).cpuPerRequestGrowth).toBeNaN();
  });

  it('uses the only window as the steady state when there is one', () => {
    const s = summarizeWindows([run('nimsim', 5000), run('bare', 10000)]);
    expect(s.steadyRatio).toBe(0.5);
    expect(s.trend).toBe(1);
  });

  it('refuses unpaired windows', () => {
    expect(() => summarizeWindows([run('nimsim', 1), run('bare', 1), run('nimsim', 1)])).toThrow(
      /equal counts/,
    );
    expect(() => summarizeWindows([])).toThrow(/equal counts/);
  });
});
