/**
 * Engine results → chat.completion and chat.completion.chunk objects (OpenAI's shapes, with the
 * vLLM extras NIM 2.x returns: stop_reason, prompt_logprobs, kv_transfer_params).
 */
import type { ToolCallPlan } from '../content/tool-call-text.js';
import type { ApiCompat } from './errors.js';
import type { StreamedArray } from './json-body.js';
import type { ChatChunkHeader, ChatCompletionBody, WireUsage } from './protocol.js';
import { reasoningFields } from './reasoning.js';
import type { FinishedEvent } from './run-generation.js';
import type { PlannedGeneration } from './to-engine.js';

export function chunkHeader(gen: PlannedGeneration, created: number): ChatChunkHeader {
  return { id: gen.id, object: 'chat.completion.chunk', created, model: gen.model };
}

/** vLLM's stop_reason: the stop string that matched, else null (EOS or length). */
export function stopReasonOf(gen: PlannedGeneration, index: number, finished: FinishedEvent | undefined) {
  if (finished?.reason !== 'stop') return null;
  return gen.choices[index]?.plan.stopReason ?? null;
}

/**
 * The text a choice has produced: its planned pieces up to the tokens actually generated. For a
 * reasoning plan, the answer's text only (the pieces after the reasoning).
 */
export function choiceText(gen: PlannedGeneration, index: number, completionTokens: number): string {
  const plan = gen.choices[index]!.plan;
  return completionTokens >= plan.tokenIds.length
    ? plan.text
    : plan.pieces.slice(plan.reasoning?.tokens ?? 0, completionTokens).join('');
}

/** The reasoning a choice has produced so far (all of it once the answer began). */
export function choiceReasoning(gen: PlannedGeneration, index: number, completionTokens: number): string {
  const plan = gen.choices[index]!.plan;
  const part = plan.reasoning;
  if (part === undefined) return '';
  return completionTokens >= part.tokens ? part.text : plan.pieces.slice(0, completionTokens).join('');
}

/**
 * The complete tool calls a choice made, in order, or undefined (none planned, or cut short). With
 * the request's `parallel_tool_calls` false, the first only: vLLM's
 * `maybe_filter_parallel_tool_calls` (https://github.com/vllm-project/vllm/pull/26233) keeps what
 * the model generated (usage counts it) and returns the first call.
 */
export function completedToolCalls(
  gen: PlannedGeneration,
  index: number,
  finished: FinishedEvent | undefined,
): readonly ToolCallPlan[] | undefined {
  const plan = gen.choices[index]?.plan;
  if (plan?.toolCalls === undefined || finished?.reason !== 'stop') return undefined;
  if (finished.usage.completionTokens < plan.tokenIds.length) return undefined;
  return gen.parallelToolCalls === false ? plan.toolCalls.slice(0, 1) : plan.toolCalls;
}

/** Whether a streamed delta of call `index` reaches the client (all of them, or call 0 only). */
export function streamsToolCall(gen: PlannedGeneration, index: number): boolean {
  return gen.parallelToolCalls !== false || index === 0;
}

/**
 * vLLM's (and OpenAI's) finish_reason with tools: `tool_calls` for an `auto` or `required` call,
 * `stop` for a named one (vllm/entrypoints/openai/serving_chat.py, "is_finish_reason_tool_calls").
 */
export function finishReasonOf(gen: PlannedGeneration, index: number, finished: FinishedEvent | undefined) {
  const calls = completedToolCalls(gen, index, finished);
  if (calls !== undefined && calls[0]!.style !== 'named') return 'tool_calls' as const;
  return finished?.reason ?? 'abort';
}

export function buildChatCompletion(
  gen: PlannedGeneration,
  created: number,
  finished: readonly FinishedEvent[],
  usage: WireUsage,
  /** Each choice's `logprobs.content`, made as the body is written. */
  logprobs: ((index: number) => StreamedArray) | undefined,
  /** Names the reasoning field(s) of a reasoning model's message (serving/reasoning.ts). */
  compat: ApiCompat = 2,
): ChatCompletionBody {
  return {
    id: gen.id,
    object: 'chat.completion' as const,
    created,
    model: gen.model,
    choices: gen.choices.map((choice) => {
      const done = finished[choice.index];
      const n = done?.usage.completionTokens ?? 0;
      const calls = completedToolCalls(gen, choice.index, done);
      const reasoning = choice.plan.reasoning;
      // The llama3_json parser returns no content beside a call; forced calls return "". A reply
      // cut inside its reasoning has no content (vLLM's reasoning parsers return None).
      const content =
        reasoning !== undefined && n <= reasoning.tokens
          ? null
          : calls === undefined
            ? choiceText(gen, choice.index, n)
            : calls[0]!.style === 'auto'
              ? null
              : '';
      return {
        index: choice.index,
        message: {
          role: 'assistant' as const,
          content,
          refusal: null,
          tool_calls: (calls ?? []).map((call) => ({
            id: call.id,
            type: 'function' as const,
            function: { name: call.name, arguments: call.arguments },
          })),
          ...(reasoning === undefined
            ? { reasoning_content: null }
            : reasoningFields(compat, choiceReasoning(gen, choice.index, n))),
        },
        logprobs: logprobs ? { content: logprobs(choice.index) } : null,
        finish_reason: finishReasonOf(gen, choice.index, done),
        stop_reason: stopReasonOf(gen, choice.index, done),
      };
    }),
    usage,
    service_tier: null,
    system_fingerprint: null,
    prompt_logprobs: null,
    kv_transfer_params: null,
  };
}
