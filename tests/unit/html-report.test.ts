/**
 * simulate --html's timeline and page (src/simulate/html-timeline.ts, html-report.ts): the run and
 * its report are the same with the timeline watching; the timeline stays within its bound however
 * long the run, merging buckets without losing a count; the page embeds its data safely.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { runSimulation, type WorkloadOptions } from '../../src/simulate/simulate.js';
import { createTimelineRecorder } from '../../src/simulate/html-timeline.js';
import { renderHtmlReport } from '../../src/simulate/html-report.js';
import type { SimulationReport } from '../../src/simulate/report.js';

const WORKLOAD: WorkloadOptions = {
  concurrency: 16,
  requests: 400,
  inputTokens: 200,
  outputTokens: 60,
  inputTokensStddev: 0,
  outputTokensStddev: 20,
  sharedPrefixTokens: 256,
  turns: 2,
  thinkTimeMs: 200,
};

/** The report less the two figures that vary with the machine. */
const stable = (r: SimulationReport) => ({ ...r, wall_s: 0, speedup: 0 });

describe('simulate --html', () => {
  it('leaves the run and its report exactly as they are without it', () => {
    for (const settings of [
      {},
      { replicas: '3', router: 'kv-aware' },
      { kvCacheBlocks: '300', kvHostCacheBlocks: '200' },
    ]) {
      const config = loadConfig({}, settings);
      const plain = runSimulation(config, WORKLOAD);
      const timeline = createTimelineRecorder();
      const watched = runSimulation(config, WORKLOAD, { watch: (rt) => timeline.attach(rt) });
      expect(stable(watched)).toEqual(stable(plain));
    }
  });

  it('keeps at most maxBuckets points, doubling the width, and loses no count in the merges', () => {
    const config = loadConfig({}, { replicas: '2', router: 'round-robin', kvCacheBlocks: '400' });
    const timeline = createTimelineRecorder(40, 1);
    const report = runSimulation(config, WORKLOAD, { watch: (rt) => timeline.attach(rt) });
    const t = timeline.result();
    expect(t.buckets).toBeLessThanOrEqual(40);
    expect(t.buckets).toBeGreaterThan(20);
    expect(Math.log2(t.widthMs) % 1).toBe(0);
    expect(t.buckets * t.widthMs).toBeGreaterThanOrEqual(report.duration_s * 1000);
    const total = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
    expect(total(t.totals.finished)).toBe(report.requests);
    expect(total(t.totals.firstTokens)).toBe(report.requests);
    expect(t.totals.ttft.reduce((x, y) => x + y, 0)).toBe(report.requests);
    // Routed is a running total, read at each replica's steps: its highest is the router's count.
    expect(t.replicas.map((r) => Math.max(...r.routed))).toEqual(report.by_replica!.map((r) => r.requests));
    expect(t.tiers).toEqual([
      { gpu: 400, host: 0, disk: 0 },
      { gpu: 400, host: 0, disk: 0 },
    ]);
  });

  it('writes one page with the data inline and nothing to load', () => {
    const config = loadConfig({}, {});
    const timeline = createTimelineRecorder();
    const report = runSimulation(config, WORKLOAD, { watch: (rt) => timeline.attach(rt) });
    const html = renderHtmlReport(timeline.result(), report, { command: 'nimsim simulate </script><b>' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // One closing script tag per script element: the command cannot close one.
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="(?!data:)/);
    const json = /<script type="application\/json" id="data">(.*?)<\/script>/s.exec(html)![1]!;
    const data = JSON.parse(json) as { n: number; timeline: { running: number[] }; summary: string[][] };
    expect(data.timeline.running).toHaveLength(data.n);
    expect(data.n).toBeLessThanOrEqual(1000);
    expect(Math.max(...data.timeline.running)).toBe(WORKLOAD.concurrency);
    expect(data.summary[0]).toEqual(['requests', String(report.requests)]);
    expect(html.length).toBeLessThan(200_000);
  });
});
