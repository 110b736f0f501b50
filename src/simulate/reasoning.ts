/**
 * Reasoning in `simulate` (docs/simulate.md#reasoning-models): a reasoning model's turn generates
 * its reasoning, then its answer, and the next turn resends the answer only — every simulated
 * model's chat template drops earlier turns' reasoning from the history:
 * - DeepSeek-R1: the assistant content after its last `</think>` (`content.split('</think>')[-1]`
 *   in the chat_template of deepseek-ai/DeepSeek-R1's tokenizer_config.json);
 * - Llama 3.3 Nemotron Super: the same split, then `lstrip()` (the chat_template of
 *   nvidia/Llama-3_3-Nemotron-Super-49B-v1);
 * - gpt-oss: analysis-channel messages before the last final-channel answer are dropped (vLLM's
 *   `auto_drop_analysis_messages`, vllm/entrypoints/harmony_utils.py; "How to handle the raw chain
 *   of thought in gpt-oss", https://developers.openai.com/cookbook/articles/gpt-oss/handle-raw-cot).
 *   Only a turn that ended in a tool call keeps its reasoning, and the synthetic workload's turns
 *   end in answers.
 * So turn n+1's prompt shares its prefix with what turn n computed only up to where turn n's
 * reasoning began: the end of turn n's prompt. Turn n's answer, computed after the reasoning, has
 * other block keys there, and is prefilled again.
 */
import type { ReasoningSwitch } from '../catalog/model-card.js';
import { LENGTH_SIGMA } from '../content/output-plan.js';
import { effortMedianTokens, type EFFORT_FACTORS } from '../content/reasoning.js';
import { createRandom, hashSeed, type Random } from '../util/random.js';

export type ReasoningEffort = keyof typeof EFFORT_FACTORS;

/** How the sessions of a run reason (absent from the workload: they do not). */
export interface WorkloadReasoning {
  /** Median reasoning tokens per turn (--mean-reasoning-tokens, scaled by gpt-oss's effort). */
  readonly medianTokens: number;
  /** gpt-oss's `reasoning_effort` (reported only; already in `medianTokens`). */
  readonly effort?: ReasoningEffort | undefined;
}

/**
 * Spread of reasoning lengths: the live path draws reasoning as a natural length
 * (content/output-plan.ts), so a simulated turn reasons as long as a served one would.
 */
const REASONING_SIGMA = LENGTH_SIGMA;

/** The longest reasoning a draw can give: the median × e^(3σ) (≈ 6×), as lengths stop at mean + 3σ. */
export function maxReasoningTokens(reasoning: WorkloadReasoning | undefined): number {
  return reasoning ? Math.ceil(reasoning.medianTokens * Math.exp(3 * REASONING_SIGMA)) : 0;
}

/** One turn's reasoning length: lognormal around the median, within [1, maxReasoningTokens]. */
export function drawReasoningTokens(rng: Random, reasoning: WorkloadReasoning): number {
  const drawn = Math.round(rng.lognormal(Math.log(reasoning.medianTokens), REASONING_SIGMA));
  return Math.min(maxReasoningTokens(reasoning), Math.max(1, drawn));
}

/** A session's own stream of reasoning lengths (apart from its prompt tokens' stream). */
export function reasoningRandom(seed: number, session: number): Random {
  return createRandom(hashSeed(seed, session, 'reasoning'));
}

/**
 * The reasoning a run's sessions do, from the model's switch and the flags, or undefined when they
 * answer as chat models. `on` absent: the model's default — DeepSeek-R1 and gpt-oss always reason;
 * Nemotron only with its `detailed thinking on` system prompt, which `--reasoning on` stands for.
 * Returns a problem (a sentence) instead when the flags do not fit the model.
 */
export function workloadReasoning(
  model: { readonly name: string; readonly reasoning?: ReasoningSwitch | undefined },
  flags: { readonly on?: boolean | undefined; readonly effort?: ReasoningEffort | undefined },
  meanReasoningTokens: number,
):
  | WorkloadReasoning
  | undefined
  | { readonly problem: string; readonly flag: 'reasoning' | 'reasoning-effort' } {
  const { reasoning } = model;
  if (reasoning === undefined) {
    if (flags.on !== undefined)
      return { problem: `${model.name} is not a reasoning model`, flag: 'reasoning' };
    if (flags.effort !== undefined)
      return { problem: `${model.name} is not a reasoning model`, flag: 'reasoning-effort' };
    return undefined;
  }
  if (flags.effort !== undefined && reasoning !== 'reasoning_effort')
    return {
      problem: `${model.name} takes no reasoning_effort (gpt-oss does)`,
      flag: 'reasoning-effort',
    };
  const on = flags.on ?? reasoning !== 'system_prompt';
  if (!on) {
    if (flags.effort !== undefined)
      return { problem: 'not read with --reasoning off', flag: 'reasoning-effort' };
    return undefined;
  }
  if (reasoning !== 'reasoning_effort') return { medianTokens: meanReasoningTokens };
  const effort = flags.effort ?? 'medium';
  return { medianTokens: effortMedianTokens(meanReasoningTokens, effort), effort };
}

/** The reasoning section of the report (docs/interface.md#simulate-report). */
export interface ReasoningReport {
  /** The median the lengths were drawn around. */
  median_tokens: number;
  /** gpt-oss only. */
  effort?: ReasoningEffort;
  /** Reasoning tokens per completed request (counted in its completion tokens, as vLLM counts them). */
  reasoning_tokens_mean: number;
  /** What the next turn's prompt keeps of a turn's reasoning: nothing, as every template does. */
  history: 'dropped';
}

/** Reasoning tokens of the completed requests, by turn. */
export class ReasoningTally {
  private readonly tokensByTurn: number[] = [];
  private readonly requestsByTurn: number[] = [];

  add(turn: number, tokens: number): void {
    this.tokensByTurn[turn] = (this.tokensByTurn[turn] ?? 0) + tokens;
    this.requestsByTurn[turn] = (this.requestsByTurn[turn] ?? 0) + 1;
  }

  /** `report` with its reasoning section, and each turn's mean reasoning tokens in by_turn. */
  addTo<R extends { by_turn?: { turn: number; reasoning_tokens_mean?: number }[] }>(
    report: R,
    reasoning: WorkloadReasoning,
  ): R & { reasoning: ReasoningReport } {
    let tokens = 0;
    let requests = 0;
    for (let t = 0; t < this.tokensByTurn.length; t++) {
      tokens += this.tokensByTurn[t] ?? 0;
      requests += this.requestsByTurn[t] ?? 0;
    }
    const mean = (sum: number, n: number) => (n > 0 ? Math.round((sum / n) * 10) / 10 : 0);
    const byTurn = report.by_turn?.map((t) => ({
      ...t,
      reasoning_tokens_mean: mean(this.tokensByTurn[t.turn] ?? 0, this.requestsByTurn[t.turn] ?? 0),
    }));
    return {
      ...report,
      ...(byTurn ? { by_turn: byTurn } : {}),
      reasoning: {
        median_tokens: reasoning.medianTokens,
        ...(reasoning.effort !== undefined ? { effort: reasoning.effort } : {}),
        reasoning_tokens_mean: mean(tokens, requests),
        history: 'dropped',
      },
    };
  }
}
