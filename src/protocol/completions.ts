/** The /v1/completions request (legacy completions), as vLLM accepts it. */
import { z } from 'zod';
import { ResponseFormatSchema } from './chat.js';
import { samplingFields } from './sampling.js';

export const CompletionRequestSchema = z.object({
  ...samplingFields,
  prompt: z.union([
    z.string(),
    z.array(z.string()).min(1).max(128),
    z.array(z.number().int().min(0)).min(1),
    z
      .array(z.array(z.number().int().min(0)).min(1))
      .min(1)
      .max(128),
  ]),
  /** Completions default to 16 tokens, as in OpenAI's and vLLM's protocol. */
  logprobs: z.number().int().min(0).max(20).nullish(),
  echo: z.boolean().nullish(),
  suffix: z.string().nullish(),
  best_of: z.number().int().min(1).max(128).nullish(),
  // vLLM structured outputs (≥ 0.12) and the older top-level guided_* spellings, as in chat
  response_format: ResponseFormatSchema.nullish(),
  structured_outputs: z.record(z.string(), z.unknown()).nullish(),
  guided_json: z.unknown().optional(),
  guided_regex: z.string().nullish(),
  guided_choice: z.array(z.string()).nullish(),
  guided_grammar: z.string().nullish(),
});

export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;
