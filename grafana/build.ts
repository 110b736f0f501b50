/** `npm run grafana:build`: writes grafana/dashboards/*.json from dashboards.ts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARD_DIR, renderDashboards } from './render.js';

mkdirSync(DASHBOARD_DIR, { recursive: true });
for (const [file, text] of await renderDashboards()) {
  writeFileSync(join(DASHBOARD_DIR, file), text);
  console.log(`wrote grafana/dashboards/${file}`);
}
