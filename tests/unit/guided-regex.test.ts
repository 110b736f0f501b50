import { describe, expect, it } from 'vitest';
import { compileRegex, UnsupportedRegexError } from '../../src/content/guided-regex.js';
import { createRandom } from '../../src/content/random.js';

const PATTERNS = [
  '\\d{3}-\\d{4}',
  '^[A-Z][a-z]{2,8}( [A-Z][a-z]{2,8})?$',
  '(yes|no|maybe)',
  '[^0-9\\s]{5}',
  '\\w+@\\w+\\.(com|org)',
  '(?:ab|cd)*e+?f?',
  '[-+]?\\d+(\\.\\d{1,2})?',
  '\\(\\d{3}\\) \\d{3}-\\d{4}',
  '[\\dA-F]{8}',
  '(?<year>\\d{4})-(0[1-9]|1[0-2])',
  '.{0,10}x',
  '\\S\\D\\W',
];

describe('compileRegex', () => {
  for (const pattern of PATTERNS) {
    it(`generates 100 seeded strings that fully match ${pattern}`, () => {
      const gen = compileRegex(pattern);
      const full = new RegExp(`^(?:${pattern})$`);
      const rng = createRandom(42);
      for (let i = 0; i < 100; i++) {
        const s = gen.generate(rng);
        expect(full.test(s), `${JSON.stringify(s)} should match`).toBe(true);
      }
    });
  }

  it.each([
    ['(a)\\1', 'backreference'],
    ['a(?=b)', 'lookaround'],
    ['(?<!x)y', 'lookaround'],
    ['\\bword\\b', "'\\b'"],
    ['\\p{L}+', "'\\p'"],
    ['a{2000}', 'repetition above 1000'],
    ['a^b', "'^' other than at the start"],
    ['a(', 'invalid regex'],
    ['x'.repeat(2001), 'longer than 2000'],
  ])('refuses %s naming %s', (pattern, what) => {
    expect(() => compileRegex(pattern)).toThrow(UnsupportedRegexError);
    expect(() => compileRegex(pattern)).toThrow(what);
  });
});
