/**
 * Charts as SVG files, drawn by Vega-Lite (compiled to a Vega spec and rendered headless by Vega's
 * SVG string renderer: no browser, no canvas). Helpers build the few chart shapes the reports use.
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

/**
 * Lines of `y` against `x` (one line per `series` value when given), points marked; `logX` for
 * doubling sweeps such as concurrency 1…256.
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
}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.title,
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    data: { values: opts.rows as Row[] },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: opts.x,
        type: 'quantitative',
        title: opts.xTitle,
        scale: opts.logX === true ? { type: 'log', base: 2 } : {},
      },
      y: { field: opts.y, type: 'quantitative', title: opts.yTitle },
      ...(opts.series === undefined ? {} : { color: { field: opts.series, type: 'nominal' as const } }),
    },
  };
}

/**
 * Grouped bars: one group per `category`, one bar per `group` value inside it (e.g. strategy ×
 * cache size), with the value printed on no bar (the report's table has the numbers).
 */
export function groupedBarChart(opts: {
  title: string;
  rows: readonly Row[];
  category: string;
  categoryTitle: string;
  group: string;
  value: string;
  valueTitle: string;
}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.title,
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    data: { values: opts.rows as Row[] },
    mark: 'bar',
    encoding: {
      x: { field: opts.category, type: 'nominal', title: opts.categoryTitle, sort: null },
      xOffset: { field: opts.group, type: 'nominal' },
      y: { field: opts.value, type: 'quantitative', title: opts.valueTitle },
      color: { field: opts.group, type: 'nominal' },
    },
  };
}
