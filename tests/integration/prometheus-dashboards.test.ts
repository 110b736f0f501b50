/**
 * The shipped dashboards without a Prometheus: the committed JSON is what grafana/dashboards.ts
 * generates, every metric a panel queries is one nimsim exposes, and docs/metrics.md describes every
 * panel. (prometheus.test.ts runs the queries against a real Prometheus.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS } from '../../grafana/dashboards.js';
import { DISAGGREGATION_ROW } from '../../grafana/disagg-panels.js';
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
    /** Metric names in the exposition of a service with `settings`, after one request. */
    const exposedBy = async (settings: Record<string, string>) => {
      const s = testService(settings);
      await s.app.request('/v1/models'); // so nimsim_http_requests_total has a series
      const exp = parseExposition(await (await s.app.request('/v1/metrics')).text());
      return new Set(exp.samples.map((x) => x.name));
    };
    // Two replicas: the routing panels' nimsim_router_* series exist only behind a router. The
    // Disaggregation row's series exist only with prefill and decode replicas, and are checked
    // against such a deployment alone.
    const replicated = await exposedBy({ replicas: '2' });
    const disaggregated = await exposedBy({ prefillReplicas: '1', decodeReplicas: '1' });
    // Process metrics are off in app.request() tests; `up` is Prometheus' own.
    const external = /^(up|process_[a-z_]+)$/;
    const missing: string[] = [];
    for (const spec of DASHBOARDS) {
      for (const row of spec.rows) {
        const exposed = row.title === DISAGGREGATION_ROW ? disaggregated : replicated;
        for (const { panel, expr } of panelQueries({ ...spec, rows: [row] })) {
          for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|$)/g)) {
            const name = m[1]!;
            if (!exposed.has(name) && !external.test(name)) missing.push(`${spec.uid} / ${panel}: ${name}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('have a Disaggregation row whose series no other deployment exports', async () => {
    const rows = DASHBOARDS.flatMap((d) => d.rows).filter((r) => r.title === DISAGGREGATION_ROW);
    expect(rows).toHaveLength(1);
    const queried = new Set(
      rows[0]!.panels.flatMap((p) =>
        p.queries.flatMap((q) => [...q.expr.matchAll(/(nimsim_[a-z_]+?)(?:_bucket)?\{/g)].map((m) => m[1]!)),
      ),
    );
    expect([...queried].sort()).toEqual([
      'nimsim_disagg_prefills_total',
      'nimsim_disagg_queue_requests',
      'nimsim_kv_transfer_bytes_total',
      'nimsim_kv_transfer_seconds',
      'nimsim_kv_transfers_in_flight',
    ]);
    // Neither one engine nor replicas export them: the panels show their noValue text instead.
    for (const settings of [{}, { replicas: '2' }]) {
      const text = await (await testService(settings).app.request('/v1/metrics')).text();
      for (const name of queried) expect(text, name).not.toContain(name);
    }
    for (const p of rows[0]!.panels) expect(p.noValue, p.title).toBe('No data: not disaggregated');
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
