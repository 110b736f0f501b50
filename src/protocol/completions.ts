/** The /v1/completions request (legacy completions), as vLLM accepts it. */
import { z } from 'zod';
import { ResponseFormatSchema } from './chat.js';
import { GuidedChoiceSchema, StructuredOutputsSchema } from './guided-bounds.js';
import { samplingFields } from './sampling.js';

export const CompletionRequestSchema = z
  .object({
    ...samplingFields,
    /**
     * 0 only with `echo`: the prompt comes back (with its logprobs) and nothing is generated, as
     * OpenAI and vLLM allow (vLLM `echo_without_generation`); lm-eval scores prompts this way.
     */
    max_tokens: z.number().int().min(0).nullish(),
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
    structured_outputs: StructuredOutputsSchema.nullish(),
    guided_json: z.unknown().optional(),
    guided_regex: z.string().nullish(),
    guided_choice: GuidedChoiceSchema.nullish(),
    guided_grammar: z.string().nullish(),
  })
  .superRefine((req, ctx) => {
    if (req.max_tokens === 0 && req.echo !== true) {
      // vLLM's SamplingParams check, for a request that would generate nothing at all.
      ctx.addIssue({
        code: 'custom',
        path: ['max_tokens'],
        message: 'max_tokens must be at least 1, got 0.',
      });
    }
  });

export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;
