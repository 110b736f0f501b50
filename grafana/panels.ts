/**
 * A minimal builder of Grafana dashboard JSON (schema 39): time series, stat and table panels laid
 * out left to right on the 24-column grid, a `datasource` variable and a `model_name` variable. Small
 * enough to read; the dashboards themselves live in dashboards.ts.
 */

/** One PromQL query of a panel; `legend` is Grafana's legendFormat. */
export interface Query {
  readonly expr: string;
  readonly legend?: string;
  /** Instant query (stat and table panels showing the latest value). */
  readonly instant?: boolean;
}

export interface PanelSpec {
  readonly title: string;
  /** What the panel shows and why an operator looks at it (also its text in docs/metrics.md). */
  readonly description: string;
  readonly kind: 'timeseries' | 'stat' | 'table';
  readonly queries: readonly Query[];
  /** Grafana unit id: reqps, s, percentunit, short, ops, … */
  readonly unit?: string;
  /** Width in grid columns (of 24); height follows the kind. */
  readonly width?: number;
  readonly stacked?: boolean;
  /** Queries (by legend) drawn against a right-hand axis with this unit. */
  readonly rightAxis?: { readonly legends: readonly string[]; readonly unit: string };
  readonly min?: number;
  readonly max?: number;
  /**
   * What the panel says instead of Grafana's "No data" when its queries return no series (Grafana's
   * `fieldConfig.defaults.noValue`, which its PanelDataErrorView shows then:
   * `public/app/features/panel/components/PanelDataErrorView.tsx` of https://github.com/grafana/grafana),
   * e.g. why a panel of series only some deployments export is empty.
   */
  readonly noValue?: string;
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** Rows of panels; each row starts on a new line of the grid. */
  readonly rows: readonly { readonly title: string; readonly panels: readonly PanelSpec[] }[];
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

function panelJson(p: PanelSpec, id: number, x: number, y: number, w: number, h: number): object {
  const overrides = p.rightAxis
    ? [
        {
          matcher: { id: 'byRegexp', options: `^(${p.rightAxis.legends.join('|')})$` },
          properties: [
            { id: 'custom.axisPlacement', value: 'right' },
            { id: 'unit', value: p.rightAxis.unit },
          ],
        },
      ]
    : [];
  const defaults: Record<string, unknown> = { unit: p.unit ?? 'short' };
  if (p.min !== undefined) defaults['min'] = p.min;
  if (p.max !== undefined) defaults['max'] = p.max;
  if (p.noValue !== undefined) defaults['noValue'] = p.noValue;
  if (p.kind === 'timeseries') {
    defaults['custom'] = {
      drawStyle: 'line',
      lineWidth: 1,
      fillOpacity: p.stacked ? 30 : 10,
      showPoints: 'never',
      spanNulls: true,
      stacking: { mode: p.stacked ? 'normal' : 'none', group: 'A' },
    };
  }
  const options =
    p.kind === 'timeseries'
      ? { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi' } }
      : p.kind === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value' }
        : { showHeader: true };
  return {
    id,
    type: p.kind,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos: { x, y, w, h },
    fieldConfig: { defaults, overrides },
    options,
    ...(p.kind === 'table'
      ? {
          transformations: [
            { id: 'labelsToFields', options: {} },
            { id: 'organize', options: { excludeByName: { Time: true, Value: true } } },
          ],
        }
      : {}),
    targets: p.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      legendFormat: q.legend ?? '__auto',
      range: !q.instant,
      instant: q.instant ?? false,
      ...(p.kind === 'table' ? { format: 'table' } : {}),
    })),
  };
}

const HEIGHT = { timeseries: 8, stat: 4, table: 6 } as const;

/** The dashboard's JSON model, ready for Grafana's file provisioning or import. */
export function buildDashboard(spec: DashboardSpec): object {
  const panels: object[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { x: 0, y, w: 24, h: 1 },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? (p.kind === 'stat' ? 6 : 12);
      const h = HEIGHT[p.kind];
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panelJson(p, id++, x, y, w, h));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '10s',
    time: { from: 'now-30m', to: 'now' },
    timezone: 'browser',
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Prometheus',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
        },
        {
          name: 'model_name',
          label: 'model',
          type: 'query',
          datasource: DATASOURCE,
          query: { query: 'label_values(vllm:request_success_total, model_name)', refId: 'model_name' },
          definition: 'label_values(vllm:request_success_total, model_name)',
          refresh: 2,
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { selected: true, text: ['All'], value: ['$__all'] },
          sort: 1,
          hide: 0,
        },
      ],
    },
    panels,
  };
}

/** Every panel query of a spec, for tests that run them against a real Prometheus. */
export function panelQueries(spec: DashboardSpec): { panel: string; expr: string }[] {
  return spec.rows.flatMap((r) =>
    r.panels.flatMap((p) => p.queries.map((q) => ({ panel: p.title, expr: q.expr }))),
  );
}
