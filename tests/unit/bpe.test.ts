/**
 * bpe.ts must give, for any one pre-token, the ids llama3-tokenizer-js gives (its own BPE is the
 * reference the rest of the tokenizer tests hold it to), and cost O(n log n) on long ones.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { createBpe, type BpeTables } from '../../src/content/bpe.js';

const library = (
  createRequire(import.meta.url)(
    'llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs',
  ) as {
    llama3Tokenizer: BpeTables & { encode(text: string, opts: { bos: boolean; eos: boolean }): number[] };
  }
).llama3Tokenizer;
const reference = (piece: string) => library.encode(piece, { bos: false, eos: false });
const bpe = createBpe(library);

/** Llama 3's pre-tokenizer, as src/content/tokenizer.ts uses it. */
const PRETOKENIZER =
  /(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
const piecesOf = (text: string) => [...text.matchAll(PRETOKENIZER)].map((m) => m[0]);

describe('createBpe', () => {
  it('encodes known pre-tokens as the library does', () => {
    for (const piece of ['Hello', ' world', '!', ' naïve', '日本語', '🦙', '   ', '\n\n', ' 123', "'s"]) {
      expect(bpe.encode(piece), piece).toEqual(reference(piece));
    }
    expect(bpe.encode('')).toEqual([]);
  });

  it('equals the library on every pre-token of arbitrary text, any script', () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 120 }),
      fc.string({ unit: 'binary', maxLength: 120 }),
      fc.string({
        unit: fc.integer({ min: 0x4e00, max: 0x9fff }).map((c) => String.fromCharCode(c)),
        maxLength: 200,
      }),
      fc.string({ unit: fc.constantFrom('a', 'b', 'ab', ' ', 'é', '镇', '\n'), maxLength: 300 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        for (const piece of piecesOf(t)) expect(bpe.encode(piece)).toEqual(reference(piece));
      }),
      { numRuns: 400 },
    );
  });

  it('uses the heap path for long pre-tokens and still agrees with the library', () => {
    const long = Array.from({ length: 1000 }, (_, i) =>
      String.fromCharCode(0x4e00 + ((i * 7919) % 20000)),
    ).join('');
    expect(bpe.encode(long)).toEqual(reference(long));
    const letters = Array.from({ length: 1000 }, (_, i) => 'etaoinshrdlu'[(i * 31) % 12]).join('');
    expect(bpe.encode(letters)).toEqual(reference(letters));
  });
});
