/** GET /v1/models: vLLM's ModelList (docs/nim-api.md#model-list). */
import type { Routes } from '../http/routes.js';
import type { ServerInfo } from '../server-info.js';

export function registerModelsRoute(routes: Routes, info: ServerInfo): void {
  const body = {
    object: 'list',
    data: info.servedModels.map((id) => ({
      id,
      object: 'model',
      created: info.startedAtS,
      owned_by: info.ownedBy,
      root: info.modelName,
      parent: null,
      max_model_len: info.maxModelLen,
      permission: [
        {
          id: `modelperm-${id.replace(/[^a-z0-9]/gi, '')}`,
          object: 'model_permission',
          created: info.startedAtS,
          allow_create_engine: false,
          allow_sampling: true,
          allow_logprobs: true,
          allow_search_indices: false,
          allow_view: true,
          allow_fine_tuning: false,
          organization: '*',
          group: null,
          is_blocking: false,
        },
      ],
    })),
  };
  routes.get('/v1/models', (c) => c.json(body));
}
