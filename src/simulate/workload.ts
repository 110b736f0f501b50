/**
 * Synthetic workloads for `nimsim simulate`, in token ids (no tokenizer or text needed): prompts of
 * exact lengths (or lengths drawn around a mean, as AIPerf's synthetic prompts are), an optional
 * prefix shared by every prompt, and multi-turn sessions in which each turn resends the whole
 * conversation (previous prompt + previous answer) plus new tokens.
 */
import { createRandom, hashSeed, type Random } from '../util/random.js';
import type { Slo } from './report.js';
import type { LoraWorkloadOptions } from './loras.js';
import type { TenantOptions } from './tenants.js';
import { drawReasoningTokens, reasoningRandom, type WorkloadReasoning } from './reasoning.js';

export interface WorkloadOptions {
  /** Closed-loop concurrency: sessions in flight at once. */
  readonly concurrency: number;
  /** Requests in total (turns count as requests). */
  readonly requests: number;
  /** New tokens per request (the first turn's prompt, after the shared prefix). */
  readonly inputTokens: number;
  /** Exact output tokens per request (EOS ignored). */
  readonly outputTokens: number;
  /**
   * Standard deviations of the two lengths across requests (0 or absent: every request has exactly
   * the mean). Lengths are drawn from a seeded normal, rounded and kept within [1, mean + 3σ], so
   * the longest possible request is known in advance.
   */
  readonly inputTokensStddev?: number | undefined;
  readonly outputTokensStddev?: number | undefined;
  /** Tokens every first-turn prompt starts with. */
  readonly sharedPrefixTokens: number;
  /** Turns per session; 1 = independent requests. */
  readonly turns: number;
  /** Objectives whose goodput the report gives (absent: none). */
  readonly slo?: Slo | undefined;
  /** Pause between a reply and the session's next turn, in simulated ms. */
  readonly thinkTimeMs: number;
  /**
   * Open loop: sessions arrive as a Poisson process at this rate (per simulated second) whatever
   * the server's state, instead of `concurrency` sessions in a closed loop. Undefined = closed loop.
   */
  readonly requestRate?: number | undefined;
  /**
   * Multi-tenant traffic: each session belongs to a user of a tenant (tenants.ts), starts with its
   * tenant's system prompt (`sharedPrefixTokens` long) instead of one prefix shared by all, and
   * carries its user's session key. Undefined = one population sharing one prefix.
   */
  readonly tenants?: TenantOptions | undefined;
  /** LoRA adapters the sessions run with (loras.ts); undefined = the base model only. */
  readonly loras?: LoraWorkloadOptions | undefined;
  /**
   * A reasoning model's sessions (reasoning.ts): each turn generates reasoning before its
   * `outputTokens` of answer, and the next turn resends the answer only. Undefined = chat turns.
   */
  readonly reasoning?: WorkloadReasoning | undefined;
}

/** Ordinary vocabulary ids (below Llama 3's 128,000 special tokens). */
const VOCAB = 128_000;

/** Random vocabulary ids that every run of new tokens takes a random window of (see `tokens`). */
const POOL_SIZE = 1 << 16;
const POOL: readonly number[] = (() => {
  const rng = createRandom(hashSeed('simulate-token-pool'));
  return Array.from({ length: POOL_SIZE }, () => rng.nextInt(VOCAB));
})();
/** POOL twice over, so that any window shorter than the pool is one slice (a copy, not a loop). */
const POOL_TWICE: readonly number[] = POOL.concat(POOL);

/**
 * `n` new tokens: a fresh random id, then a window of POOL at a random offset (wrapping around).
 * Block keys chain (a block's key covers everything before it), so one fresh token where a
 * conversation's new text starts keeps all its later blocks apart from every other
 * conversation's — drawing every token afresh only cost time (it was a large part of
 * `simulate`'s).
 */
export function tokens(rng: Random, n: number): number[] {
  if (n === 0) return [];
  const first = rng.nextInt(VOCAB);
  const offset = rng.nextInt(POOL_SIZE);
  let out: number[];
  if (n <= POOL_SIZE) {
    out = POOL_TWICE.slice(offset, offset + n);
  } else {
    // Built by push so the array stays packed (a holey one makes every later copy slower).
    out = [];
    for (let i = 0; i < n; i++) out.push(POOL[(offset + i) % POOL_SIZE]!);
  }
  out[0] = first;
  return out;
}

/** The longest length a draw around `mean` can give (see WorkloadOptions): mean + 3σ. */
export function maxLength(mean: number, stddev = 0): number {
  return stddev > 0 ? Math.ceil(mean + 3 * stddev) : mean;
}

function drawLength(rng: Random, mean: number, stddev: number): number {
  return Math.min(maxLength(mean, stddev), Math.max(1, Math.round(mean + stddev * rng.normal())));
}

/**
 * One conversation: hands out each turn's prompt and output plan, and remembers the history.
 *
 * The history is one array that grows by appending (each turn's prompt is that array): copying
 * the whole conversation into a new array every turn made a session's cost grow with the square
 * of its turns. A prompt is thus the same array as the previous turn's, longer: safe because a
 * turn is only asked for once the previous request has finished, and the answer is appended then,
 * not from inside the engine's `finished` event (see `answered`).
 */
