/** GET /v1/metadata, GET /v1/version and GET /v1/license (docs/nim-api.md#metadata, #version-and-license). */
import type { Routes } from '../http/routes.js';
import { readLicense } from '../../license.js';
import { ApiError } from '../../serving/errors.js';
import { OPENAPI_VERSION, type ServerInfo } from '../server-info.js';

export function registerMetaRoutes(routes: Routes, info: ServerInfo): void {
  const license = readLicense();
  routes.get('/v1/version', (c) => c.json({ release: info.release, api: OPENAPI_VERSION }));
  // NIM 2.x: name, path, sha, size, url, type "file" and the text (1.x carried it in /v1/metadata).
  routes.get('/v1/license', (c) => {
    if (!license) throw new ApiError(404, 'No license file is installed with this server.');
    return c.json({ ...license, type: 'file' });
  });
  routes.get('/v1/metadata', (c) =>
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
