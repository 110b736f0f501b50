/**
 * Completions logprobs, OpenAI's legacy shape (`tokens`, `token_logprobs`, `top_logprobs` as
 * token → logprob, `text_offset`): a choice's prompt's when echoing (vLLM sets prompt_logprobs =
 * logprobs then), followed by its generated tokens'. Every position is computed on its own, so a
 * non-streaming body makes its four arrays as it is written (json-body.ts) and a stream makes the
 * one position each chunk carries.
 */
import { tokenLogprob, type TokenLogprob } from '../content/logprobs.js';
import { hashSeed } from '../util/random.js';
import type { Tokenizer } from '../content/tokenizer.js';
import { StreamedArray } from './json-body.js';
import type { CompletionLogprobs } from './protocol.js';
import { logprobToken, type LogprobToken } from './usage.js';

export type { CompletionLogprobs };

/** The same four fields, made as the body is written. */
export interface StreamedCompletionLogprobs {
  tokens: StreamedArray;
  token_logprobs: StreamedArray;
  top_logprobs: StreamedArray;
  text_offset: StreamedArray;
}

/**
 * The prompt's logprob at `pos`: none for the first token (nothing precedes it). Deterministic
 * per prompt: it depends on the tokens, not on the request's seed.
 */
function promptLogprobAt(promptIds: readonly number[], pos: number, topCount: number): TokenLogprob | null {
  if (pos === 0) return null;
  return tokenLogprob(hashSeed('prompt-logprobs', promptIds[pos - 1]!), pos, promptIds[pos]!, topCount);
}

/** `top_logprobs` of one position: the top `topN` as token text → logprob. */
function topObject(tokenizer: Tokenizer, lp: TokenLogprob, topN: number): Record<string, number> {
  return Object.fromEntries(
    lp.top.slice(0, topN).map((t) => [logprobToken(tokenizer, t.id).token, t.logprob]),
  );
}

/**
 * `JSON.stringify(topObject(…))` written by hand: an object of 20 token keys per position was most
 * of the cost of a completions body with logprobs. It keeps an object's rules: a text that repeats
 * keeps its first place and its last value (Object.fromEntries), and array-index keys ("7", "199":
 * numbers are common tokens) come first in ascending order, the others in insertion order.
 */
export function topObjectJson(tokenizer: Tokenizer, lp: TokenLogprob, topN: number): string {
  const count = Math.min(lp.top.length, Math.max(0, topN));
  const keys: LogprobToken[] = [];
  const values: number[] = [];
  let indexKeys = 0;
  for (let k = 0; k < count; k++) {
    const t = lp.top[k]!;
    const key = logprobToken(tokenizer, t.id);
    let at = 0;
    while (at < keys.length && keys[at]!.token !== key.token) at++;
    if (at === keys.length) {
      keys.push(key);
      if (arrayIndexOf(key.token) !== undefined) indexKeys++;
    }
    values[at] = t.logprob;
  }
  const order = keys.map((_, i) => i);
  if (indexKeys > 0) {
    const index = (i: number) => arrayIndexOf(keys[i]!.token);
    const first = order.filter((i) => index(i) !== undefined).sort((a, b) => index(a)! - index(b)!);
    order.splice(0, order.length, ...first, ...order.filter((i) => index(i) === undefined));
  }
  let out = '{';
  for (let j = 0; j < order.length; j++) {
    const i = order[j]!;
    out += `${j > 0 ? ',' : ''}${keys[i]!.tokenJson}:${JSON.stringify(values[i])}`;
  }
  return out + '}';
}

/** The value of `key` as an array index (a canonical integer below 2^32 - 1), else undefined. */
function arrayIndexOf(key: string): number | undefined {
  if (key.length === 0 || key.length > 10 || !/^(?:0|[1-9][0-9]*)$/.test(key)) return undefined;
  const value = Number(key);
  return value < 2 ** 32 - 1 ? value : undefined;
}

/**
 * The prompt's logprobs for `echo`: the first token has a null logprob and top entry. Offsets are
 * the running length of the token strings, BOS included, as vLLM's _create_completion_logprobs
 * counts them.
 */
