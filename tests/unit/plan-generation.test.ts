import { describe, expect, it } from 'vitest';

import { ApiError } from '../../src/serving/errors.js';
import { Pacer } from '../../src/serving/pacer.js';
import { RequestBudget } from '../../src/serving/request-bounds.js';
import { planGeneration, type GenerationSettings } from '../../src/serving/to-engine.js';
import { PLAN_SLICE_TOKENS, planOutput } from '../../src/content/output-plan.js';
import { createTokenizer } from '../../src/content/tokenizer.js';
import type { ChatCompletionRequest } from '../../src/protocol/chat.js';

const tokenizer = createTokenizer('llama3');
const SETTINGS: GenerationSettings = {
  servedModels: ['m'],
  maxModelLen: 131_072,
  seed: 0,
  content: 'generate',
  meanOutputTokens: 150,
  maxTokensPerRequest: 2 ** 20,
  maxLogprobsPerRequest: 2 ** 20,
  maxWaiting: 1024,
};
const PROMPT = [1, 2, 3];

const request = (r: Partial<ChatCompletionRequest>) =>
  ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...r }) as ChatCompletionRequest;

/** A pacer that is always due and counts its pauses. */
function countingPacer() {
  const pacer = {
    pauses: 0,
    due: () => true,
    pause: () => {
      pacer.pauses++;
      return Promise.resolve();
    },
  };
  return pacer;
}

const budgetFor = (n: number, settings = SETTINGS) =>
  new RequestBudget(settings, {
    n,
    prompts: [{ promptTokens: PROMPT.length, maxTokens: 0 }],
    ignoreEos: false,
    minTokens: 0,
    logprobsPerToken: 0,
    promptLogprobsPerToken: 0,
    maxTokensField: 'max_tokens',
    logprobsField: 'logprobs',
  });

const plan = (
  req: ChatCompletionRequest,
  maxTokens: number,
  pacer: Pick<Pacer, 'due' | 'pause'>,
  budget = budgetFor(req.n ?? 1),
) =>
  planGeneration(req, {
    id: 'chatcmpl-x',
    promptTokenIds: PROMPT,
    maxTokens,
    tokenizer,
    settings: SETTINGS,
    echoTokenIds: [],
    budget,
    pacer: pacer as Pacer,
  });

describe('planGeneration', () => {
  it('pauses between the slices of a long answer and between choices', async () => {
    const pacer = countingPacer();
    const maxTokens = 4 * PLAN_SLICE_TOKENS;
    const gen = await plan(request({ n: 2, ignore_eos: true }), maxTokens, pacer);
    expect(gen.choices.map((c) => c.plan.tokenIds.length)).toEqual([maxTokens, maxTokens]);
    // Per choice: 3 pauses generating, 3 walking the stopping rules, 1 after the choice.
    expect(pacer.pauses).toBe(2 * 7);
  });

  it('plans exactly what the synchronous planner plans', async () => {
    const gen = await plan(
      request({ n: 1, ignore_eos: true, seed: 9 }),
      2 * PLAN_SLICE_TOKENS,
      countingPacer(),
    );
    const seed = gen.choices[0]!.seed;
    expect(gen.choices[0]!.plan).toEqual(
      planOutput({
        tokenizer,
        seed,
        maxTokens: 2 * PLAN_SLICE_TOKENS,
        ignoreEos: true,
        minTokens: 0,
        stop: [],
        stopTokenIds: [],
        includeStopStrInOutput: false,
        mode: 'generate',
        echoTokenIds: [],
        meanOutputTokens: 150,
      }),
    );
  });

  it('counts the tokens planned into the budget and stops at its bound', async () => {
    const settings = { ...SETTINGS, maxTokensPerRequest: 3 * PLAN_SLICE_TOKENS, maxModelLen: 1000 };
    const pacer = countingPacer();
    const err = await plan(
      request({ n: 4, ignore_eos: true }),
      2 * PLAN_SLICE_TOKENS,
      pacer,
      budgetFor(4, settings),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    // Refused during the second choice, not after planning all four.
    expect(pacer.pauses).toBeLessThan(2 * 4);
  });

  it('stops when the client goes away during a pause', async () => {
    const controller = new AbortController();
    const pacer = new Pacer(controller.signal);
    controller.abort();
    const slow = { due: () => true, pause: () => pacer.pause() };
    const err = await plan(request({ n: 1, ignore_eos: true }), 2 * PLAN_SLICE_TOKENS, slow).catch(
      (e: unknown) => e,
    );
    expect((err as ApiError).status).toBe(499);
  });
});
