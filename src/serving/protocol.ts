/**
 * The frames and bodies nimsim sends, typed against the `openai` package's own types, so a
 * misspelt or mistyped field is a compile error (`satisfies ChatChunkFrame`, …). Type-only: the
 * package is not loaded at run time.
 *
 * Where NIM 2.x (vLLM's OpenAI server) sends more than, or other than, openai's types describe, the
 * type is an intersection that says so; the extras follow vllm/entrypoints/openai/protocol.py:
 * - `finish_reason: 'abort'`: a choice the engine aborted (vLLM's FinishReason has it);
 * - `stop_reason`: the stop string (or stop token id) that ended a choice, else null;
 * - `usage.prompt_tokens_details: null` when prefix caching is off (openai: optional, not nullable);
 * - `system_fingerprint: null`, `prompt_logprobs`, `kv_transfer_params`: vLLM's response fields;
 * - chat `logprobs` without `refusal` (vLLM's ChatCompletionLogProbs has `content` only);
 * - completions `logprobs.top_logprobs` entries null for a prompt's first token (vLLM's echo);
 * - NIM's per-request `stats` (nim-stats.ts), and an in-band `{"error": …}` frame after a stream began.
 */
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Completion, CompletionChoice, CompletionUsage } from 'openai/resources/completions';
import type { StreamedArray } from './json-body.js';
import type { NimStats } from './nim-stats.js';

/** vLLM's usage: cached prompt tokens, or null when prefix caching is off. */
export type WireUsage = Omit<CompletionUsage, 'prompt_tokens_details' | 'completion_tokens_details'> & {
  prompt_tokens_details: { cached_tokens: number } | null;
  /** Only when the request reasoned (serving/reasoning.ts). */
  completion_tokens_details?: { reasoning_tokens: number };
};

/** `continuous_usage_stats`: the running counts every chunk carries (no cache details). */
export type RunningUsage = Pick<CompletionUsage, 'prompt_tokens' | 'completion_tokens' | 'total_tokens'>;

/** vLLM's FinishReason adds `abort` to OpenAI's. */
type VllmFinish<R> = R | 'abort';

/** One token's chat logprob: openai's ChatCompletionTokenLogprob with bytes always present. */
export type ChatLogprob = ChatCompletionChunk.Choice.Logprobs['content'] extends (infer T)[] | null
  ? T & { bytes: number[] }
  : never;

/** vLLM's chat logprobs object: `content` only. */
export interface ChatChoiceLogprobs<Content = ChatLogprob[]> {
  content: Content;
}

/** vLLM's DeltaMessage: openai's delta plus the reasoning fields (serving/reasoning.ts). */
export type ChatChunkDelta = ChatCompletionChunk.Choice['delta'] & {
  reasoning?: string | null;
  reasoning_content?: string | null;
};

export type ChatChunkChoice = Omit<ChatCompletionChunk.Choice, 'finish_reason' | 'logprobs' | 'delta'> & {
  delta: ChatChunkDelta;
  finish_reason: VllmFinish<ChatCompletionChunk.Choice['finish_reason']>;
  logprobs: ChatChoiceLogprobs | null;
  stop_reason?: string | number | null;
};

/** The fields every chunk of one stream repeats. */
export type ChatChunkHeader = Readonly<Pick<ChatCompletionChunk, 'id' | 'object' | 'created' | 'model'>>;

export type ChatChunkFrame = ChatChunkHeader & {
  choices: ChatChunkChoice[];
  usage?: WireUsage | RunningUsage | null;
  stats?: NimStats;
};

type ChatMessage = ChatCompletion.Choice['message'];

export type ChatCompletionBody = Omit<
  ChatCompletion,
  'choices' | 'usage' | 'system_fingerprint' | 'service_tier'
> & {
  choices: (Omit<ChatCompletion.Choice, 'finish_reason' | 'logprobs' | 'message'> & {
    message: Pick<ChatMessage, 'role' | 'content' | 'refusal'> & {
      tool_calls: NonNullable<ChatMessage['tool_calls']>;
      /** vLLM ≥ 0.11.1's reasoning field (reasoning models on NIM 2.x only). */
      reasoning?: string | null;
      /** vLLM's reasoning output field (null: no reasoning parser). */
      reasoning_content: string | null;
    };
    finish_reason: VllmFinish<ChatCompletion.Choice['finish_reason']>;
    /** Written as the body is (json-body.ts). */
    logprobs: ChatChoiceLogprobs<StreamedArray> | null;
    stop_reason: string | number | null;
  })[];
  usage: WireUsage;
  service_tier: null;
  system_fingerprint: null;
  prompt_logprobs: null;
  kv_transfer_params: null;
  stats?: NimStats;
};

/** OpenAI's legacy completions logprobs, a prompt's first token having none (vLLM's echo). */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

type CompletionChoiceBase = Omit<CompletionChoice, 'finish_reason' | 'logprobs'> & {
  finish_reason: VllmFinish<CompletionChoice['finish_reason']> | null;
  stop_reason: string | number | null;
};

export type CompletionChunkHeader = Readonly<Pick<Completion, 'id' | 'object' | 'created' | 'model'>>;

export type CompletionChunkFrame = CompletionChunkHeader & {
  choices: (CompletionChoiceBase & { logprobs: CompletionLogprobs | null })[];
  usage?: WireUsage | null;
  stats?: NimStats;
};

export type CompletionBody = Omit<Completion, 'choices' | 'usage' | 'system_fingerprint'> & {
  choices: (CompletionChoiceBase & {
    /** The four arrays, written as the body is (json-body.ts). */
    logprobs: Record<keyof CompletionLogprobs, StreamedArray> | null;
    prompt_logprobs: null;
  })[];
  usage: WireUsage;
  service_tier: null;
  system_fingerprint: null;
  kv_transfer_params: null;
  stats?: NimStats;
};

/** The frame a stream ends with when it fails after it began (errors.ts `errorBody`). */
export type ErrorFrame = Record<string, unknown>;
