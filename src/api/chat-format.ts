/**
 * Engine results → chat.completion and chat.completion.chunk objects (OpenAI's shapes, with the
 * vLLM extras NIM 2.x returns: stop_reason, prompt_logprobs, kv_transfer_params).
 */
import type { PlannedGeneration } from './to-engine.js';
import type { FinishedEvent } from './run-generation.js';
import type { ChatLogprob, WireUsage } from './usage.js';

export interface ChunkHeader {
  readonly id: string;
  readonly object: 'chat.completion.chunk';
  readonly created: number;
  readonly model: string;
}

export function chunkHeader(gen: PlannedGeneration, created: number): ChunkHeader {
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

export function buildChatCompletion(
  gen: PlannedGeneration,
  created: number,
  finished: readonly FinishedEvent[],
  usage: WireUsage,
  logprobs: ((index: number) => ChatLogprob[]) | undefined,
) {
  return {
    id: gen.id,
    object: 'chat.completion' as const,
    created,
    model: gen.model,
    choices: gen.choices.map((choice) => {
      const done = finished[choice.index];
      const n = done?.usage.completionTokens ?? 0;
      return {
        index: choice.index,
        message: {
          role: 'assistant' as const,
          content: choiceText(gen, choice.index, n),
          refusal: null,
          tool_calls: [],
          reasoning_content: null,
        },
        logprobs: logprobs ? { content: logprobs(choice.index) } : null,
        finish_reason: done?.reason ?? 'abort',
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
