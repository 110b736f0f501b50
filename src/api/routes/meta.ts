/** GET /v1/metadata and GET /v1/version (nim-api.md §1b). */
import type { Hono } from 'hono';
import type { ServerInfo } from '../server-info.js';

/** The OpenAPI version string that /v1/version reports as `api` (as FastAPI's `openapi` field). */
export const OPENAPI_VERSION = '3.1.0';

export function registerMetaRoutes(app: Hono, info: ServerInfo): void {
  app.get('/v1/version', (c) => c.json({ release: info.release, api: OPENAPI_VERSION }));
  app.get('/v1/metadata', (c) =>
    c.json({
      version: info.release,
      modelInfo: [
        {
          shortName: info.modelName,
          modelUrl: `https://catalog.ngc.nvidia.com/orgs/nim/teams/${info.modelName.replace('/', '/models/')}`,
        },
      ],
      licenseInfo: {
        name: 'Apache-2.0',
        type: 'file',
        path: 'LICENSE',
        url: 'https://www.apache.org/licenses/LICENSE-2.0',
      },
      assetInfo: [],
      repository_override: '',
      ...info.metadata,
    }),
  );
}
