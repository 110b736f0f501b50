/**
 * Engine results → Anthropic Messages objects: the `message` body, its content blocks, its
 * `stop_reason` and `usage` (docs/messages.md#response).
 *
 * Values follow vLLM's converter (vllm/entrypoints/anthropic/serving.py `messages_full_converter`,
 * `stop_reason_map`): a reasoning model's reasoning is a `thinking` block first, signed with a
 * random hex `signature`; the answer a `text` block when it is not empty; a parsed tool call a
 * `tool_use` block with its arguments as the `input` object; finish reasons `stop`/`length`/
 * `tool_calls` are `end_turn`/`max_tokens`/`tool_use`, and a matched stop string is
 * `stop_sequence` with the string (https://github.com/vllm-project/vllm/pull/45807). A forced
 * (`tool_choice: tool`) call keeps vLLM's chat finish reason `stop`, so `end_turn`.
 *
 * Usage follows https://github.com/vllm-project/vllm/pull/40912: with prefix caching on,
 * `input_tokens` is the prompt less its cached tokens, `cache_read_input_tokens` the cached
 * tokens and `cache_creation_input_tokens` 0 (vLLM has no count of tokens written); with caching
 * off both cache fields are absent and `input_tokens` is the whole prompt.
 *
 * Shapes are Anthropic's (https://docs.anthropic.com/en/api/messages): ids `msg_…`/`toolu_…`
 * (vLLM reuses its chat ids, `chatcmpl-…`), `type` and `role` always present and `stop_sequence`
 * null rather than absent (vLLM drops None fields).
 */
import type { StopReason } from '@anthropic-ai/sdk/resources/messages';
import { createRandom, hashSeed } from '../util/random.js';
import { choiceReasoning, choiceText, completedToolCalls, finishReasonOf } from './chat-format.js';
import type { NimStats } from './nim-stats.js';
import type { FinishedEvent } from './run-generation.js';
import type { PlannedGeneration } from './to-engine.js';

export type WireStopReason = Extract<StopReason, 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use'>;

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface MessageBody {
  id: string;
  type: 'message';
  role: 'assistant';
  content: ContentBlock[];
  model: string;
  stop_reason: WireStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
  /** NIM's per-request metrics (NIM_PER_REQ_METRICS_ENABLE), as chat carries them. */
  stats?: NimStats;
}

/** `toolu_<32 hex>`: the planned call's seeded id (`chatcmpl-tool-<hex>`) in Anthropic's spelling. */
export function toolUseId(callId: string): string {
  return `toolu_${callId.slice(callId.lastIndexOf('-') + 1)}`;
}

/** A thinking block's signature: 32 hex digits like vLLM's uuid4().hex, seeded so replies repeat. */
export function thinkingSignature(seed: number): string {
  const rng = createRandom(hashSeed(seed, 'thinking-signature'));
  let hex = '';
  for (let i = 0; i < 4; i++) hex += rng.nextUint32().toString(16).padStart(8, '0');
  return hex;
}

/** The stop reason of choice 0 and the stop string that caused it, if one did. */
export function stopOf(
  gen: PlannedGeneration,
  finished: FinishedEvent | undefined,
): { stop_reason: WireStopReason | null; stop_sequence: string | null } {
  switch (finishReasonOf(gen, 0, finished)) {
    case 'tool_calls':
      return { stop_reason: 'tool_use', stop_sequence: null };
    case 'length':
      return { stop_reason: 'max_tokens', stop_sequence: null };
    case 'stop': {
      const matched = gen.choices[0]?.plan.stopReason;
      return typeof matched === 'string'
        ? { stop_reason: 'stop_sequence', stop_sequence: matched }
        : { stop_reason: 'end_turn', stop_sequence: null };
    }
    default:
      return { stop_reason: null, stop_sequence: null };
  }
}

/** Usage of a finished reply; `cachedTokens` undefined = not known yet (a stream's message_start). */
export function anthropicUsage(
  promptTokens: number,
  outputTokens: number,
  cachingOn: boolean,
  cachedTokens: number | undefined,
): AnthropicUsage {
  if (!cachingOn || cachedTokens === undefined) {
    return { input_tokens: promptTokens, output_tokens: outputTokens };
  }
  return {
    input_tokens: promptTokens - cachedTokens,
    output_tokens: outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cachedTokens,
  };
}

/** The content blocks of choice 0 once it finished (a stream sends the same blocks piecewise). */
export function contentBlocks(gen: PlannedGeneration, finished: FinishedEvent | undefined): ContentBlock[] {
  const choice = gen.choices[0]!;
  const n = finished?.usage.completionTokens ?? 0;
  const blocks: ContentBlock[] = [];
  const reasoning = choice.plan.reasoning;
  if (reasoning !== undefined) {
    const thinking = choiceReasoning(gen, 0, n);
    if (thinking !== '')
      blocks.push({ type: 'thinking', thinking, signature: thinkingSignature(choice.seed) });
  }
  const calls = completedToolCalls(gen, 0, finished);
  // The calls' text is the calls themselves, parsed into tool_use blocks (vLLM's tool parser).
  const text = reasoning !== undefined && n <= reasoning.tokens ? '' : calls ? '' : choiceText(gen, 0, n);
  if (text !== '') blocks.push({ type: 'text', text });
  for (const call of calls ?? []) {
    blocks.push({
      type: 'tool_use',
      id: toolUseId(call.id),
      name: call.name,
      input: JSON.parse(call.arguments) as Record<string, unknown>,
    });
  }
  return blocks;
}

export function buildMessage(
  gen: PlannedGeneration,
  finished: FinishedEvent | undefined,
  cachingOn: boolean,
): MessageBody {
  const usage = finished?.usage;
  return {
    id: gen.id,
    type: 'message',
    role: 'assistant',
    content: contentBlocks(gen, finished),
    model: gen.model,
    ...stopOf(gen, finished),
    usage: anthropicUsage(
      gen.promptTokens,
      usage?.completionTokens ?? 0,
      cachingOn,
      usage?.cachedTokens ?? 0,
    ),
  };
}
