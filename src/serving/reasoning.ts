/**
 * Reasoning on the wire (docs/api.md#reasoning-models; docs/nim-api.md#reasoning): whether a chat
 * request makes the served model reason and for how long, what the reasoning field is called in
 * the simulated vLLM version, and how many completion tokens were reasoning.
 */
import type { ReasoningSwitch } from '../catalog/model-card.js';
import {
  effortMedianTokens,
  HARMONY_END_MARKER,
  HARMONY_START_MARKER,
  THINK_END_MARKER,
  type ReasoningOptions,
} from '../content/reasoning.js';
import type { ChatCompletionRequest } from '../protocol/chat.js';
import { contentText } from '../util/content-text.js';
import type { ApiCompat } from './errors.js';
import type { FinishedEvent } from './run-generation.js';
import type { PlannedGeneration } from './to-engine.js';

const DEFAULT_MEAN_REASONING_TOKENS = 1000;

/** The Nemotron v1 system prompt that turns reasoning on (NIM "Use Reasoning Models"). */
const DETAILED_THINKING_ON = 'detailed thinking on';

/**
 * How a request reasons, or undefined when the model answers without reasoning: a chat request,
 * or a Responses request as its conversation and `reasoning.effort` (serving/responses.ts).
 */
export function resolveReasoning(
  req: {
    readonly messages: readonly { readonly role: string; readonly content?: unknown }[];
    readonly reasoning_effort?: ChatCompletionRequest['reasoning_effort'];
  },
  settings: { readonly reasoning?: ReasoningSwitch | undefined; readonly meanReasoningTokens?: number },
): ReasoningOptions | undefined {
  const mean = settings.meanReasoningTokens ?? DEFAULT_MEAN_REASONING_TOKENS;
  switch (settings.reasoning) {
    case undefined:
      return undefined;
    case 'always':
      return { meanTokens: mean, endMarker: THINK_END_MARKER };
    case 'reasoning_effort': {
      return {
        meanTokens: effortMedianTokens(mean, req.reasoning_effort ?? 'medium'),
        startMarker: HARMONY_START_MARKER,
        endMarker: HARMONY_END_MARKER,
      };
    }
    case 'system_prompt': {
      // "This system prompt must be the first message in the conversation" (NIM's page).
      const first = req.messages[0];
      const on = first?.role === 'system' && contentText(first.content).trim() === DETAILED_THINKING_ON;
      return on ? { meanTokens: mean, endMarker: THINK_END_MARKER } : undefined;
    }
  }
}

/**
 * The reasoning field's names by generation: vLLM up to 0.11.0 (NIM 1.x) has `reasoning_content`;
 * vLLM 0.11.1 renamed it `reasoning` and keeps `reasoning_content` as a deprecated copy
 * (https://github.com/vllm-project/vllm/pull/27752, RFC
 * https://github.com/vllm-project/vllm/issues/27755), the shape NIM 2.x answers; later vLLM
 * removed the copy (https://github.com/vllm-project/vllm/pull/33402).
 */
export function reasoningFields(compat: ApiCompat, text: string | null) {
  return compat === 1 ? { reasoning_content: text } : { reasoning: text, reasoning_content: text };
}

/**
 * Reasoning tokens generated over all choices, or undefined when the request did not reason (its
 * usage then has no completion_tokens_details). vLLM counts them with the reasoning parser
 * (https://github.com/vllm-project/vllm/pull/45802).
 */
export function reasoningTokensOf(
  gen: PlannedGeneration,
  finished: readonly (FinishedEvent | undefined)[],
): number | undefined {
  let total: number | undefined;
  for (const choice of gen.choices) {
    const part = choice.plan.reasoning;
    if (part === undefined) continue;
    const generated = finished[choice.index]?.usage.completionTokens ?? 0;
    total = (total ?? 0) + Math.min(generated, part.tokens);
  }
  return total;
}
