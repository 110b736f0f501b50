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
import { CORNER_OFFSET, LABEL_CORNERS, placeLabels } from './label-placement.js';

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

/** A log axis's labels: every 1-2-5 value over at most two decades, only powers of ten beyond. */
function logAxis(values: readonly number[]) {
  const positive = values.filter((v) => v > 0);
  const decades = Math.log10(Math.max(...positive) / Math.min(...positive));
  const shown = decades > 2 ? '/^1/' : '/^[125]/';
  return { labelAngle: 0, format: '~s', labelExpr: `test(${shown}, datum.label) ? datum.label : ''` };
}

/** The extent a nice'd axis covers: whole decades on a log axis, from 0 (or the minimum) to 5 % past the maximum otherwise. */
function axisDomain(values: readonly number[], log: boolean): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  if (log) return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
  return [Math.min(0, lo), hi * 1.05];
}

const TRADE_OFF_WIDTH = 300;
const TRADE_OFF_HEIGHT = 240;

/**
 * A latency trade-off: one labelled point per configuration (`label`, also its colour) at
 * (`x`, `y`), one panel per `facet` value side by side on shared axes (in the rows' order), and
 * dashed lines at the objectives `xLimit` / `yLimit` so the configurations meeting both sit in the
 * lower-left corner. An axis is logarithmic when its values spread over more than
 * LOG_SCALE_SPREAD× (a collapsed configuration's seconds beside the others' milliseconds); its
 * title then says so. Labels take the corner around their point that no other label or point
 * covers (label-placement.ts).
 */
export function tradeOffChart(opts: {
  title: string;
  /** A second title line (what the lines and the shade mean). */
  subtitle?: string;
  rows: readonly Row[];
  x: string;
  xTitle: string;
  y: string;
  yTitle: string;
  label: string;
  facet: string;
  xLimit?: number;
  yLimit?: number;
}): TopLevelSpec {
  const valuesOf = (field: string, limit: number | undefined) => [
    ...opts.rows.map((r) => r[field]).filter((v): v is number => typeof v === 'number'),
    ...(limit === undefined ? [] : [limit]),
  ];
  const xs = valuesOf(opts.x, opts.xLimit);
  const ys = valuesOf(opts.y, opts.yLimit);
  const logX = needsLogScale(xs);
  const logY = needsLogScale(ys);
  const xDomain = axisDomain(xs, logX);
  const yDomain = axisDomain(ys, logY);
  const facets = [...new Set(opts.rows.map((r) => String(r[opts.facet])))];
  // Each facet's labels are placed among that facet's points only.
  const placed = facets.flatMap((f) => {
    const rows = opts.rows.filter((r) => String(r[opts.facet]) === f);
    const corners = placeLabels(
      rows.map((r) => ({ x: Number(r[opts.x]), y: Number(r[opts.y]), label: String(r[opts.label]) })),
      {
        width: TRADE_OFF_WIDTH,
        height: TRADE_OFF_HEIGHT,
        xDomain,
        yDomain,
        logX,
        logY,
      },
    );
    return rows.map((r, i) => ({ ...r, labelCorner: corners[i]! }));
  });
  const axisOf = (field: string, title: string, values: readonly number[], log: boolean) => ({
    field,
    type: 'quantitative' as const,
    title: log ? `${title}, log scale` : title,
    scale: log ? { type: 'log' as const } : { zero: true },
    axis: log ? logAxis(values) : { labelAngle: 0 },
  });
  const x = axisOf(opts.x, opts.xTitle, xs, logX);
  const y = axisOf(opts.y, opts.yTitle, ys, logY);
  // One row per facet, so the shade and the lines are drawn once, not once per point.
  const once = [{ aggregate: [{ op: 'count', as: 'points' }], groupby: [opts.facet] }];
  const objective = (channel: 'x' | 'y', limit: number | undefined) =>
    limit === undefined
      ? []
      : [
          {
            transform: once,
            mark: { type: 'rule', strokeDash: [5, 4], color: '#777' },
            encoding: { [channel]: { datum: limit, type: 'quantitative' } },
          },
        ];
  // Shade where both objectives are met, from the axes' start to the two lines.
  const met =
    opts.xLimit === undefined || opts.yLimit === undefined
      ? []
      : [
          {
            transform: once,
            mark: { type: 'rect', color: '#2ca02c', opacity: 0.1 },
            encoding: {
              x: { datum: xDomain[0], type: 'quantitative' },
              x2: { datum: opts.xLimit },
              y: { datum: yDomain[0], type: 'quantitative' },
              y2: { datum: opts.yLimit },
            },
          },
        ];
  return {
    $schema: SCHEMA,
    title: opts.subtitle === undefined ? opts.title : { text: opts.title, subtitle: opts.subtitle },
    background: 'white',
    data: { values: placed },
    facet: {
      column: {
        field: opts.facet,
        type: 'nominal',
        sort: facets,
        title: null,
        header: { labelFontSize: 12, labelFontWeight: 'bold' },
      },
    },
    spec: {
      width: TRADE_OFF_WIDTH,
      height: TRADE_OFF_HEIGHT,
      layer: [
        ...met,
        ...objective('x', opts.xLimit),
        ...objective('y', opts.yLimit),
        {
          mark: { type: 'point', filled: true, size: 90, opacity: 0.9 },
          encoding: {
            x,
            y,
            color: { field: opts.label, type: 'nominal', sort: null, legend: { ...LEGEND, title: null } },
          },
        },
        ...LABEL_CORNERS.map((corner) => ({
          transform: [{ filter: { field: 'labelCorner', equal: corner } }],
          mark: { type: 'text', fontSize: 10, ...CORNER_OFFSET[corner] },
          encoding: { x, y, text: { field: opts.label, type: 'nominal' } },
        })),
      ],
    },
  } as TopLevelSpec;
}
