/**
 * The POST /v1/responses request as NIM 2.x (vLLM's OpenAI server) validates it: OpenAI's fields
 * (https://platform.openai.com/docs/api-reference/responses/create) as vLLM's `ResponsesRequest`
 * declares them (vllm/entrypoints/openai/responses/protocol.py), with vLLM's sampling extras.
 * Unknown fields are ignored, as vLLM's OpenAIBaseModel ignores them and as chat does here.
 *
 * Input items are what a text model takes: messages (a string, or `input_text` / `output_text` /
 * `refusal` parts), `function_call` and `function_call_output` items, and `reasoning` items sent
 * back from an earlier output. Anything else (images, files, hosted tools) is a 400 naming the
 * field: the simulated models read text only.
 */
import { z } from 'zod';
import { BoundedJsonSchema, StructuredOutputsSchema } from './guided-bounds.js';
import { samplingFields } from './sampling.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A string or a list checked by `list`, by hand rather than as a zod union, whose failure names
 * only the field: an invalid entry's issues keep their own path (`input.0.content.0.type`).
 */
function stringOr<L extends z.ZodType<unknown[]>>(list: L, expected: string) {
  const shape = z.union([z.string(), z.array(z.unknown())], { error: `must be a string or ${expected}` });
  return shape.transform((value, ctx): string | z.output<L> => {
    if (typeof value === 'string') return value;
    const parsed = list.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', path: issue.path });
    return z.NEVER;
  });
}

const ContentPart = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('input_text'), text: z.string() }),
  z.looseObject({ type: z.literal('output_text'), text: z.string() }),
  z.looseObject({ type: z.literal('refusal'), refusal: z.string() }),
]);

const MessageItem = z.looseObject({
  type: z.literal('message'),
  role: z.enum(['user', 'system', 'developer', 'assistant']),
  content: stringOr(z.array(ContentPart), 'a list of content parts'),
  id: z.string().nullish(),
  status: z.string().nullish(),
});

const FunctionCallItem = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  id: z.string().nullish(),
  status: z.string().nullish(),
});

const FunctionCallOutputItem = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: stringOr(z.array(ContentPart), 'a list of content parts'),
  id: z.string().nullish(),
  status: z.string().nullish(),
});

const ReasoningItem = z.looseObject({
  type: z.literal('reasoning'),
  id: z.string().nullish(),
  summary: z.array(z.looseObject({ type: z.string(), text: z.string() })).default([]),
  content: z.array(z.looseObject({ type: z.string(), text: z.string() })).nullish(),
  encrypted_content: z.string().nullish(),
  status: z.string().nullish(),
});

/** An item; a message may leave out `type` (OpenAI's EasyInputMessage). */
const InputItem = z.preprocess(
  (item) =>
    isObject(item) && item['type'] === undefined && 'role' in item ? { ...item, type: 'message' } : item,
  z.discriminatedUnion('type', [MessageItem, FunctionCallItem, FunctionCallOutputItem, ReasoningItem]),
);

const InputItems = z.array(InputItem).min(1, 'List should have at least 1 item').max(10_000);

/** `input`: a string (one user message) or a list of items. */
const InputSchema = stringOr(InputItems, 'a list of input items').describe(
  'a string (one user message), or a list of input items: messages, function_call, function_call_output, reasoning',
);

/** A function tool, flat (`name` at the top, not under `function` as in chat). */
export const ResponsesToolSchema = z.looseObject({
  type: z.literal('function', { error: 'nimsim serves function tools only (type "function")' }),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: BoundedJsonSchema.nullish(),
  strict: z.boolean().nullish(),
});

const ToolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), name: z.string().min(1) }),
]);

const TextFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().min(1).max(64),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().nullish(),
    strict: z.boolean().nullish(),
  }),
]);

/** OpenAI's metadata bounds: 16 pairs, keys up to 64 characters, values up to 512. */
const MetadataSchema = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, 'at most 16 key-value pairs');

/** vLLM's accepted `include` values (ResponsesRequest.include). */
const INCLUDABLE = [
  'code_interpreter_call.outputs',
  'computer_call_output.output.image_url',
  'file_search_call.results',
  'message.input_image.image_url',
  'message.output_text.logprobs',
  'reasoning.encrypted_content',
] as const;

export const ResponsesRequestSchema = z.object({
  model: samplingFields.model,
  input: InputSchema,
  instructions: z.string().nullish(),
  tools: z.array(ResponsesToolSchema).max(512).nullish(),
  tool_choice: ToolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_tool_calls: z.number().int().min(1).nullish(),
  text: z.looseObject({ format: TextFormatSchema.nullish(), verbosity: z.string().nullish() }).nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  temperature: samplingFields.temperature,
  top_p: samplingFields.top_p,
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  seed: samplingFields.seed,
  stream: samplingFields.stream,
  store: z.boolean().nullish(),
  background: z.boolean().nullish(),
  previous_response_id: z.string().min(1).max(256).nullish(),
  reasoning: z
    .looseObject({
      effort: z.enum(['low', 'medium', 'high']).nullish(),
      summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
    })
    .nullish(),
  include: z.array(z.enum(INCLUDABLE)).nullish(),
  metadata: MetadataSchema.nullish(),
  user: samplingFields.user,
  service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority']).nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  // vLLM refuses a prompt template (ResponsesRequest.validate_prompt): kept to answer the same 400.
  prompt: z.unknown().optional(),
  // vLLM's extras on the Responses API
  top_k: samplingFields.top_k,
  repetition_penalty: samplingFields.repetition_penalty,
  stop: samplingFields.stop,
  ignore_eos: samplingFields.ignore_eos,
  include_stop_str_in_output: samplingFields.include_stop_str_in_output,
  skip_special_tokens: samplingFields.skip_special_tokens,
  cache_salt: samplingFields.cache_salt,
  prompt_cache_key: samplingFields.prompt_cache_key,
  structured_outputs: StructuredOutputsSchema.nullish(),
});

export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;
export type ResponsesInputItem = Exclude<ResponsesRequest['input'], string>[number];
export type ResponsesTool = z.infer<typeof ResponsesToolSchema>;
export type ResponsesContentPart = z.infer<typeof ContentPart>;
