import { describe, expect, it } from 'vitest';

import {
  PLAN_SLICE_TOKENS,
  planOutput,
  planOutputSteps,
  type PlanOutputOptions,
} from '../../src/content/output-plan.js';
import { planReply, planReplySteps } from '../../src/content/reply.js';
import { createTokenizer } from '../../src/content/tokenizer.js';

const tokenizer = createTokenizer('llama3');

/** Runs a slice-wise planner, recording what it yields. */
function drive<T>(steps: Generator<number, T, void>): { plan: T; yields: number[] } {
  const yields: number[] = [];
  for (;;) {
    const step = steps.next();
    if (step.done === true) return { plan: step.value, yields };
    yields.push(step.value);
  }
}

describe('planOutputSteps', () => {
  const cases: [string, Omit<PlanOutputOptions, 'tokenizer'>][] = [
    ['ignore_eos', { seed: 3, maxTokens: 3 * PLAN_SLICE_TOKENS + 5, ignoreEos: true }],
    [
      'stop strings held back',
      { seed: 4, maxTokens: 2 * PLAN_SLICE_TOKENS + 1, ignoreEos: true, stop: ['zq'] },
    ],
    ['a stop string that cuts', { seed: 5, maxTokens: 3 * PLAN_SLICE_TOKENS, ignoreEos: true, stop: ['. '] }],
    ['a natural end', { seed: 6, maxTokens: 20_000, meanOutputTokens: 9000 }],
    ['echo mode', { seed: 7, maxTokens: 20_000, mode: 'echo', echoTokenIds: Array(9000).fill(1234) }],
  ];

  it.each(cases)('returns exactly the plan planOutput makes (%s)', (_name, opts) => {
    const { plan } = drive(planOutputSteps({ tokenizer, ...opts }));
    expect(plan).toEqual(planOutput({ tokenizer, ...opts }));
  });

  it('pauses every PLAN_SLICE_TOKENS tokens, reporting the tokens generated so far', () => {
    const maxTokens = 3 * PLAN_SLICE_TOKENS + 5;
    const { plan, yields } = drive(planOutputSteps({ tokenizer, seed: 3, maxTokens, ignoreEos: true }));
    expect(plan.tokenIds).toHaveLength(maxTokens);
    // Generation pauses after each slice it completes (prose units may overshoot by a few tokens).
    const generating = yields.filter((y) => y < maxTokens);
    expect(generating).toHaveLength(3);
    generating.forEach((y, i) => {
      expect(y).toBeGreaterThanOrEqual((i + 1) * PLAN_SLICE_TOKENS);
      expect(y).toBeLessThan((i + 1) * PLAN_SLICE_TOKENS + 64);
    });
    // Walking the ids for the stopping rules pauses as often, reporting the whole plan.
    expect(yields.slice(3)).toEqual([maxTokens, maxTokens, maxTokens]);
  });

  it('pauses while cutting the text into held-back pieces too', () => {
    const maxTokens = 2 * PLAN_SLICE_TOKENS + 1;
    const { yields } = drive(
      planOutputSteps({ tokenizer, seed: 4, maxTokens, ignoreEos: true, stop: ['zq'] }),
    );
    // Two pauses generating, two walking the ids, two splitting the pieces.
    expect(yields).toHaveLength(6);
    expect(yields.slice(2)).toEqual([maxTokens, maxTokens, maxTokens, maxTokens]);
  });

  it('never pauses a plan shorter than a slice', () => {
    const { yields } = drive(
      planOutputSteps({ tokenizer, seed: 1, maxTokens: PLAN_SLICE_TOKENS, ignoreEos: true }),
    );
    expect(yields).toEqual([]);
  });
});

describe('planReplySteps', () => {
  it('returns exactly the plan planReply makes, for prose, scripted text and tool calls', () => {
    const base = { tokenizer, seed: 11, maxTokens: PLAN_SLICE_TOKENS + 100, ignoreEos: true };
    const specs = [
      {},
      { scripted: { kind: 'text' as const, text: 'Hello there. '.repeat(600), chunks: undefined } },
      { scripted: { kind: 'tool_calls' as const, calls: [{ name: 'f', arguments: { a: 1 } }] } },
    ];
    for (const spec of specs) {
      const { plan, yields } = drive(planReplySteps(spec, base));
      expect(plan).toEqual(planReply(spec, base));
      expect(yields.length).toBeGreaterThan(0);
    }
  });
});
