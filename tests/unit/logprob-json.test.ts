import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { topObjectJson } from '../../src/serving/completion-logprobs.js';
import { chatLogprob, chatLogprobJson, logprobToken } from '../../src/serving/usage.js';
import { tokenLogprob, type TokenLogprob } from '../../src/content/logprobs.js';
import { createTokenizer } from '../../src/content/tokenizer.js';

const tokenizer = createTokenizer('llama3');

/** Ids worth mixing in: numbers (array-index keys), partial UTF-8 bytes, specials, ordinary words. */
const digits = ['0', '7', '42', '199', '007', '10'].map((t) => tokenizer.encode(t)[0]!);
const partialUtf8 = tokenizer.encode('✓')[0]!; // the first of the character's byte tokens
const special = 128_009;
const ordinary = tokenizer.encode(' hello world, the cat')!;
const interesting = [...digits, partialUtf8, special, ...ordinary, 256, 1000, 19_999];

describe('chatLogprobJson', () => {
  it('is JSON.stringify of chatLogprob for any token, position and top_logprobs', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...interesting), fc.integer({ min: 0, max: tokenizer.vocabSize - 1 })),
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer(),
        (id, pos, topN, seed) => {
          expect(chatLogprobJson(tokenizer, seed, pos, id, topN)).toBe(
            JSON.stringify(chatLogprob(tokenizer, seed, pos, id, topN)),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('topObjectJson', () => {
  /** What the completions route used to write: an object of token text → logprob. */
  const asObject = (lp: TokenLogprob, topN: number) =>
    JSON.stringify(
      Object.fromEntries(lp.top.slice(0, topN).map((t) => [logprobToken(tokenizer, t.id).token, t.logprob])),
    );

  it('is JSON.stringify of the token → logprob object for drawn logprobs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: tokenizer.vocabSize - 1 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer(),
        (id, pos, topN, seed) => {
          const lp = tokenLogprob(seed, pos, id, Math.max(topN, 1));
          expect(topObjectJson(tokenizer, lp, topN)).toBe(asObject(lp, topN));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("keeps an object's key order: number keys first ascending, a repeated text in its first place with its last value", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ id: fc.constantFrom(...interesting), logprob: fc.double({ max: -1e-9, noNaN: true }) }),
          {
            maxLength: 21,
          },
        ),
        fc.integer({ min: 0, max: 21 }),
        (top, topN) => {
          const lp = { logprob: -0.1, top };
          expect(topObjectJson(tokenizer, lp, topN)).toBe(asObject(lp, topN));
        },
      ),
      { numRuns: 2000 },
    );
    // One case spelled out: "199" and "7" move ahead of " hello", "7" keeps its place among them
    // in numeric order, and the second " hello" only changes the value.
    const [hello] = tokenizer.encode(' hello');
    const lp = {
      logprob: -0.1,
      top: [
        { id: hello!, logprob: -1 },
        { id: tokenizer.encode('199')[0]!, logprob: -2 },
        { id: tokenizer.encode('7')[0]!, logprob: -3 },
        { id: hello!, logprob: -4 },
      ],
    };
    expect(topObjectJson(tokenizer, lp, 4)).toBe('{"7":-3,"199":-2," hello":-4}');
  });
});
