/** Renders the shipped dashboards to their JSON files' text (prettier-formatted, as committed). */
import { format, resolveConfig } from 'prettier';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS } from './dashboards.js';
import { buildDashboard } from './panels.js';

/** Directory of the generated JSON, which Grafana's dashboard provider reads. */
export const DASHBOARD_DIR = fileURLToPath(new URL('./dashboards/', import.meta.url));

/** File name → file text, for every shipped dashboard. */
export async function renderDashboards(): Promise<Map<string, string>> {
  const options = (await resolveConfig(DASHBOARD_DIR)) ?? {};
  const out = new Map<string, string>();
  for (const spec of DASHBOARDS) {
    const text = await format(JSON.stringify(buildDashboard(spec)), { ...options, parser: 'json' });
    out.set(`${spec.uid}.json`, text);
  }
  return out;
}