export function promptLogprobs(
  tokenizer: Tokenizer,
  promptTokenIds: readonly number[],
  topN: number,
): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = 0;
  promptTokenIds.forEach((id, pos) => {
    const token = logprobToken(tokenizer, id).token;
    out.tokens.push(token);
    out.text_offset.push(offset);
    offset += token.length;
    const lp = promptLogprobAt(promptTokenIds, pos, Math.max(topN, 1));
    out.token_logprobs.push(lp === null ? null : lp.logprob);
    out.top_logprobs.push(lp === null ? null : topObject(tokenizer, lp, topN));
  });
  return out;
}

/** One generated token's logprobs, as a stream's chunk carries them (offset 0 within the chunk). */
export function generatedLogprobs(
  tokenizer: Tokenizer,
  seed: number,
  pos: number,
  tokenId: number,
  topN: number,
): CompletionLogprobs {
  const lp = tokenLogprob(seed, pos, tokenId, Math.max(topN, 1));
  return {
    tokens: [logprobToken(tokenizer, tokenId).token],
    token_logprobs: [lp.logprob],
    top_logprobs: [topObject(tokenizer, lp, topN)],
    text_offset: [0],
  };
}

/** The prompt's logprobs followed by the generated ones, whose offsets move past the prompt's text. */
export function afterPrompt(prompt: CompletionLogprobs, generated: CompletionLogprobs): CompletionLogprobs {
  const shift = prompt.tokens.length === 0 ? 0 : prompt.text_offset.at(-1)! + prompt.tokens.at(-1)!.length;
  return {
    tokens: [...prompt.tokens, ...generated.tokens],
    token_logprobs: [...prompt.token_logprobs, ...generated.token_logprobs],
    top_logprobs: [...prompt.top_logprobs, ...generated.top_logprobs],
    text_offset: [...prompt.text_offset, ...generated.text_offset.map((o) => o + shift)],
  };
}

/** One choice of a non-streaming reply. */
export interface ChoiceLogprobsSource {
  /** The prompt's ids when echoing, else none. */
  readonly promptIds: readonly number[];
  /** The planned output ids and their text pieces; the first `generated` are shown. */
  readonly outputIds: readonly number[];
  readonly pieces: readonly string[];
  readonly generated: number;
  /** The choice's seed (its generated tokens' logprobs depend on it). */
  readonly seed: number;
}

/**
 * A choice's logprobs — the prompt's, then the generated tokens' — as four arrays made when the
 * body is written. Generated offsets continue past the prompt's text and advance by each token's
 * piece of the answer text (which a stop string may hold back), as vLLM's do.
 */
export function streamedChoiceLogprobs(
  tokenizer: Tokenizer,
  src: ChoiceLogprobsSource,
  topN: number,
): StreamedCompletionLogprobs {
  const { promptIds, outputIds, pieces, seed } = src;
  const promptCount = promptIds.length;
  const count = promptCount + Math.min(src.generated, outputIds.length);
  const idAt = (k: number) => (k < promptCount ? promptIds[k]! : outputIds[k - promptCount]!);
  // The chosen token's logprob does not depend on how many alternatives are drawn after it.
  const logprobAt = (k: number, topCount: number): TokenLogprob | null =>
    k < promptCount
      ? promptLogprobAt(promptIds, k, topCount)
      : tokenLogprob(seed, k - promptCount, outputIds[k - promptCount]!, topCount);
  return {
    tokens: new StreamedArray(function* () {
      for (let k = 0; k < count; k++) yield logprobToken(tokenizer, idAt(k)).tokenJson;
    }, true),
    token_logprobs: new StreamedArray(function* () {
      for (let k = 0; k < count; k++) yield logprobAt(k, 0)?.logprob ?? null;
    }),
    top_logprobs: new StreamedArray(function* () {
      for (let k = 0; k < count; k++) {
        const lp = logprobAt(k, Math.max(topN, 1));
        yield lp === null ? 'null' : topObjectJson(tokenizer, lp, topN);
      }
    }, true),
    text_offset: new StreamedArray(function* () {
      let offset = 0;
      for (let k = 0; k < count; k++) {
        yield offset;
        offset +=
          k < promptCount
            ? logprobToken(tokenizer, idAt(k)).token.length
            : (pieces[k - promptCount] ?? '').length;
      }
    }),
  };
}
