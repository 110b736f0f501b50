/**
 * vLLM's runtime LoRA updates (`OpenAIServingModels.load_lora_adapter` / `unload_lora_adapter`,
 * vllm/entrypoints/openai/serving_models.py): the adapter registry changes, and the answer is
 * vLLM's — a plain-text success line, or its error status, type and message (docs/lora.md#routes).
 */
import { LoraError, type LoraRegistry } from '../lora/lora-registry.js';
import type { LoadLoraAdapterRequest, UnloadLoraAdapterRequest } from '../protocol/lora.js';
import { ApiError } from './errors.js';

/** Loading without NIM_PEFT_SOURCE: vLLM's engine refuses adapters when LoRA is off (400). */
const LORA_OFF = 'LoRA is not enabled: set NIM_PEFT_SOURCE (--peft-source) to enable it.';

export function serveLoadLora(loras: LoraRegistry | undefined, req: LoadLoraAdapterRequest): string {
  if (!loras) throw new ApiError(400, LORA_OFF);
  const name = req.lora_name ?? '';
  try {
    loras.load(name, req.lora_path ?? '', { source: 'api', inplace: req.load_inplace === true });
  } catch (err) {
    throw asApiError(err);
  }
  return `Success: LoRA adapter '${name}' added successfully.`;
}

export function serveUnloadLora(loras: LoraRegistry | undefined, req: UnloadLoraAdapterRequest): string {
  if (!loras) throw new ApiError(400, LORA_OFF);
  const name = req.lora_name ?? '';
  try {
    loras.unload(name);
  } catch (err) {
    throw asApiError(err);
  }
  return `Success: LoRA adapter '${name}' removed successfully.`;
}

function asApiError(err: unknown): unknown {
  if (!(err instanceof LoraError)) return err;
  return new ApiError(err.status, err.message, null, {}, err.type);
}
