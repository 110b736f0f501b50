/**
 * A reasoning model's reply: first its reasoning, then the answer, as one token list the engine
 * decodes (reasoning tokens take decode steps and KV like any output token). vLLM's reasoning
 * parsers (vllm/reasoning/deepseek_r1_reasoning_parser.py and its siblings) split the output at the
 * end of the reasoning: what comes before is the message's reasoning field, what comes after is
 * its content. The plan records where that split lies so the API can stream reasoning deltas
 * first and report `reasoning_tokens`.
 *
 * `max_tokens` bounds reasoning and answer together (vLLM counts every generated token): a reply
 * cut inside its reasoning has reasoning only, no content, and finish reason `length`.
 */
import { planOutputSteps, type PlanOutputOptions } from './output-plan.js';
import { hashSeed } from '../util/random.js';
import { planReplySteps, type ReplyPlan, type ReplySpec } from './reply.js';

/** How one request reasons: the median reasoning length and the text that closes the reasoning. */
export interface ReasoningOptions {
  /** Median reasoning length in tokens; lengths are lognormal around it, seeded per choice. */
  readonly meanTokens: number;
  /**
   * What the model writes between its reasoning and its answer (`</think>` for DeepSeek-R1 and
   * Nemotron; the Harmony channel switch for gpt-oss). The parser removes it: it is in neither
   * field, but its tokens are generated and counted as reasoning tokens.
   */
  readonly endMarker: string;
  /**
   * What the model writes before its reasoning: gpt-oss opens its analysis channel
   * (`<|channel|>analysis<|message|>` after the generation prompt's `<|start|>assistant`). Counted
   * as reasoning tokens, in neither field. Absent: nothing (the think models).
   */
  readonly startMarker?: string | undefined;
}

/** Where the reasoning lies in a plan's tokens. */
export interface ReasoningPart {
  /** Tokens before the answer: the reasoning and its end marker (all of it when cut inside). */
  readonly tokens: number;
  /** The reasoning field's text (the end marker excluded). */
  readonly text: string;
}

/** Think-style end of reasoning (DeepSeek-R1's and Nemotron's templates). */
export const THINK_END_MARKER = '\n</think>\n\n';
/** gpt-oss (Harmony): the analysis channel ends, the final channel begins. */
export const HARMONY_END_MARKER = '<|end|><|start|>assistant<|channel|>final<|message|>';
/**
 * gpt-oss (Harmony): a reply opens the analysis channel. Generated, so that an agent loop's
 * reasoning sent back (chat-template-harmony.ts keeps it) finds its own KV in the prefix cache.
 */
export const HARMONY_START_MARKER = '<|channel|>analysis<|message|>';

/**
 * Plans reasoning then the reply (reply.ts `planReplySteps`) in slices. The answer is planned with
 * what max_tokens leaves after the reasoning, from the choice's own seed, so the answer a
 * reasoning model gives is the one a plain model would give with that budget.
 */
export function* planReasonedReplySteps(
  spec: ReplySpec,
  base: PlanOutputOptions,
  reasoning: ReasoningOptions,
): Generator<number, ReplyPlan, void> {
  const { tokenizer } = base;
  const maxTokens = Math.max(0, Math.floor(base.maxTokens));
  // The reasoning's natural length, drawn from its own seed; no stop rules apply inside it.
  const thought = yield* planOutputSteps({
    tokenizer,
    seed: hashSeed(base.seed, 'reasoning'),
    maxTokens,
    mode: 'generate',
    meanOutputTokens: reasoning.meanTokens,
  });
  const ids = thought.tokenIds;
  const pieces = thought.pieces;
  // A natural end is an EOS; reasoning ends with the marker instead.
  const lastId = ids[ids.length - 1];
  if (lastId !== undefined && tokenizer.eosTokenIds.includes(lastId)) {
    ids.pop();
    pieces.pop();
  }
  const text = pieces.join('');
  const start = reasoning.startMarker === undefined ? [] : tokenizer.encode(reasoning.startMarker);
  const marker = tokenizer.encode(reasoning.endMarker);
  const reasoningTokens = start.length + ids.length + marker.length;
  if (reasoningTokens >= maxTokens) {
    // Cut inside the reasoning (or its markers): no content, finish reason length.
    const all = start.concat(ids, marker);
    const allPieces = start
      .map(() => '')
      .concat(
        pieces,
        marker.map(() => ''),
      );
    const tokenIds = all.slice(0, maxTokens);
    const cutPieces = allPieces.slice(0, maxTokens);
    return {
      tokenIds,
      pieces: cutPieces,
      text: '',
      finishReason: 'length',
      reasoning: { tokens: tokenIds.length, text: cutPieces.join('') },
    };
  }
  const answer = yield* planReplySteps(spec, {
    ...base,
    maxTokens: maxTokens - reasoningTokens,
    minTokens: Math.max(0, (base.minTokens ?? 0) - reasoningTokens),
  });
  const outIds = start.slice();
  const outPieces = start.map(() => '');
  for (let k = 0; k < ids.length; k++) {
    outIds.push(ids[k]!);
    outPieces.push(pieces[k]!);
  }
  for (const id of marker) {
    outIds.push(id);
    outPieces.push('');
  }
  for (let k = 0; k < answer.tokenIds.length; k++) {
    outIds.push(answer.tokenIds[k]!);
    outPieces.push(answer.pieces[k]!);
  }
  return { ...answer, tokenIds: outIds, pieces: outPieces, reasoning: { tokens: reasoningTokens, text } };
}

/** gpt-oss's `reasoning_effort` scales its reasoning length (nimsim's factors; medium is the default). */
export const EFFORT_FACTORS: Readonly<Record<'low' | 'medium' | 'high', number>> = {
  low: 0.25,
  medium: 1,
  high: 3,
};

/** The median reasoning length at a gpt-oss `reasoning_effort`: the model's median × its factor. */
export function effortMedianTokens(meanTokens: number, effort: keyof typeof EFFORT_FACTORS): number {
  return Math.max(1, Math.round(meanTokens * EFFORT_FACTORS[effort]));
}
