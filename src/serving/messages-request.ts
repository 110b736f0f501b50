/**
 * An Anthropic Messages request as the chat request it becomes — what vLLM does: its
 * AnthropicServingMessages converts the request and runs it through the chat server
 * (vllm/entrypoints/anthropic/serving.py `_convert_anthropic_to_openai_request`). So the prompt a
 * /v1/messages request renders is the chat prompt of the converted messages, token for token, and
 * a conversation cached through one route is a cache hit through the other.
 *
 * The mapping, as vLLM's:
 * - `system` (a string, or text blocks joined with no separator) and any `system`-role message's
 *   text become one system message first;
 * - text blocks become text parts (one alone becomes the string content);
 * - `tool_use` blocks become the assistant's `tool_calls`, arguments `json.dumps(input)`;
 * - a user's `tool_result` becomes a `tool` message (text blocks joined with "\n") placed before
 *   what remains of that user message, which is dropped when nothing remains;
 * - `thinking`, `redacted_thinking` and `tool_reference` blocks render nothing;
 * - `tools` become functions with `input_schema` as `parameters`; `tool_choice` `auto`/`any`/`none`/
 *   `tool` become `auto`/`required`/`none`/the named function (`auto` when tools come without one);
 * - `tool_choice.disable_parallel_tool_use: true` → `parallel_tool_calls: false` (nimsim's: at most
 *   one `tool_use` block, as Anthropic's API promises);
 * - `stop_sequences` → `stop`, `output_config.effort` → `reasoning_effort`,
 *   `output_config.format` → a json_schema `response_format`.
 * nimsim's own: `metadata.user_id` is the request's session key, as `user` is for chat (the
 * `session` router, the access log).
 *
 * Images are refused (400): every model in nimsim's catalog is text-only, and vLLM refuses image
 * input to a model without a multimodal processor (vllm/entrypoints/chat_utils.py).
 */
import { pythonJson } from '../content/python-json.js';
import type { ChatCompletionRequest, WireChatMessage } from '../protocol/chat.js';
import type {
  ContentBlockParam,
  CountTokensRequest,
  MessageParam,
  MessagesRequest,
} from '../protocol/messages.js';
import { ApiError } from './errors.js';

/** Claude Code's attribution header changes per request; vLLM drops it so the prefix stays cacheable. */
const BILLING_HEADER_PREFIX = 'x-anthropic-billing-header';

type ChatMessages = WireChatMessage[];
type ToolCall = NonNullable<WireChatMessage['tool_calls']>[number];
type TextPart = { type: 'text'; text: string };

export function toChatRequest(req: MessagesRequest): ChatCompletionRequest {
  const effort = req.output_config?.effort ?? undefined;
  if (effort === 'xhigh' || effort === 'max') {
    // vLLM passes it on as reasoning_effort, which its chat request does not accept.
    throw new ApiError(
      400,
      `output_config.effort '${effort}' is not supported; use low, medium or high.`,
      'output_config.effort',
    );
  }
  const schema = req.output_config?.format?.schema ?? undefined;
  return {
    ...toChatPrompt(req),
    max_tokens: req.max_tokens,
    stop: req.stop_sequences ?? undefined,
    temperature: req.temperature ?? undefined,
    top_p: req.top_p ?? undefined,
    top_k: req.top_k ?? undefined,
    stream: req.stream ?? false,
    user: req.metadata?.user_id ?? undefined,
    // "disable_parallel_tool_use: true ensures that Claude uses at most one tool" (Anthropic's
    // tool_choice): the chat route's parallel_tool_calls false, which keeps the first call.
    ...(disablesParallelCalls(req.tool_choice) ? { parallel_tool_calls: false } : {}),
    ...(effort ? { reasoning_effort: effort } : {}),
    ...(schema
      ? { response_format: { type: 'json_schema' as const, json_schema: { name: 'json_schema', schema } } }
      : {}),
  };
}

