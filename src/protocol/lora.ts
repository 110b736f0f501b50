/**
 * vLLM's LoRA adapter routes' bodies (`LoadLoRAAdapterRequest`, `UnloadLoRAAdapterRequest`,
 * vllm/entrypoints/openai/protocol.py). The names are optional here so that a missing one gets
 * vLLM's own message for an empty one ("Both 'lora_name' and 'lora_path' must be provided.").
 */
import { z } from 'zod';

export const LoadLoraAdapterRequestSchema = z.object({
  lora_name: z.string().optional(),
  lora_path: z.string().optional(),
  /** Replace an adapter of that name (vLLM's `load_inplace`). */
  load_inplace: z.boolean().optional(),
});
export type LoadLoraAdapterRequest = z.infer<typeof LoadLoraAdapterRequestSchema>;

export const UnloadLoraAdapterRequestSchema = z.object({
  lora_name: z.string().optional(),
  /** Accepted, as vLLM's schema has it; the adapter is found by name. */
  lora_int_id: z.number().int().nullish(),
});
export type UnloadLoraAdapterRequest = z.infer<typeof UnloadLoraAdapterRequestSchema>;
