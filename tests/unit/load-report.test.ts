import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupedBarChart, lineChart } from '../../load-tests/lib/charts.js';
import { writeReport, type ScenarioReport } from '../../load-tests/lib/report.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const report: ScenarioReport = {
  scenario: 'demo',
  title: 'Demo report',
  quick: true,
  target: 'nowhere',
  notes: ['A note.'],
  conclusions: ['A conclusion.'],
  tables: [{ title: 'T', columns: ['a', 'b|c'], rows: [[1, 'x']] }],
  charts: [
    {
      file: 'line.svg',
      spec: lineChart({
        title: 'TTFT against concurrency',
        rows: [
          { c: 1, ttft: 10 },
          { c: 4, ttft: 30 },
        ],
        x: 'c',
        xTitle: 'concurrency',
        y: 'ttft',
        yTitle: 'TTFT (ms)',
        logX: true,
      }),
    },
    {
      file: 'bars.svg',
      spec: groupedBarChart({
        title: 'Hit rate per strategy',
        rows: [
          { s: 'lru', size: 'small', v: 80 },
          { s: 'lru', size: 'large', v: 90 },
        ],
        category: 's',
        categoryTitle: 'strategy',
        group: 'size',
        value: 'v',
        valueTitle: 'hit %',
      }),
    },
  ],
  checks: [{ name: 'works', ok: true, detail: 'yes' }],
  clientLoopLag: { p50Ms: 0, p99Ms: 1, maxMs: 2 },
  data: { answer: 42 },
};

describe('load-test reports', () => {
  it('write report.json, report.md and one Vega-rendered SVG per chart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nimsim-report-'));
    await writeReport(dir, report, { startedAt: '2025-01-01T00:00:00.000Z', wallS: 1.5 });
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as Record<string, unknown>;
    expect(json.scenario).toBe('demo');
    expect(json.charts).toEqual(['line.svg', 'bars.svg']);
    expect(json.data).toEqual({ answer: 42 });
    expect(json.wallS).toBe(1.5);
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('| a | b\\|c |');
    expect(md).toContain('![line.svg](line.svg)');
    expect(md).toContain('- ok: works — yes');
    for (const [file, title] of [
      ['line.svg', 'TTFT against concurrency'],
      ['bars.svg', 'Hit rate per strategy'],
    ] as const) {
      const svg = await readFile(join(dir, file), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain(title);
    }
  });
});
