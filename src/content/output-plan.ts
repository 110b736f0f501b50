/**
 * Decides which tokens a request will generate, before it enters the engine: the whole output
 * token list, its text and the finish reason, following vLLM's stopping rules — in one call, or in
 * slices a server can pause between. Also the incremental detokenizer that turns ids into
 * streamable text.
 */
import { createProseGenerator, type ProseGenerator } from './prose.js';
import { createRandom, hashSeed } from '../util/random.js';
import { createStopMatcher } from './stop-matcher.js';
import type { Tokenizer } from './tokenizer.js';

export interface PlanOutputOptions {
  readonly tokenizer: Tokenizer;
  /** Already mixed from the server seed and the request; the same seed gives the same plan. */
  readonly seed: number;
  /** Most tokens to generate (`max_tokens`), EOS included. */
  readonly maxTokens: number;
  /** No EOS, stop string or stop token before this many tokens (`min_tokens`). */
  readonly minTokens?: number | undefined;
  /** Generate exactly `maxTokens` tokens; finish reason `length`. */
  readonly ignoreEos?: boolean | undefined;
  readonly stop?: readonly string[] | undefined;
  readonly stopTokenIds?: readonly number[] | undefined;
  readonly includeStopStrInOutput?: boolean | undefined;
  /** `generate` (default): seeded prose. `echo`: repeat `echoTokenIds`, then end. */
  readonly mode?: 'generate' | 'echo' | undefined;
  /** The last user message's ids, for echo mode. */
  readonly echoTokenIds?: readonly number[] | undefined;
  /** Median of the natural answer length in tokens (default 150). */
  readonly meanOutputTokens?: number | undefined;
}

export interface OutputPlan {
  /** The tokens to emit, EOS or the stopping token included (they count as completion tokens). */
  readonly tokenIds: number[];
  /** Text per token, same length as `tokenIds`; some are '' (held back or special). Joined = `text`. */
  readonly pieces: string[];
  readonly text: string;
  readonly finishReason: 'stop' | 'length';
  /** vLLM's `stop_reason`: the matched stop string or stop token id; undefined for EOS and length. */
  readonly stopReason?: string | number | undefined;
}

const DEFAULT_MEAN_OUTPUT_TOKENS = 150;
/** Spread of natural answer lengths: about half of them fall within ×0.67–×1.5 of the median. */
export const LENGTH_SIGMA = 0.6;
/**
 * An answer ends at the first sentence end after its drawn length; starting the search this many
 * tokens early keeps the median length at `meanOutputTokens` (measured over 400 seeds).
 */
const SENTENCE_FINISH_TOKENS = 14;

/** Prose generators are memoised per tokenizer: their unit caches are what make planning fast. */
const proseGenerators = new WeakMap<Tokenizer, ProseGenerator>();

/** Plans one output. Pure: a function of its options only. */
export function planOutput(opts: PlanOutputOptions): OutputPlan {
  return runToEnd(planOutputSteps(opts));
}

/**
 * Tokens walked between two pauses of `planOutputSteps`: a few milliseconds of work (measured
 * 0.5-1 µs a token), so a caller that pauses between slices keeps the event loop answering; a
 * 131k-token plan takes 0.1-0.3 s in one go.
 */
export const PLAN_SLICE_TOKENS = 4096;

/**
 * `planOutput` in slices: yields the number of tokens generated so far after every
 * PLAN_SLICE_TOKENS tokens of work, and returns the same plan `planOutput` does.
 */
