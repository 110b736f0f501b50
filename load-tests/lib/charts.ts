/**
 * Charts as SVG files, drawn by Vega-Lite (compiled to a Vega spec and rendered headless by Vega's
 * SVG string renderer: no browser, no canvas). Helpers build the few chart shapes the reports use,
 * with the choices that keep them readable at a glance: legends below the plot and never cut
 * short, integer ticks on integer axes, category labels written horizontally (bars run
 * sideways), and a log scale with the value printed on each bar when one bar would flatten the
 * others.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Renders a Vega-Lite spec to an SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

type Row = Record<string, string | number>;

const WIDTH = 420;
const HEIGHT = 260;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** A legend under the plot whose labels are never truncated (Vega-Lite's default cuts at 160 px). */
const LEGEND = { orient: 'bottom', direction: 'horizontal', labelLimit: 0, titleLimit: 0 } as const;

/**
 * Beyond this ratio between the largest and the smallest positive value a linear axis squeezes
 * the small values into a few pixels, so `autoScale` switches to a log scale.
 */
export const LOG_SCALE_SPREAD = 8;

/** Whether `values` spread so widely that a linear axis hides the small ones. */
export function needsLogScale(values: readonly number[]): boolean {
  const positive = values.filter((v) => v > 0);
  if (positive.length < 2) return false;
  return Math.max(...positive) / Math.min(...positive) > LOG_SCALE_SPREAD;
}

/** The distinct numbers of `field` in `rows`, ascending (the tick values of a sparse axis). */
function distinctValues(rows: readonly Row[], field: string): number[] {
  return [...new Set(rows.map((r) => r[field]).filter((v): v is number => typeof v === 'number'))].sort(
    (a, b) => a - b,
  );
}

/**
 * Lines of `y` against `x` (one line per `series` value when given), points marked. `logX` for
 * doubling sweeps such as concurrency 1…256 (ticks at the values measured); `integerX` for counts
 * such as turns or windows (whole-number ticks only); `points` draws a scatter instead of lines.
 */
export function lineChart(opts: {
  title: string;
  rows: readonly Row[];
  x: string;
  xTitle: string;
  y: string;
  yTitle: string;
  series?: string;
  logX?: boolean;
  integerX?: boolean;
  points?: boolean;
}): TopLevelSpec {
  const logX = opts.logX === true;
  const xAxis = logX
    ? { values: distinctValues(opts.rows, opts.x), format: 'd', labelAngle: 0 }
    : opts.integerX === true
      ? { tickMinStep: 1, format: 'd', labelAngle: 0 }
      : { labelAngle: 0 };
  return {
    $schema: SCHEMA,
    title: opts.title,
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    data: { values: opts.rows as Row[] },
    mark: opts.points === true ? { type: 'point', filled: true } : { type: 'line', point: true },
    encoding: {
      x: {
        field: opts.x,
        type: 'quantitative',
        title: opts.xTitle,
        scale: logX ? { type: 'log', base: 2 } : { zero: false },
        axis: xAxis,
      },
      y: { field: opts.y, type: 'quantitative', title: opts.yTitle },
      ...(opts.series === undefined
        ? {}
        : { color: { field: opts.series, type: 'nominal' as const, legend: LEGEND } }),
    },
  };
}

/**
 * Grouped horizontal bars: one row per `category` (labels written horizontally), one bar per
 * `group` value inside it (e.g. strategy × cache size), each bar labelled with its value. With
 * `scale: 'auto'` the value axis is logarithmic when the values spread over more than
 * LOG_SCALE_SPREAD×, so one slow configuration does not flatten the bars that matter; the title
 * then says so.
 */
export function groupedBarChart(opts: {
  title: string;
  rows: readonly Row[];
  category: string;
  categoryTitle: string;
  group: string;
  value: string;
  valueTitle: string;
  /** Printed on each bar; defaults to one decimal. */
  valueFormat?: string;
  scale?: 'linear' | 'auto';
  /** The end of a linear value axis (100 for percentages), so labels of full bars stay inside. */
  max?: number;
}): TopLevelSpec {
  const values = opts.rows.map((r) => r[opts.value]).filter((v): v is number => typeof v === 'number');
  const log = opts.scale === 'auto' && needsLogScale(values);
  const positive = values.filter((v) => v > 0);
  // A log axis needs a positive start: a decade under the smallest bar so it still shows a length.
  const logMin = 10 ** Math.floor(Math.log10(Math.min(...positive)) - 0.3);
  const x = {
    field: opts.value,
    type: 'quantitative' as const,
    title: log ? `${opts.valueTitle}, log scale` : opts.valueTitle,
    scale: log
      ? { type: 'log' as const, domainMin: logMin, nice: true }
      : opts.max === undefined
        ? {}
        : { domain: [0, opts.max] },
  };
  const y = { field: opts.category, type: 'nominal' as const, title: opts.categoryTitle, sort: null };
  const yOffset = { field: opts.group, type: 'nominal' as const, sort: null };
  return {
    $schema: SCHEMA,
    title: log ? `${opts.title} — log scale` : opts.title,
    width: WIDTH,
    background: 'white',
    data: { values: opts.rows as Row[] },
    // One bar 14 px thick, so the chart grows with the number of bars instead of squeezing them.
    height: { step: 14 },
    encoding: { y, yOffset },
    layer: [
      {
        mark: 'bar',
        encoding: {
          x,
          // A bar starts at the axis's start: 0 on a linear axis, logMin on a log one (log 0 is -∞).
          ...(log ? { x2: { datum: logMin } } : {}),
          color: { field: opts.group, type: 'nominal', sort: null, legend: { ...LEGEND, title: null } },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
        encoding: { x, text: { field: opts.value, type: 'quantitative', format: opts.valueFormat ?? '.1f' } },
      },
    ],
  } as TopLevelSpec;
}