export class Session {
  private history: number[];
  turn = 0;
  private readonly rng: Random;
  /** Draws the lengths when they vary (its own stream: the tokens stay those of exact lengths). */
  private readonly lengths: Random | undefined;
  /**
   * Block keys of the prompts so far (prompt-blocks.ts), extended as each turn is sent: they start
   * as the shared prefix's, which every session's prompts begin with.
   */
  readonly blockKeys: number[];
  /** The last answer, appended to the history when the next turn is asked for. */
  private pendingAnswer: readonly number[] | undefined;
  /** Reasoning sessions: their lengths' stream, and the current turn's reasoning tokens. */
  private readonly reasoningRng: Random | undefined;
  reasoningTokens = 0;

  constructor(
    readonly index: number,
    private readonly opts: WorkloadOptions,
    sharedPrefix: readonly number[],
    /** Every turn's planned answer (see `answerOf`). */
    private readonly answer: readonly number[],
    seed: number,
    /** Reasoning sessions: the run's planned reasoning tokens (see `reasoningOf`). */
    private readonly thought: readonly number[] = [],
    /** Keys of the full blocks of `sharedPrefix` (prompt-blocks.ts `prefixBlockKeys`). */
    sharedPrefixKeys: readonly number[] = [],
  ) {
    this.blockKeys = sharedPrefixKeys.slice();
    this.rng = createRandom(hashSeed(seed, index));
    this.history = sharedPrefix.slice();
    if (opts.inputTokensStddev || opts.outputTokensStddev)
      this.lengths = createRandom(hashSeed(seed, index, 'lengths'));
    if (opts.reasoning) this.reasoningRng = reasoningRandom(seed, index);
  }

  /** The next turn's prompt: the whole conversation so far plus `inputTokens` new tokens. */
  nextPrompt(): readonly number[] {
    const { inputTokens, inputTokensStddev = 0 } = this.opts;
    const n =
      this.lengths && inputTokensStddev > 0
        ? drawLength(this.lengths, inputTokens, inputTokensStddev)
        : inputTokens;
    const { history } = this;
    if (this.pendingAnswer) {
      for (const id of this.pendingAnswer) history.push(id);
      this.pendingAnswer = undefined;
    }
    const fresh = tokens(this.rng, n);
    // A first turn without a shared prefix is its new tokens alone (no copy).
    if (history.length === 0) this.history = fresh;
    else for (const id of fresh) history.push(id);
    return this.history;
  }

  /** The turn's output: its reasoning (reasoning sessions), then its answer. */
  nextOutput(): readonly number[] {
    const { outputTokens, outputTokensStddev = 0, reasoning } = this.opts;
    const answer =
      !this.lengths || outputTokensStddev === 0
        ? this.answer
        : this.answer.slice(0, drawLength(this.lengths, outputTokens, outputTokensStddev));
    if (!reasoning || !this.reasoningRng) return answer;
    this.reasoningTokens = drawReasoningTokens(this.reasoningRng, reasoning);
    return this.thought.slice(0, this.reasoningTokens).concat(answer);
  }

  /**
   * Records the answer so the next turn resends it. It is called from the request's `finished`
   * event, while the engine may still hold the prompt: the history grows only at the next turn.
   * A reasoning turn's reasoning is left out, as the model's chat template leaves it out.
   */
  answered(output: readonly number[]): void {
    this.turn++;
    if (this.done) return;
    this.pendingAnswer = this.reasoningTokens > 0 ? output.slice(this.reasoningTokens) : output;
  }

  get done(): boolean {
    return this.turn >= this.opts.turns;
  }
}

/**
 * The answer every request plans the start of: one list of `length` ids for the whole run. Only
 * lengths and cache keys matter to timing, and a block's key chains every token before it, so the
 * generated blocks of two conversations never share a key (their prompts differ); one list saved
 * drawing and holding a new answer per request.
 */
export function plannedAnswer(length: number, seed: number): number[] {
  return tokens(createRandom(hashSeed(seed, 'answer')), length);
}

/** The synthetic workload's planned answer: as long as its longest drawn output. */
export function answerOf(opts: WorkloadOptions, seed: number): number[] {
  return plannedAnswer(maxLength(opts.outputTokens, opts.outputTokensStddev), seed);
}

/**
 * The reasoning every reasoning turn plans the start of (one list for the run, as `answerOf`), as
 * long as the longest drawn reasoning; empty when the sessions do not reason.
 */
export function reasoningOf(opts: WorkloadOptions, seed: number, longest: number): number[] {
  return opts.reasoning ? tokens(createRandom(hashSeed(seed, 'reasoning-tokens')), longest) : [];
}

export function sharedPrefixOf(opts: WorkloadOptions, seed: number): number[] {
  return tokens(createRandom(hashSeed(seed, 'shared-prefix')), opts.sharedPrefixTokens);
}

/**
 * The first `n` (≤ 65,536) tokens of trace block `id` (a Mooncake `hash_ids` entry): the same
 * tokens wherever a request names the block — a seeded id-specific first token, then a window of
 * the pool at an id-specific offset — so prompts agree exactly as far as their ids do.
 */
export function traceBlock(id: number, n: number, seed: number): number[] {
  const offset = hashSeed(seed, 'trace-offset', id) % POOL_SIZE;
  const out = POOL_TWICE.slice(offset, offset + n);
  out[0] = hashSeed(seed, 'trace-block', id) % VOCAB;
  return out;
}
