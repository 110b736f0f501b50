/**
 * What every scenario writes to its output directory: `report.json` (everything, machine-readable),
 * `report.md` (the tables, the charts and what to conclude) and one SVG per chart.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from './charts.js';
import type { LoopLag } from './loop-lag.js';

export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
  /** What the columns mean, printed under the table (e.g. which ITL is which). */
  readonly note?: string;
}

export interface Chart {
  /** File name inside the output directory, e.g. `ttft-vs-concurrency.svg`. */
  readonly file: string;
  readonly spec: TopLevelSpec;
}

/** A sanity check of the numbers; a failed one fails the run (exit 1). */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ScenarioReport {
  readonly scenario: string;
  readonly title: string;
  readonly quick: boolean;
  /** What was loaded: a URL, or how the scenario started its own servers. */
  readonly target: string;
  /** Paragraphs explaining the setup (time scale, workload) in the markdown. */
  readonly notes: readonly string[];
  /** What a user should take away, computed from this run's numbers. */
  readonly conclusions: readonly string[];
  readonly tables: readonly Table[];
  readonly charts: readonly Chart[];
  readonly checks: readonly Check[];
  /**
   * The load generator's own event-loop delay over the measured phases; undefined when the scenario
   * sends no traffic (its runs are `simulate` on the virtual clock).
   */
  readonly clientLoopLag: LoopLag | undefined;
  /** Scenario-specific raw results (metrics per run). */
  readonly data: unknown;
}

/** A number for a table cell: fixed decimals, thousands not grouped. */
export function num(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

function markdownTable(t: Table): string {
  const esc = (v: string | number) => String(v).replace(/\|/g, '\\|');
  return [
    `### ${t.title}`,
    '',
    `| ${t.columns.map(esc).join(' | ')} |`,
    `|${t.columns.map(() => '---').join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
    ...(t.note === undefined ? [] : [t.note, '']),
  ].join('\n');
}

/** Renders `report` into `dir` (created if needed); returns the paths written. */
export async function writeReport(
  dir: string,
  report: ScenarioReport,
  meta: { startedAt: string; wallS: number },
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const chart of report.charts) {
    const path = join(dir, chart.file);
    await writeFile(path, await renderSvg(chart.spec));
    written.push(path);
  }
  const { charts, ...rest } = report;
  const json = { ...rest, charts: charts.map((c) => c.file), ...meta };
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(json, null, 2)}\n`);
  const lag = report.clientLoopLag;
  const md = [
    `# ${report.title}`,
    '',
    `Scenario \`${report.scenario}\`${report.quick ? ' (--quick)' : ''}, started ${meta.startedAt}, ` +
      `${meta.wallS.toFixed(1)} s wall. Target: ${report.target}.`,
    '',
    ...report.notes.flatMap((n) => [n, '']),
    ...(report.conclusions.length > 0
      ? ['## What to conclude', '', ...report.conclusions.map((c) => `- ${c}`), '']
      : []),
    '## Results',
    '',
    ...report.tables.map(markdownTable),
    ...report.charts.map((c) => `![${c.file}](${c.file})\n`),
    '## Checks',
    '',
    ...report.checks.map((c) => `- ${c.ok ? 'ok' : '**FAILED**'}: ${c.name} — ${c.detail}`),
    '',
    ...(lag === undefined
      ? []
      : [
          `Load generator event-loop delay: p50 ${lag.p50Ms.toFixed(1)} ms, p99 ${lag.p99Ms.toFixed(1)} ms, ` +
            `max ${lag.maxMs.toFixed(1)} ms (beyond the 10 ms sampling interval; while it is small, chunk timestamps are on time).`,
          '',
        ]),
  ].join('\n');
  await writeFile(join(dir, 'report.md'), md);
  written.push(join(dir, 'report.json'), join(dir, 'report.md'));
  return written;
}
