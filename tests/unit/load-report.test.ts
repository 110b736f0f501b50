import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupedBarChart, lineChart, needsLogScale } from '../../load-tests/lib/charts.js';
import { renderSvg } from '../../load-tests/lib/charts.js';
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
  tables: [{ title: 'T', columns: ['a', 'b|c'], rows: [[1, 'x']], note: 'What the columns mean.' }],
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
    expect(md).toContain('| 1 | x |\n\nWhat the columns mean.\n');
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

  it('leave out the load generator delay when the scenario sent no traffic (simulate runs)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nimsim-report-'));
    await writeReport(
      dir,
      { ...report, charts: [], clientLoopLag: undefined },
      { startedAt: 'now', wallS: 1 },
    );
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).not.toContain('event-loop delay');
    expect(md.endsWith('- ok: works — yes\n')).toBe(true);
  });
});

/** The tick-label groups of every axis of an SVG rendered by Vega. */
function axisLabels(svg: string): string {
  return [...svg.matchAll(/<g class="mark-text role-axis-label"[^>]*>(.*?)<\/g>/g)]
    .map((m) => m[1]!)
    .join('\n');
}

describe('charts readable at a glance', () => {
  const bars = (ttft: number[]) =>
    groupedBarChart({
      title: 'Mean TTFT per strategy',
      rows: ttft.map((v, i) => ({ s: `s${i}`, size: 'small', v })),
      category: 's',
      categoryTitle: 'strategy',
      group: 'size',
      value: 'v',
      valueTitle: 'TTFT (ms)',
      scale: 'auto',
    }) as unknown as { title: string; layer: { encoding: { x: { scale: { type?: string } } } }[] };

  it('switches bars to a log scale when one bar would flatten the others, and says so', () => {
    expect(needsLogScale([4610, 126, 145, 184, 63])).toBe(true);
    expect(needsLogScale([126, 145, 184, 63])).toBe(false);
    const wide = bars([4610, 126, 145, 184, 63]);
    expect(wide.title).toBe('Mean TTFT per strategy — log scale');
    expect(wide.layer[0]!.encoding.x.scale.type).toBe('log');
    expect(bars([126, 145, 184]).layer[0]!.encoding.x.scale.type).toBeUndefined();
  });

  it('keeps legends whole, integer axes on integer ticks and labels horizontal', async () => {
    const spec = lineChart({
      title: 'TTFT per turn',
      rows: [1, 2, 3].flatMap((turn) => [
        { turn, series: 'tok/s/user p50 × concurrency', v: turn },
        { turn, series: 'total tok/s', v: 2 * turn },
      ]),
      x: 'turn',
      xTitle: 'turn',
      y: 'v',
      yTitle: 'v',
      series: 'series',
      integerX: true,
    });
    const svg = await renderSvg(spec);
    expect(svg).toContain('tok/s/user p50 × concurrency');
    expect(svg).not.toContain('…');
    // Tick labels of the turn axis: whole numbers only.
    const ticks = [...svg.matchAll(/<text[^>]*>(\d+(?:\.\d+)?)<\/text>/g)].map((m) => m[1]!);
    expect(ticks).toEqual(expect.arrayContaining(['1', '2', '3']));
    expect(ticks.filter((t) => t.includes('.'))).toEqual([]);
    expect(axisLabels(svg)).not.toContain('rotate(');
    // Category labels of bars are written horizontally (the bars run sideways).
    const barSvg = await renderSvg(
      groupedBarChart({
        title: 'Hit rate',
        rows: ['off', 'lru', 'fifo', 'lfu', 'lru+host'].map((s) => ({ s, size: 'small', v: 50 })),
        category: 's',
        categoryTitle: 'strategy',
        group: 'size',
        value: 'v',
        valueTitle: 'hit %',
      }),
    );
    expect(axisLabels(barSvg)).toContain('lru+host');
    expect(axisLabels(barSvg)).not.toContain('rotate(');
  });
});
