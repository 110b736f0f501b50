/**
 * Usage and logprobs in OpenAI's wire shapes, shared by chat and completions.
 */
import { tokenLogprob } from '../content/logprobs.js';
import type { Tokenizer } from '../content/tokenizer.js';
import type { ChatLogprob, WireUsage } from './protocol.js';
import type { FinishedEvent } from './run-generation.js';

export type { ChatLogprob, WireUsage };

/**
 * Prompt tokens count once (vLLM: the choices share the prompt); completion tokens add up.
 * cached_tokens is present when prefix caching is on (docs/interface.md#usage), from the first choice.
 */
export function usageOf(
  promptTokens: number,
  finished: readonly (FinishedEvent | undefined)[],
  cachingOn: boolean,
  /** Of the completion tokens, those that were reasoning; undefined when the request did not reason. */
  reasoningTokens?: number,
): WireUsage {
  let completion = 0;
  for (const f of finished) completion += f?.usage.completionTokens ?? 0;
  const usage: WireUsage = {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    prompt_tokens_details: cachingOn ? { cached_tokens: finished[0]?.usage.cachedTokens ?? 0 } : null,
  };
  if (reasoningTokens !== undefined) usage.completion_tokens_details = { reasoning_tokens: reasoningTokens };
  return usage;
}

/** A token as logprobs show it: its text alone (U+FFFD for part of a character) and its bytes. */
export interface LogprobToken {
  readonly token: string;
  readonly bytes: number[];
  /** `token` and `bytes` as JSON text, for bodies written by hand. */
  readonly tokenJson: string;
  readonly bytesJson: string;
}

/**
 * Logprob tokens memoised per tokenizer, one slot per id: a top-20 entry names 21 tokens, and
 * decoding each afresh was most of the cost of a logprobs response. The bytes arrays are shared
 * between entries and never modified.
 */
const logprobTokens = new WeakMap<Tokenizer, (LogprobToken | undefined)[]>();

/** The text and bytes of `tokenId` as a logprobs entry shows them. */
export function logprobToken(tokenizer: Tokenizer, tokenId: number): LogprobToken {
  let memo = logprobTokens.get(tokenizer);
  if (memo === undefined) {
    // Dense from the start: a sparse array filled at random ids turns into a dictionary.
    memo = new Array<LogprobToken | undefined>(tokenizer.vocabSize).fill(undefined);
    logprobTokens.set(tokenizer, memo);
  }
  let entry = memo[tokenId];
  if (entry === undefined) {
    const token = tokenizer.decode([tokenId]);
    const bytes = tokenizer.tokenBytes(tokenId);
    entry = { token, bytes, tokenJson: JSON.stringify(token), bytesJson: JSON.stringify(bytes) };
    memo[tokenId] = entry;
  }
  return entry;
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
  const chosen = logprobToken(tokenizer, tokenId);
  return {
    token: chosen.token,
    logprob: lp.logprob,
    bytes: chosen.bytes,
    top_logprobs: lp.top.slice(0, topN).map((t) => {
      const alt = logprobToken(tokenizer, t.id);
      return { token: alt.token, logprob: t.logprob, bytes: alt.bytes };
    }),
  };
}

/**
 * `JSON.stringify(chatLogprob(…))`, written from memoised pieces: a non-streaming body carries up
 * to NIMSIM_MAX_LOGPROBS_PER_REQUEST of these, and building and serialising an object per entry
 * took three times as long.
 */
export function chatLogprobJson(
  tokenizer: Tokenizer,
  seed: number,
  position: number,
  tokenId: number,
  topN: number,
): string {
  const lp = tokenLogprob(seed, position, tokenId, topN);
  const chosen = logprobToken(tokenizer, tokenId);
  let top = '';
  const count = Math.min(lp.top.length, Math.max(0, topN));
  for (let k = 0; k < count; k++) {
    const t = lp.top[k]!;
    const alt = logprobToken(tokenizer, t.id);
    top += `${k > 0 ? ',' : ''}{"token":${alt.tokenJson},"logprob":${JSON.stringify(t.logprob)},"bytes":${alt.bytesJson}}`;
  }
  return `{"token":${chosen.tokenJson},"logprob":${JSON.stringify(lp.logprob)},"bytes":${chosen.bytesJson},"top_logprobs":[${top}]}`;
}
