import { describe, expect, it } from 'vitest';
import { compileRegex, MAX_REGEX_EXPANSION, UnsupportedRegexError } from '../../src/content/guided-regex.js';
import { createRandom } from '../../src/util/random.js';

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
    // Nested counted groups multiply: 10^9 characters grew the heap to 4 GB, 10^6 gave a 500.
    ['((a{1000}){1000}){1000}', 'regex expands to 1,000,000,000 characters'],
    ['(((((a{1000}){1000}){1000}){1000}){1000}){1000}', 'regex expands to over 10^15 characters'],
    ['(a{1000}){1000}', 'regex expands to 1,000,000 characters, more than 100,000'],
    // Repeating an empty group writes nothing but still costs a step per repetition.
    ['((){1000}){1000}', 'more than 100,000'],
    ['(a{101}){1000}', 'regex expands to 101,000 characters'],
  ])('refuses %s naming %s', (pattern, what) => {
    expect(() => compileRegex(pattern)).toThrow(UnsupportedRegexError);
    expect(() => compileRegex(pattern)).toThrow(what);
  });

  it('accepts a pattern up to MAX_REGEX_EXPANSION and writes at most that many characters', () => {
    const gen = compileRegex('(b{100}){1000}');
    expect(100 * 1000).toBe(MAX_REGEX_EXPANSION);
    expect(gen.generate(createRandom(1))).toBe('b'.repeat(100_000));
  });

  it('keeps huge character classes as ranges: 133 full-BMP classes compile in milliseconds', () => {
    // Each class used to be enumerated into 65,536 one-character strings (~350 MB for the lot).
    const pattern = '[\\u0000-\\uffff]'.repeat(133);
    const before = process.memoryUsage().heapUsed;
    const start = performance.now();
    const gen = compileRegex(pattern);
    const text = gen.generate(createRandom(3));
    expect(performance.now() - start).toBeLessThan(1_000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(20_000_000);
    expect(text).toHaveLength(133);
    expect(new RegExp(`^(?:${pattern})$`).test(text)).toBe(true);
  });

  it('draws class members in the order they were named, each once', () => {
    const counts = new Map<string, number>();
    const gen = compileRegex('[b-da-c]');
    const rng = createRandom(5);
    for (let i = 0; i < 4000; i++) {
      const c = gen.generate(rng);
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const n of counts.values()) expect(n).toBeGreaterThan(850);
  });
});
