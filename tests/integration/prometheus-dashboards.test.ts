/**
 * The shipped dashboards without a Prometheus: the committed JSON is what grafana/dashboards.ts
 * generates, every metric a panel queries is one nimsim exposes, and docs/metrics.md describes every
 * panel. (prometheus.test.ts runs the queries against a real Prometheus.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS } from '../../grafana/dashboards.js';
import { panelQueries } from '../../grafana/panels.js';
import { DASHBOARD_DIR, renderDashboards } from '../../grafana/render.js';
import { parseExposition } from '../helpers/prom-text.js';
import { testService } from '../helpers/service.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('shipped Grafana dashboards', () => {
  it('are committed exactly as grafana/dashboards.ts generates them (npm run grafana:build)', async () => {
    for (const [file, text] of await renderDashboards()) {
      expect(readFileSync(join(DASHBOARD_DIR, file), 'utf8'), file).toBe(text);
    }
  });

  it('query only metrics nimsim exposes', async () => {
    // Two replicas: the routing panels' nimsim_router_* series exist only behind a router.
    const s = testService({ replicas: '2' });
    await s.app.request('/v1/models'); // so nimsim_http_requests_total has a series
    const exp = parseExposition(await (await s.app.request('/v1/metrics')).text());
    const exposed = new Set(exp.samples.map((x) => x.name));
    // Process metrics are off in app.request() tests; `up` is Prometheus' own.
    const external = /^(up|process_[a-z_]+)$/;
    const missing: string[] = [];
    for (const spec of DASHBOARDS) {
      for (const { panel, expr } of panelQueries(spec)) {
        for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|$)/g)) {
          const name = m[1]!;
          if (!exposed.has(name) && !external.test(name)) missing.push(`${spec.uid} / ${panel}: ${name}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('have every panel described in docs/metrics.md', () => {
    const page = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
    for (const spec of DASHBOARDS) {
      for (const row of spec.rows) {
        for (const p of row.panels) expect.soft(page, `${spec.uid} / ${p.title}`).toContain(`**${p.title}**`);
      }
    }
  });
});
