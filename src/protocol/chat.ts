/** The /v1/chat/completions request as NIM validates it (OpenAI's fields plus vLLM's). */
import { z } from 'zod';
import { BoundedJsonSchema, GuidedChoiceSchema, StructuredOutputsSchema } from './guided-bounds.js';
import { samplingFields } from './sampling.js';

const TextPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const OtherPart = z.looseObject({ type: z.string() });
const Content = z.union([z.string(), z.array(z.union([TextPart, OtherPart]))]).nullish();

const ToolCall = z.looseObject({
  id: z.string().optional(),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const ChatMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: Content,
  name: z.string().nullish(),
  tool_calls: z.array(ToolCall).nullish(),
  tool_call_id: z.string().nullish(),
  reasoning_content: z.string().nullish(),
});

export const ToolSchema = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: BoundedJsonSchema.nullish(),
    strict: z.boolean().nullish(),
  }),
});

export const ToolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

export const ResponseFormatSchema = z.union([
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string(),
      description: z.string().nullish(),
      schema: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

export const ChatCompletionRequestSchema = z.object({
  ...samplingFields,
  messages: z.array(ChatMessageSchema).min(1, 'List should have at least 1 item').max(10_000),
  max_completion_tokens: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  tools: z.array(ToolSchema).max(512).nullish(),
  tool_choice: ToolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: ResponseFormatSchema.nullish(),
  add_generation_prompt: z.boolean().nullish(),
  echo: z.boolean().nullish(),
  // vLLM structured outputs (≥ 0.12) and the older top-level guided_* spellings
  structured_outputs: StructuredOutputsSchema.nullish(),
  guided_json: z.unknown().optional(),
  guided_regex: z.string().nullish(),
  guided_choice: GuidedChoiceSchema.nullish(),
  guided_grammar: z.string().nullish(),
  // vLLM's ChatCompletionRequest: gpt-oss reads it (docs/api.md#reasoning-models); others ignore it.
  reasoning_effort: z.enum(['low', 'medium', 'high']).nullish(),
});

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;
export type WireChatMessage = z.infer<typeof ChatMessageSchema>;
