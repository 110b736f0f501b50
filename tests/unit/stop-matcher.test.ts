/**
 * The stop-string matcher must find exactly what vLLM's check_stop_strings finds after each new
 * piece of text (vllm/v1/engine/detokenizer.py), in time linear in the output.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { planOutput } from '../../src/content/output-plan.js';
import { createStopMatcher, type StopMatch } from '../../src/content/stop-matcher.js';
import { createTokenizer } from '../../src/content/tokenizer.js';

/** vLLM's check, transcribed: `text.find(stop, 1 - newChars - len(stop))`, first stop in list order. */
function vllmCheck(text: string, newChars: number, stops: readonly string[]): StopMatch | undefined {
  if (newChars === 0) return undefined;
  for (const stop of stops) {
    if (stop === '') continue;
    const index = text.indexOf(stop, Math.max(0, text.length + 1 - newChars - stop.length));
    if (index !== -1) return { stop, index };
  }
  return undefined;
}

describe('createStopMatcher', () => {
  it('finds what vLLM finds after every piece, for any stops and pieces', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'ab', ' '), maxLength: 8 });
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 1, maxLength: 6 }),
        fc.array(text, { maxLength: 40 }),
        (stops, pieces) => {
          const matcher = createStopMatcher(stops);
          let all = '';
          for (const piece of pieces) {
            all += piece;
            const expected = vllmCheck(all, piece.length, stops);
            expect(matcher.feed(piece)).toEqual(expected);
            if (expected !== undefined) break;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('prefers the earlier stop string in the list over an earlier occurrence', () => {
    const matcher = createStopMatcher(['world', 'hello']);
    expect(matcher.feed('hello world')).toEqual({ stop: 'world', index: 6 });
  });

  it('finds a stop string split across pieces, and not one that ended before the new piece', () => {
    const matcher = createStopMatcher(['END']);
    expect(matcher.feed('the E')).toBeUndefined();
    expect(matcher.feed('N')).toBeUndefined();
    expect(matcher.feed('D!')).toEqual({ stop: 'END', index: 4 });
  });

  it('costs linear time in the output with the longest stop strings allowed and more', () => {
    const tokenizer = createTokenizer('llama3');
    planOutput({ tokenizer, seed: 5, maxTokens: 20_000, ignoreEos: true }); // warms the prose caches
    // One 200,000-character stop string: the old per-token window copy cost O(tokens x length),
    // 35 s for 120,000 tokens (~12 s for these 40,000).
    const start = performance.now();
    const plan = planOutput({
      tokenizer,
      seed: 5,
      maxTokens: 40_000,
      ignoreEos: true,
      stop: ['x'.repeat(200_000)],
    });
    expect(plan.tokenIds).toHaveLength(40_000);
    expect(plan.finishReason).toBe('length');
    const stops = Array.from({ length: 64 }, (_, i) => `${'the '.repeat(249)}${i}`);
    const many = planOutput({ tokenizer, seed: 5, maxTokens: 20_000, ignoreEos: true, stop: stops });
    expect(many.tokenIds).toHaveLength(20_000);
    expect(performance.now() - start).toBeLessThan(3_000);
  });
});
