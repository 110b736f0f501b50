/**
 * The tokenizer encodes pre-token by pre-token through a cache (src/content/tokenizer.ts): for any
 * text, the ids must be exactly what llama3-tokenizer-js gives for the whole text.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { createTokenizer } from '../../src/content/tokenizer.js';

const library = (
  createRequire(import.meta.url)(
    'llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs',
  ) as {
    llama3Tokenizer: { encode(text: string, opts: { bos: boolean; eos: boolean }): number[] };
  }
).llama3Tokenizer;
const whole = (text: string) => library.encode(text, { bos: false, eos: false });
const llama3 = createTokenizer('llama3');

/** Fragments that stress pre-tokenisation: contractions, digit runs, whitespace runs, unicode, punctuation. */
const fragmentArb = fc.oneof(
  fc.constantFrom(
    'hello',
    ' world',
    'The',
    "'s",
    "'LL",
    "n't",
    "it's",
    '12345',
    ' 7',
    '3.14',
    '  ',
    '   ',
    '\t',
    '\n',
    '\n\n',
    '\r\n',
    ' \n ',
    '!!',
    '?!',
    ' ...',
    '--',
    '"',
    '(',
    ')',
    'é',
    'naïve',
    '日本語',
    ' 東京',
    '🙂',
    '👩‍💻',
    'Ĝ',
    '<|',
    '|>',
    '<|eot_id|>',
    'GPUs',
    'x/y',
    'a_b',
    '#',
    '$100',
    '\u00a0',
    '\u200b',
  ),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
);

describe('tokenizer pre-token cache', () => {
  it('encodes any text exactly as the library encodes it whole', () => {
    fc.assert(
      fc.property(fc.array(fragmentArb, { maxLength: 24, size: 'max' }), (fragments) => {
        const text = fragments.join('');
        expect(llama3.encode(text)).toEqual(whole(text));
      }),
      { numRuns: 600 },
    );
  });

  it('gives the same ids for a word wherever it was first seen', () => {
    const text = 'Write a haiku about GPUs and rivers.';
    expect(llama3.encode(`${text} 1`)).toEqual(whole(`${text} 1`));
    expect(llama3.encode(`Rivers, GPUs: ${text}`)).toEqual(whole(`Rivers, GPUs: ${text}`));
  });
});
