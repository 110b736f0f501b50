/**
 * The shipped dashboards. Queries use only names a NIM or vLLM exports, plus nimsim's own where
 * neither has one, so the panels read the same against a real NIM 2.x / vLLM (except the nimsim_*
 * panels). `npm run grafana:build` writes their JSON under grafana/dashboards/.
 */
import { KV_CACHE } from './kv-cache-dashboard.js';
import { OVERVIEW } from './overview-dashboard.js';
import type { DashboardSpec } from './panels.js';

export { KV_CACHE, OVERVIEW };

/** Every shipped dashboard, in the order Grafana lists them. */
export const DASHBOARDS: readonly DashboardSpec[] = [OVERVIEW, KV_CACHE];