export function* planOutputSteps(opts: PlanOutputOptions): Generator<number, OutputPlan, void> {
  const { tokenizer } = opts;
  const maxTokens = Math.max(0, Math.floor(opts.maxTokens));
  const minTokens = Math.min(maxTokens, Math.max(0, Math.floor(opts.minTokens ?? 0)));
  const ignoreEos = opts.ignoreEos === true;
  const echo = opts.mode === 'echo' ? (opts.echoTokenIds ?? []) : undefined;

  const median = opts.meanOutputTokens ?? DEFAULT_MEAN_OUTPUT_TOKENS;
  const drawn = Math.round(
    createRandom(hashSeed(opts.seed, 'length')).lognormal(Math.log(median), LENGTH_SIGMA),
  );
  const naturalTokens = Math.max(
    minTokens,
    echo === undefined ? Math.max(1, drawn - SENTENCE_FINISH_TOKENS) : echo.length,
  );

  const ids: number[] = (echo ?? []).slice(0, maxTokens);
  let natural = !ignoreEos && ids.length >= naturalTokens;
  if (!natural && ids.length < maxTokens) {
    let prose = proseGenerators.get(tokenizer);
    if (prose === undefined) {
      prose = createProseGenerator(tokenizer);
      proseGenerators.set(tokenizer, prose);
    }
    const stream = prose.stream(hashSeed(opts.seed, 'prose'), { leadingSpace: ids.length > 0 });
    let pauseAt = ids.length + PLAN_SLICE_TOKENS;
    while (ids.length < maxTokens) {
      if (ids.length >= pauseAt) {
        yield ids.length;
        pauseAt = ids.length + PLAN_SLICE_TOKENS;
      }
      const endSoon = !ignoreEos && ids.length >= naturalTokens;
      const unit = stream.next({ maxTokens: maxTokens - ids.length, endSoon });
      for (const id of unit.ids) ids.push(id);
      if (endSoon && unit.endsSentence) {
        natural = true;
        break;
      }
    }
  }
  const eos = tokenizer.eosTokenIds[0];
  if (natural && ids.length < maxTokens && eos !== undefined) ids.push(eos);
  return yield* applyStopping(ids, opts, minTokens, maxTokens, ignoreEos);
}