/** The prompt half of the conversion (model, messages, tools), shared with count_tokens. */
export function toChatPrompt(req: CountTokensRequest): ChatCompletionRequest {
  const messages: ChatMessages = [];
  const system = systemText(req);
  if (system !== '') messages.push({ role: 'system', content: system });
  for (const msg of req.messages) {
    if (msg.role !== 'system') convertMessage(msg, messages);
  }
  const tools = req.tools?.map((tool) => ({
    type: 'function' as const,
    function: {
      name: tool.name,
      description: tool.description ?? undefined,
      // vLLM defaults a schema without a type to an object.
      parameters: 'type' in tool.input_schema ? tool.input_schema : { ...tool.input_schema, type: 'object' },
    },
  }));
  return {
    model: req.model,
    messages,
    ...(tools ? { tools } : {}),
    ...toolChoiceOf(req.tool_choice, tools !== undefined),
  };
}

function systemText(req: CountTokensRequest): string {
  const parts: string[] = [];
  const add = (text: string) => {
    if (text !== '' && !text.startsWith(BILLING_HEADER_PREFIX)) parts.push(text);
  };
  const system = req.system ?? undefined;
  if (typeof system === 'string') parts.push(system);
  else if (system) for (const block of system) add(block.text);
  for (const msg of req.messages) {
    if (msg.role !== 'system') continue;
    if (typeof msg.content === 'string') parts.push(msg.content);
    else for (const block of msg.content) if (block.type === 'text') add(block.text);
  }
  return parts.join('');
}

function convertMessage(msg: MessageParam, out: ChatMessages): void {
  const role = msg.role as 'user' | 'assistant';
  if (typeof msg.content === 'string') {
    out.push({ role, content: msg.content });
    return;
  }
  const parts: TextPart[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of msg.content) convertBlock(block, role, parts, toolCalls, out);
  const content = parts.length === 0 ? undefined : parts.length === 1 ? parts[0]!.text : parts;
  // A user message of tool results alone leaves nothing after its tool messages.
  if (role === 'user' && content === undefined) return;
  out.push({
    role,
    ...(content !== undefined ? { content } : {}),
    ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
  });
}

function convertBlock(
  block: ContentBlockParam,
  role: 'user' | 'assistant',
  parts: TextPart[],
  toolCalls: ToolCall[],
  out: ChatMessages,
): void {
  switch (block.type) {
    case 'text':
      if (block.text !== '') parts.push({ type: 'text', text: block.text });
      return;
    case 'image':
      throw notMultimodal();
    case 'tool_use':
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: pythonJson(block.input) },
      });
      return;
    case 'tool_result':
      if (role === 'user') {
        out.push({ role: 'tool', tool_call_id: block.tool_use_id, content: toolResultText(block.content) });
      } else {
        parts.push({ type: 'text', text: `Tool result: ${toolResultText(block.content)}` });
      }
      return;
    case 'thinking':
    case 'redacted_thinking':
    case 'tool_reference':
      return;
  }
}

function toolResultText(content: Extract<ContentBlockParam, { type: 'tool_result' }>['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  const texts: string[] = [];
  for (const item of content) {
    if (item.type === 'image') throw notMultimodal();
    if (item.type === 'text' && typeof item['text'] === 'string') texts.push(item['text']);
  }
  return texts.join('\n');
}

function notMultimodal(): ApiError {
  return new ApiError(
    400,
    'Image content is not supported: the served model is not a multimodal model (text blocks only).',
    'messages',
  );
}

function disablesParallelCalls(choice: CountTokensRequest['tool_choice']): boolean {
  return choice?.disable_parallel_tool_use === true;
}

function toolChoiceOf(
  choice: CountTokensRequest['tool_choice'],
  hasTools: boolean,
): Pick<ChatCompletionRequest, 'tool_choice'> {
  switch (choice?.type) {
    case undefined:
      return hasTools ? { tool_choice: 'auto' } : {};
    case 'auto':
      return { tool_choice: 'auto' };
    case 'any':
      return { tool_choice: 'required' };
    case 'none':
      return { tool_choice: 'none' };
    case 'tool':
      return { tool_choice: { type: 'function', function: { name: choice.name ?? '' } } };
  }
}
