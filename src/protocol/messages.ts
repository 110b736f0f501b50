/**
 * The /v1/messages request (Anthropic's Messages API) as vLLM validates it
 * (vllm/entrypoints/anthropic/protocol.py `AnthropicMessagesRequest`; fields from
 * https://docs.anthropic.com/en/api/messages). Unknown fields are stripped, as pydantic ignores
 * them there: `thinking`, `cache_control`, `service_tier`, `container`, … are accepted and have no
 * effect (vLLM does not map them; docs/messages.md#request says what each field does).
 */
import { z } from 'zod';
import { BoundedJsonSchema } from './guided-bounds.js';
import { checkStopBounds } from './sampling.js';

/** Anthropic's and pydantic's word for a missing field ("max_tokens: Field required"). */
const required = {
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'Field required' : undefined),
};

const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string() });

const ImageBlock = z.looseObject({ type: z.literal('image'), source: z.record(z.string(), z.unknown()) });

const ToolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.record(z.string(), z.unknown()),
});

/** A tool result's content: a string, or blocks (text read, images refused, others ignored). */
const ToolResultContent = z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]);

const ToolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: ToolResultContent.nullish(),
  is_error: z.boolean().nullish(),
});

const ThinkingBlock = z.looseObject({
  type: z.literal('thinking'),
  thinking: z.string(),
  signature: z.string().nullish(),
});

const RedactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() });

/** vLLM accepts a `tool_reference` block and does nothing with it at the top level of a message. */
const ToolReferenceBlock = z.looseObject({ type: z.literal('tool_reference') });

export const ContentBlockSchema = z.discriminatedUnion('type', [
  TextBlock,
  ImageBlock,
  ToolUseBlock,
  ToolResultBlock,
  ThinkingBlock,
  RedactedThinkingBlock,
  ToolReferenceBlock,
]);

const BLOCK_TYPES: readonly string[] = ContentBlockSchema.options.map((o) => o.shape.type.value);

const BlockList = z.array(ContentBlockSchema).min(1, 'message content must not be empty').max(10_000);

/**
 * What is wrong with a message's content, in words: zod reports a failed union as "Invalid input"
 * without saying which block or field.
 */
function contentProblem(input: unknown): string | undefined {
  if (!Array.isArray(input)) return 'content must be a string or a list of content blocks';
  for (const [i, block] of (input as unknown[]).entries()) {
    const type = (block as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !BLOCK_TYPES.includes(type)) {
      return `block ${i}: unsupported content block type ${JSON.stringify(type)}; accepted: ${BLOCK_TYPES.join(', ')}`;
    }
  }
  const issue = BlockList.safeParse(input).error?.issues[0];
  return issue && `block ${issue.path.map(String).join('.')}: ${issue.message}`;
}

export const MessageParamSchema = z.looseObject({
  // vLLM accepts `system` messages too and folds their text into the system prompt.
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), BlockList], { error: (issue) => contentProblem(issue.input) }),
});

export const AnthropicToolSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().nullish(),
  input_schema: BoundedJsonSchema,
});

export const AnthropicToolChoiceSchema = z
  .looseObject({
    type: z.enum(['auto', 'any', 'tool', 'none']),
    name: z.string().nullish(),
    disable_parallel_tool_use: z.boolean().nullish(),
  })
  .superRefine((choice, ctx) => {
    if (choice.type === 'tool' && !choice.name) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: "tool_choice.name is required when type is 'tool'",
      });
    }
  });

/** vLLM's `output_config`: a JSON Schema for the answer, and gpt-oss's reasoning effort. */
export const OutputConfigSchema = z.looseObject({
  effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullish(),
  format: z.looseObject({ type: z.literal('json_schema'), schema: BoundedJsonSchema.nullish() }).nullish(),
});

export const MessagesRequestSchema = z.object({
  model: z.string(required).min(1, 'Field required'),
  max_tokens: z.number(required).int().min(1, 'max_tokens must be positive'),
  messages: z
    .array(MessageParamSchema, required)
    .min(1, 'messages must contain at least one item')
    .max(10_000),
  system: z.union([z.string(), z.array(TextBlock).max(10_000)]).nullish(),
  stop_sequences: z
    .array(z.string())
    .nullish()
    .superRefine((list, ctx) => {
      if (list != null) checkStopBounds(list, ctx);
    }),
  stream: z.boolean().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(-1).nullish(),
  tools: z.array(AnthropicToolSchema).max(512).nullish(),
  tool_choice: AnthropicToolChoiceSchema.nullish(),
  metadata: z.looseObject({ user_id: z.string().max(1024).nullish() }).nullish(),
  output_config: OutputConfigSchema.nullish(),
});

export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;
export type ContentBlockParam = z.infer<typeof ContentBlockSchema>;
export type MessageParam = z.infer<typeof MessageParamSchema>;

/** /v1/messages/count_tokens: the same prompt fields, nothing to generate. */
export const CountTokensRequestSchema = MessagesRequestSchema.pick({
  model: true,
  messages: true,
  system: true,
  tools: true,
  tool_choice: true,
});

export type CountTokensRequest = z.infer<typeof CountTokensRequestSchema>;
