/**
 * A Responses request as the chat messages the template renders, as vLLM builds them
 * (vllm/entrypoints/openai/responses/utils.py, `construct_input_messages` and
 * `_construct_message_from_response_item`):
 *
 * - `instructions` first, as a system message; a previous response's system messages are dropped
 *   ("instructions from a previous response will not be carried over", OpenAI's reference for
 *   `instructions`), the current request's instructions standing in their place;
 * - with `previous_response_id`: the messages that response answered, then its output —
 *   messages as assistant turns and function calls as assistant tool calls (vLLM carries only the
 *   messages over; the calls are kept here, as OpenAI does, so that a `function_call_output` in the
 *   next turn follows its call); reasoning is never carried over, as the templates drop it;
 * - then the new input: a string is one user message; a `function_call` item joins the assistant
 *   message before it (or starts one), a `function_call_output` is a `tool` message, a message's
 *   text parts are joined as chat content parts are.
 *
 * So a second turn's prompt starts with the first turn's prompt and answer, and the prefix cache
 * serves that part (`usage.input_tokens_details.cached_tokens`).
 */
import type { ChatMessage, ChatToolCall } from '../content/chat-template.js';
import type { ResponsesContentPart, ResponsesInputItem, ResponsesRequest } from '../protocol/responses.js';
import { ApiError } from './errors.js';
import type { ResponsesOutputItem } from './responses-protocol.js';

/** What a stored response hands to the next turn (responses-store.ts). */
export interface PreviousTurn {
  /** The messages the previous response answered. */
  readonly messages: readonly ChatMessage[];
  readonly output: readonly ResponsesOutputItem[];
}

type MutableMessage = { -readonly [K in keyof ChatMessage]: ChatMessage[K] };

export function conversationOf(
  req: Pick<ResponsesRequest, 'input' | 'instructions'>,
  previous: PreviousTurn | undefined,
): ChatMessage[] {
  const messages: MutableMessage[] = [];
  if (req.instructions) messages.push({ role: 'system', content: req.instructions });
  if (previous !== undefined) {
    for (const m of previous.messages) if (m.role !== 'system') messages.push(m);
    for (const item of previous.output) appendOutputItem(messages, item);
  }
  if (typeof req.input === 'string') {
    messages.push({ role: 'user', content: req.input });
  } else {
    req.input.forEach((item, index) => appendInputItem(messages, item, index));
  }
  return messages;
}

function appendOutputItem(messages: MutableMessage[], item: ResponsesOutputItem): void {
  switch (item.type) {
    case 'message':
      appendAssistantText(messages, item.content.map((part) => part.text).join(''));
      return;
    case 'function_call':
      appendToolCall(messages, item.call_id, item.name, item.arguments);
      return;
    case 'reasoning':
      return;
  }
}

function appendInputItem(messages: MutableMessage[], item: ResponsesInputItem, index: number): void {
  switch (item.type) {
    case 'message':
      if (item.role === 'assistant') appendAssistantText(messages, textOf(item.content));
      else messages.push({ role: item.role, content: textOf(item.content) });
      return;
    case 'function_call':
      appendToolCall(messages, item.call_id, item.name, item.arguments);
      return;
    case 'function_call_output':
      messages.push({ role: 'tool', content: textOf(item.output), tool_call_id: item.call_id });
      return;
    case 'reasoning':
      // vLLM refuses what it cannot read back (utils.py: "Encrypted content is not supported.").
      if (item.encrypted_content != null) {
        throw new ApiError(400, 'Encrypted content is not supported.', `input.${index}.encrypted_content`);
      }
      return;
  }
}

/** An assistant text joins the assistant message before it if that one has none (vLLM's merge). */
function appendAssistantText(messages: MutableMessage[], text: string): void {
  const last = messages[messages.length - 1];
  if (last?.role === 'assistant' && last.content == null) {
    // A copy: the message may be a stored turn's, shared with the store.
    messages[messages.length - 1] = { ...last, content: text };
    return;
  }
  messages.push({ role: 'assistant', content: text });
}

function appendToolCall(messages: MutableMessage[], id: string, name: string, args: string): void {
  const call: ChatToolCall = { id, type: 'function', function: { name, arguments: args } };
  const last = messages[messages.length - 1];
  if (last?.role === 'assistant') {
    // A copy: the message may be a stored turn's, shared with the store.
    messages[messages.length - 1] = { ...last, tool_calls: [...(last.tool_calls ?? []), call] };
    return;
  }
  messages.push({ role: 'assistant', content: null, tool_calls: [call] });
}

/** A message's text: its text parts joined with "\n", as chat content parts are (util/content-text.ts). */
function textOf(content: string | readonly ResponsesContentPart[]): string {
  if (typeof content === 'string') return content;
  const texts: string[] = [];
  for (const part of content) texts.push(part.type === 'refusal' ? part.refusal : part.text);
  return texts.join('\n');
}
