/**
 * What one hostile text can cost the tokenizer: work stops at a caller's token limit, an overlong
 * pre-token is cut into bounded pieces (no stack overflow), and the caches stay within their
 * byte bounds however many unique words arrive.
 */
import { describe, expect, it } from 'vitest';

import { applyChatTemplate, encodeCompletionPrompt } from '../../src/content/chat-template.js';
import {
  createTokenizer,
  ENCODE_CACHE_MAX_BYTES,
  MAX_PIECE_CHARS,
  PIECE_CACHE_MAX_BYTES,
  TokenLimitError,
} from '../../src/content/tokenizer.js';
import { randomLetters, randomUnicode } from '../helpers/random-text.js';

const llama3 = createTokenizer('llama3');

describe('encodeInto with a limit', () => {
  it('stops soon after the limit and keeps the leading ids of the full encoding', () => {
    const text = randomUnicode(20_000, 1);
    const ids: number[] = [7];
    expect(llama3.encodeInto(text, ids, 1001)).toBe(false);
    const full = llama3.encode(text);
    expect(ids.length).toBeGreaterThanOrEqual(1001);
    expect(ids.length).toBeLessThan(1001 + 16);
    expect(ids.slice(1)).toEqual(full.slice(0, ids.length - 1));
    // A limit the text stays under changes nothing.
    const all: number[] = [];
    expect(llama3.encodeInto(text, all, full.length + 1)).toBe(true);
    expect(all).toEqual(full);
  });

  it('stops inside text with special-token markup too', () => {
    const text = `${'<|eot_id|>hello world '.repeat(500)}`;
    const ids: number[] = [];
    expect(llama3.encodeInto(text, ids, 100)).toBe(false);
    expect(ids).toEqual(llama3.encode(text).slice(0, ids.length));
    expect(ids.length).toBeLessThan(104);
  });

  it('costs what the limit needs, not what the text holds: 11 MB of random Unicode', () => {
    // Without a limit this text took 25 s with the library's BPE (and ~4 s now).
    const text = randomUnicode(11_000_000 / 3, 2);
    const start = performance.now();
    const ids: number[] = [];
    expect(llama3.encodeInto(text, ids, 8192)).toBe(false);
    expect(performance.now() - start).toBeLessThan(3_000);
    expect(ids.length).toBeGreaterThanOrEqual(8192);
  });
});

describe('overlong pre-tokens', () => {
  it('encodes a 1,000,000-character word without overflowing the stack (it was a RangeError)', () => {
    const word = 'a'.repeat(1_000_000);
    const ids = llama3.encode(word);
    expect(ids.length).toBe(125_000);
    expect(llama3.decode(ids)).toBe(word);
  });

  it('cuts an overlong pre-token into MAX_PIECE_CHARS pieces, each encoded alone', () => {
    const word = randomLetters(100_000, 3);
    const pieces: number[] = [];
    for (let at = 0; at < word.length; at += MAX_PIECE_CHARS) {
      pieces.push(...llama3.encode(word.slice(at, at + MAX_PIECE_CHARS)));
    }
    expect(llama3.encode(word)).toEqual(pieces);
  });

  it('never cuts a surrogate pair, so astral letters round-trip', () => {
    // U+1D49C MATHEMATICAL SCRIPT CAPITAL A is a letter: 3,000 of them are one pre-token.
    const word = '\u{1D49C}'.repeat(3_000);
    expect(llama3.decode(llama3.encode(` x${word}`))).toBe(` x${word}`);
  });

  it('leaves pre-tokens up to MAX_PIECE_CHARS whole', () => {
    const spaces = ' '.repeat(MAX_PIECE_CHARS);
    // Eight 128-space tokens: the longest token of the vocabulary, unsplit.
    expect(llama3.encode(spaces)).toEqual(Array(8).fill(llama3.encode(' '.repeat(128))[0]));
  });
});

describe('cache bounds', () => {
  it('holds at most its byte bounds however many unique long words arrive', () => {
    // 8,000 unique 1,000-letter words (cheap to encode: all but their first letters repeat) hold
    // ~32 MB as pieces, more than PIECE_CACHE_MAX_BYTES; the old bound was 65,536 entries of any size.
    const tail = 'ab'.repeat(496);
    for (let i = 0; i < 8_000; i++) llama3.encode(randomLetters(8, 100 + i) + tail);
    expect(llama3.cachedBytes()).toBeGreaterThan(PIECE_CACHE_MAX_BYTES / 2);
    expect(llama3.cachedBytes()).toBeLessThanOrEqual(ENCODE_CACHE_MAX_BYTES + PIECE_CACHE_MAX_BYTES);
  });
});

describe('prompt helpers with a limit', () => {
  const long = randomUnicode(200_000, 4);

  it('applyChatTemplate throws TokenLimitError once the prompt reaches the limit', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: long },
      { role: 'user', content: 'Thanks.' },
    ];
    const error = (() => {
      try {
        applyChatTemplate(llama3, messages, { addGenerationPrompt: true, limit: 4096 });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(TokenLimitError);
    expect((error as TokenLimitError).limit).toBe(4096);
    expect((error as TokenLimitError).counted).toBeGreaterThanOrEqual(4096);
    const short = [{ role: 'user', content: 'Hello!' }];
    expect(applyChatTemplate(llama3, short, { addGenerationPrompt: true, limit: 37 })).toEqual(
      applyChatTemplate(llama3, short, { addGenerationPrompt: true }),
    );
  });

  it('encodeCompletionPrompt counts BOS and throws past the limit', () => {
    expect(encodeCompletionPrompt(llama3, 'Hello world!', 4)).toEqual([128000, 9906, 1917, 0]);
    expect(() => encodeCompletionPrompt(llama3, long, 2048)).toThrow(TokenLimitError);
  });
});
