/**
 * vLLM's POST /v1/load_lora_adapter and /v1/unload_lora_adapter, behind NIMSIM_ADMIN_TOKEN (404
 * without it, as /admin/*): vLLM serves them only when runtime LoRA updating is allowed, and they
 * change what every client is served. Success is vLLM's plain-text line (docs/lora.md#routes).
 */
import { LoadLoraAdapterRequestSchema, UnloadLoraAdapterRequestSchema } from '../../protocol/lora.js';
import type { ServingContext } from '../../serving/context.js';
import { serveLoadLora, serveUnloadLora } from '../../serving/lora-adapters.js';
import { readJson } from '../http/body.js';
import type { Routes } from '../http/routes.js';

export const LOAD_LORA_PATH = '/v1/load_lora_adapter';
export const UNLOAD_LORA_PATH = '/v1/unload_lora_adapter';

export function registerLoraRoutes(routes: Routes, ctx: Pick<ServingContext, 'loras'>): void {
  routes.post(LOAD_LORA_PATH, async (c) =>
    c.text(serveLoadLora(ctx.loras, await readJson(c, LoadLoraAdapterRequestSchema))),
  );
  routes.post(UNLOAD_LORA_PATH, async (c) =>
    c.text(serveUnloadLora(ctx.loras, await readJson(c, UnloadLoraAdapterRequestSchema))),
  );
}
