/**
 * Engine results → chat.completion and chat.completion.chunk objects (OpenAI's shapes, with the
 * vLLM extras NIM 2.x returns: stop_reason, prompt_logprobs, kv_transfer_params).
 */
import type { StreamedArray } from './json-body.js';
import type { ChatChunkHeader, ChatCompletionBody, WireUsage } from './protocol.js';
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

/** The text a choice has produced: its planned pieces up to the tokens actually generated. */
export function choiceText(gen: PlannedGeneration, index: number, completionTokens: number): string {
  const plan = gen.choices[index]!.plan;
  return completionTokens >= plan.tokenIds.length
    ? plan.text
    : plan.pieces.slice(0, completionTokens).join('');
}

/** The complete tool call a choice made, or undefined (none planned, or cut short). */
export function completedToolCall(
  gen: PlannedGeneration,
  index: number,
  finished: FinishedEvent | undefined,
) {
  const plan = gen.choices[index]?.plan;
  if (plan?.toolCall === undefined || finished?.reason !== 'stop') return undefined;
  return finished.usage.completionTokens >= plan.tokenIds.length ? plan.toolCall : undefined;
}

/**
 * vLLM's (and OpenAI's) finish_reason with tools: `tool_calls` for an `auto` or `required` call,
 * `stop` for a named one (vllm/entrypoints/openai/serving_chat.py, "is_finish_reason_tool_calls").
 */
export function finishReasonOf(gen: PlannedGeneration, index: number, finished: FinishedEvent | undefined) {
  const call = completedToolCall(gen, index, finished);
  if (call !== undefined && call.style !== 'named') return 'tool_calls' as const;
  return finished?.reason ?? 'abort';
}

export function buildChatCompletion(
  gen: PlannedGeneration,
  created: number,
  finished: readonly FinishedEvent[],
  usage: WireUsage,
  /** Each choice's `logprobs.content`, made as the body is written. */
  logprobs: ((index: number) => StreamedArray) | undefined,
): ChatCompletionBody {
  return {
    id: gen.id,
    object: 'chat.completion' as const,
    created,
    model: gen.model,
    choices: gen.choices.map((choice) => {
      const done = finished[choice.index];
      const n = done?.usage.completionTokens ?? 0;
      const call = completedToolCall(gen, choice.index, done);
      // The llama3_json parser returns no content beside a call; forced calls return "".
      const content =
        call === undefined ? choiceText(gen, choice.index, n) : call.style === 'auto' ? null : '';
      return {
        index: choice.index,
        message: {
          role: 'assistant' as const,
          content,
          refusal: null,
          tool_calls:
            call === undefined
              ? []
              : [
                  {
                    id: call.id,
                    type: 'function' as const,
                    function: { name: call.name, arguments: call.arguments },
                  },
                ],
          reasoning_content: null,
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
