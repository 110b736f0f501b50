/** vLLM's /tokenize and /detokenize request bodies (vllm/entrypoints/openai/protocol.py). */
import { z } from 'zod';
import { ChatMessageSchema, ToolSchema } from './chat.js';

export const TokenizeRequestSchema = z.union([
  z.object({
    model: z.string().nullish(),
    prompt: z.string(),
    add_special_tokens: z.boolean().nullish(),
    return_token_strs: z.boolean().nullish(),
  }),
  z.object({
    model: z.string().nullish(),
    messages: z.array(ChatMessageSchema).min(1),
    add_generation_prompt: z.boolean().nullish(),
    tools: z.array(ToolSchema).nullish(),
    return_token_strs: z.boolean().nullish(),
  }),
]);
export type TokenizeRequest = z.infer<typeof TokenizeRequestSchema>;

export const DetokenizeRequestSchema = z.object({
  model: z.string().nullish(),
  tokens: z.array(z.number().int().min(0)),
});
export type DetokenizeRequest = z.infer<typeof DetokenizeRequestSchema>;
