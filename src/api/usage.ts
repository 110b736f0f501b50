/**
 * Usage and logprobs in OpenAI's wire shapes, shared by chat and completions.
 */
import { tokenLogprob } from '../content/logprobs.js';
import type { Tokenizer } from '../content/tokenizer.js';
import type { FinishedEvent } from './run-generation.js';

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number } | null;
}

/**
 * Prompt tokens count once (vLLM: the choices share the prompt); completion tokens add up.
 * cached_tokens is present when prefix caching is on (CONTRACT.md), from the first choice.
 */
export function usageOf(
  promptTokens: number,
  finished: readonly (FinishedEvent | undefined)[],
  cachingOn: boolean,
): WireUsage {
  let completion = 0;
  for (const f of finished) completion += f?.usage.completionTokens ?? 0;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    prompt_tokens_details: cachingOn ? { cached_tokens: finished[0]?.usage.cachedTokens ?? 0 } : null,
  };
}

export interface ChatLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

/** One token's chat logprobs entry: the sampled token is always the most likely one. */
export function chatLogprob(
  tokenizer: Tokenizer,
  seed: number,
  position: number,
  tokenId: number,
  topN: number,
): ChatLogprob {
  const lp = tokenLogprob(seed, position, tokenId, topN);
  return {
    token: tokenizer.decode([tokenId]),
    logprob: lp.logprob,
    bytes: tokenizer.tokenBytes(tokenId),
    top_logprobs: lp.top.slice(0, topN).map((t) => ({
      token: tokenizer.decode([t.id]),
      logprob: t.logprob,
      bytes: tokenizer.tokenBytes(t.id),
    })),
  };
}
