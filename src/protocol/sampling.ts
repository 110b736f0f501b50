/**
 * Sampling fields shared by /v1/chat/completions and /v1/completions: OpenAI's, plus the vLLM
 * extras NIM 2.x accepts top-level and NIM 1.x's `nvext` object
 * (docs/nim-api.md#request-fields). Unknown fields are stripped, as vLLM ignores them.
 */
import { z } from 'zod';
import { GuidedChoiceSchema } from './guided-bounds.js';

/**
 * Stop strings: at most MAX_STOP_STRINGS of at most MAX_STOP_CHARS characters each (vLLM sets no
 * bound; OpenAI allows 4 sequences). The matcher is linear in the output whatever the strings,
 * but its automaton grows with their total length and a stream holds back up to the longest one.
 */
export const MAX_STOP_STRINGS = 64;
export const MAX_STOP_CHARS = 1000;

/** The bounds above, for any field that holds stop strings (`stop`, /v1/messages' `stop_sequences`). */
export function checkStopBounds(list: readonly string[], ctx: z.RefinementCtx): void {
  if (list.length > MAX_STOP_STRINGS) {
    ctx.addIssue({
      code: 'custom',
      message: `at most ${MAX_STOP_STRINGS} stop strings are accepted, got ${list.length}`,
    });
  }
  const longest = list.reduce((max, s) => Math.max(max, s.length), 0);
  if (longest > MAX_STOP_CHARS) {
    ctx.addIssue({
      code: 'custom',
      message: `a stop string may have at most ${MAX_STOP_CHARS} characters, got one of ${longest}`,
    });
  }
}

const stop = z
  .union([z.string(), z.array(z.string())])
  .nullish()
  .superRefine((value, ctx) => {
    if (value == null) return;
    checkStopBounds(typeof value === 'string' ? [value] : value, ctx);
  });

/** NIM 1.x's extension object (docs/nim-api.md#nvext); guided decoding keys are read by the content layer. */
export const NvextSchema = z.looseObject({
  top_k: z.number().int().min(-1).nullish(),
  repetition_penalty: z.number().gt(0).max(2).nullish(),
  ignore_eos: z.boolean().nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  guided_json: z.unknown().optional(),
  guided_regex: z.string().nullish(),
  guided_choice: GuidedChoiceSchema.nullish(),
  guided_grammar: z.string().nullish(),
  guided_decoding_backend: z.string().nullish(),
});

export const StreamOptionsSchema = z.object({
  include_usage: z.boolean().nullish(),
  continuous_usage_stats: z.boolean().nullish(),
});

export const samplingFields = {
  model: z.string().min(1, 'Field required'),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  stop,
  stream: z.boolean().nullish(),
  stream_options: StreamOptionsSchema.nullish(),
  seed: z
    .number()
    .int()
    .min(-(2 ** 63))
    .max(2 ** 64)
    .nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
  user: z.string().nullish(),
  // vLLM extras (NIM 2.x, top-level)
  top_k: z.number().int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  repetition_penalty: z.number().gt(0).nullish(),
  min_tokens: z.number().int().min(0).nullish(),
  ignore_eos: z.boolean().nullish(),
  stop_token_ids: z.array(z.number().int().min(0)).max(256).nullish(),
  include_stop_str_in_output: z.boolean().nullish(),
  skip_special_tokens: z.boolean().nullish(),
  cache_salt: z.string().max(1024).nullish(),
  prompt_cache_key: z.string().max(1024).nullish(),
  nvext: NvextSchema.nullish(),
};