/** Runs a slice-wise planner to its end without pausing. */
export function runToEnd<T>(steps: Generator<number, T, void>): T {
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/**
 * Walks the planned ids as vLLM's stop checker does after each token: nothing before `minTokens`;
 * then EOS, stop token ids, stop strings (stop-matcher.ts: first in list order, an occurrence that
 * ends in the new text), and finally `maxTokens`.
 */
function* applyStopping(
  /** Owned by the caller and handed over: returned as the plan's ids when nothing is cut. */
  ids: number[],
  opts: PlanOutputOptions,
  minTokens: number,
  maxTokens: number,
  ignoreEos: boolean,
): Generator<number, OutputPlan, void> {
  const { tokenizer } = opts;
  const stops =
    opts.stop === undefined || opts.stop.length === 0
      ? NO_STOPS
      : opts.stop.filter((stop) => stop.length > 0);
  // Arrays, not Sets: both lists are a handful of ids, and this runs on every request.
  const stopTokenIds = opts.stopTokenIds ?? NO_IDS;
  const eosIds = tokenizer.eosTokenIds;
  const include = opts.includeStopStrInOutput === true;
  const longestStop = stops.reduce((longest, stop) => Math.max(longest, stop.length), 0);
  const stopMatcher = longestStop > 0 ? createStopMatcher(opts.stop ?? NO_STOPS) : undefined;
  const detokenizer = createDetokenizer(tokenizer);

  let text = '';
  // Without stop strings nothing is held back, so each token's piece is its own text; with them,
  // the pieces are cut from the final text by splitPieces.
  const pieces: string[] = [];
  const textEnds: number[] = [];
  let finishReason: 'stop' | 'length' = 'length';
  let stopReason: string | number | undefined;
  let count = 0;
  let before = 0;
  for (const id of ids) {
    if (count > 0 && count % PLAN_SLICE_TOKENS === 0) yield ids.length;
    count++;
    let piece = detokenizer.push(id);
    const last = count >= ids.length || count >= maxTokens;
    if (last) piece += detokenizer.flush();
    before = text.length;
    text += piece;
    if (longestStop > 0) textEnds.push(text.length);
    else pieces.push(piece);
    // Fed every piece, also before minTokens, so a stop string spanning that point is still seen.
    const stopMatch = stopMatcher?.feed(piece);
    if (count >= minTokens) {
      if (!ignoreEos && eosIds.includes(id)) {
        finishReason = 'stop';
        break;
      }
      if (stopTokenIds.includes(id)) {
        finishReason = 'stop';
        stopReason = id;
        if (!include) text = text.slice(0, before);
        break;
      }
      if (stopMatch !== undefined) {
        text = text.slice(0, include ? stopMatch.index + stopMatch.stop.length : stopMatch.index);
        finishReason = 'stop';
        stopReason = stopMatch.stop;
        break;
      }
    }
    if (last) break;
  }
  // The last piece is whatever of the text its token left (nothing after a cut stop token).
  if (longestStop === 0 && count > 0) pieces[count - 1] = text.slice(before);
  return {
    tokenIds: count === ids.length ? ids : ids.slice(0, count),
    pieces: longestStop > 0 ? yield* splitPieces(text, textEnds, longestStop, include, ids.length) : pieces,
    text,
    finishReason,
    stopReason,
  };
}

const NO_STOPS: readonly string[] = [];
const NO_IDS: readonly number[] = [];

/**
 * Per-token text as vLLM streams it: with stop strings (not included in the output), the last
 * `longest stop - 1` characters are held back so a half-matched stop string is never sent; the
 * final token releases what remains.
 */
function* splitPieces(
  text: string,
  textEnds: readonly number[],
  longestStop: number,
  include: boolean,
  /** What to yield between slices: the tokens generated (planOutputSteps' progress). */
  generated: number,
): Generator<number, string[], void> {
  const holdBack = longestStop > 0 && !include ? longestStop - 1 : 0;
  const pieces: string[] = [];
  let emitted = 0;
  for (let index = 0; index < textEnds.length; index++) {
    if (index > 0 && index % PLAN_SLICE_TOKENS === 0) yield generated;
    const end = textEnds[index]!;
    const upTo = index === textEnds.length - 1 ? text.length : Math.min(text.length, end - holdBack);
    if (upTo > emitted) {
      pieces.push(text.slice(emitted, upTo));
      emitted = upTo;
    } else {
      pieces.push('');
    }
  }
  return pieces;
}

/** Turns token ids into text incrementally, as a stream of deltas. */
export interface Detokenizer {
  /** New text completed by `id`: '' for special tokens and while a UTF-8 character is incomplete. */
  push(id: number): string;
  /** Whatever is held back, with U+FFFD for an incomplete character; call at the end. */
  flush(): string;
}

/** Text of tokens that decode to whole characters on their own, memoised per tokenizer. */
const wholeTokenTexts = new WeakMap<Tokenizer, (string | null)[]>();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

export function createDetokenizer(tokenizer: Tokenizer): Detokenizer {
  let texts = wholeTokenTexts.get(tokenizer);
  if (texts === undefined) {
    // Dense from the start (one slot per id, ~1 MB): a sparse array filled at random ids turns
    // into a dictionary, and this lookup runs for every planned token.
    texts = new Array<string | null | undefined>(tokenizer.vocabSize).fill(undefined) as (string | null)[];
    wholeTokenTexts.set(tokenizer, texts);
  }
  const memo = texts;
  let pending: number[] = [];

  const wholeText = (id: number): string | null => {
    let text = memo[id];
    if (text === undefined) {
      try {
        text = strictUtf8.decode(new Uint8Array(tokenizer.tokenBytes(id)));
      } catch {
        text = null;
      }
      memo[id] = text;
    }
    return text;
  };

  return {
    push(id) {
      if (tokenizer.isSpecialToken(id)) return '';
      if (pending.length === 0) {
        const text = wholeText(id);
        if (text !== null) return text;
      }
      const bytes = pending.concat(tokenizer.tokenBytes(id));
      const complete = completeLength(bytes);
      pending = bytes.slice(complete);
      return complete === 0 ? '' : lenientUtf8.decode(new Uint8Array(bytes.slice(0, complete)));
    },
    flush() {
      const rest = pending;
      pending = [];
      return rest.length === 0 ? '' : lenientUtf8.decode(new Uint8Array(rest));
    },
  };
}

/** Length of the longest prefix of `bytes` that does not end inside a multi-byte character. */
function completeLength(bytes: readonly number[]): number {
  const length = bytes.length;
  for (let back = 1; back <= Math.min(4, length); back++) {
    const byte = bytes[length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? length - back : length;
  }
  return length;
}
