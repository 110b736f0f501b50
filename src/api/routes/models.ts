/**
 * GET /v1/models: vLLM's ModelList (docs/nim-api.md#model-list): the served base model names,
 * then the LoRA adapters as vLLM lists them (`show_available_models`,
 * vllm/entrypoints/openai/serving_models.py): `root` the adapter's path, `parent` its base model,
 * no `max_model_len` (docs/lora.md#models).
 */
import type { LoraAdapter, LoraRegistry } from '../../lora/lora-registry.js';
import type { Routes } from '../http/routes.js';
import type { ServerInfo } from '../server-info.js';

export function registerModelsRoute(routes: Routes, info: ServerInfo, loras?: LoraRegistry): void {
  const card = (
    id: string,
    created: number,
    root: string,
    parent: string | null,
    maxModelLen: number | null,
  ) => ({
    id,
    object: 'model',
    created,
    owned_by: info.ownedBy,
    root,
    parent,
    max_model_len: maxModelLen,
    permission: [
      {
        id: `modelperm-${id.replace(/[^a-z0-9]/gi, '')}`,
        object: 'model_permission',
        created,
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
  });
  const base = info.servedModels.map((id) =>
    card(id, info.startedAtS, info.modelName, null, info.maxModelLen),
  );
  const adapterCard = (a: LoraAdapter) => card(a.name, a.createdS, a.path, a.parent, null);
  const body = { object: 'list', data: base };
  // Without LoRA the body never changes; with it, adapters come and go at run time.
  routes.get('/v1/models', (c) =>
    c.json(loras ? { object: 'list', data: [...base, ...loras.list().map(adapterCard)] } : body),
  );
}
