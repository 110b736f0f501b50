import { describe, expect, it } from 'vitest';

import { createTokenizer } from '../../src/content/tokenizer.js';

const llama3 = createTokenizer('llama3');

describe('createTokenizer', () => {
  it('encodes text with the Llama 3 BPE, without BOS or EOS', () => {
    expect(llama3.encode('Hello world!')).toEqual([9906, 1917, 0]);
    // The example from Meta's Llama 3 repository.
    expect(llama3.encode('This is a test sentence.')).toEqual([2028, 374, 264, 1296, 11914, 13]);
    expect(llama3.encode('')).toEqual([]);
  });

  it('turns special-token text into the special token', () => {
    expect(llama3.encode('<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>')).toEqual([
      128006, 882, 128007, 271, 13347, 128009,
    ]);
  });

  it('encodes characters outside the vocabulary as their UTF-8 bytes and decodes them back', () => {
    expect(llama3.encode('🦙')).toEqual([9468, 99, 247]);
    expect(llama3.decode([9468, 99, 247])).toBe('🦙');
    const text = 'Ꙋ🦙 naïve café — 镇';
    expect(llama3.decode(llama3.encode(text))).toBe(text);
  });

  it('writes special tokens out when decoding unless asked to skip them', () => {
    expect(llama3.decode([128000, 9906, 1917, 0, 128009])).toBe('<|begin_of_text|>Hello world!<|eot_id|>');
    expect(llama3.decode([128000, 9906, 1917, 0, 128009], { skipSpecialTokens: true })).toBe('Hello world!');
  });

  it('decodes half a multi-byte character as U+FFFD', () => {
    expect(llama3.decode([9468, 99])).toBe('\uFFFD');
  });

  it('exposes the raw byte-level piece and the bytes of a token', () => {
    expect(llama3.tokenText(1917)).toBe('Ġworld');
    expect(llama3.tokenBytes(1917)).toEqual([32, 119, 111, 114, 108, 100]);
    expect(llama3.tokenText(271)).toBe('ĊĊ');
    expect(llama3.tokenBytes(271)).toEqual([10, 10]);
    // 🦙 is F0 9F A6 99 in UTF-8, split over three tokens.
    expect(llama3.tokenBytes(9468)).toEqual([0xf0, 0x9f]);
    expect(llama3.tokenBytes(99)).toEqual([0xa6]);
    expect(llama3.tokenBytes(247)).toEqual([0x99]);
    expect(llama3.tokenText(128009)).toBe('<|eot_id|>');
  });

  it('reports the Llama 3.1 Instruct EOS ids with <|eot_id|> first, BOS and vocabulary size', () => {
    expect(llama3.eosTokenIds).toEqual([128009, 128001, 128008]);
    expect(llama3.bosTokenId).toBe(128000);
    expect(llama3.vocabSize).toBe(128256);
  });

  it('tells special tokens from ordinary ones', () => {
    expect(llama3.isSpecialToken(127999)).toBe(false);
    expect(llama3.isSpecialToken(128000)).toBe(true);
    expect(llama3.isSpecialToken(128255)).toBe(true);
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => llama3.decode([128256])).toThrow(RangeError);
    expect(() => llama3.tokenText(-1)).toThrow(RangeError);
    expect(() => llama3.tokenBytes(1.5)).toThrow(RangeError);
  });

  it('returns a fresh array from the encode cache every time', () => {
    const first = llama3.encode('cached message content');
    first.push(42);
    expect(llama3.encode('cached message content')).toEqual([34018, 1984, 2262]);
  });

  it('memoises one tokenizer per family', () => {
    expect(createTokenizer('llama3')).toBe(llama3);
    expect(createTokenizer('o200k')).toBe(createTokenizer('o200k'));
    expect(createTokenizer('o200k')).not.toBe(llama3);
  });

  it('stands in with the Llama 3 vocabulary for DeepSeek, whose tokenizer is not installed', () => {
    const tokenizer = createTokenizer('deepseek');
    expect(tokenizer.family).toBe('deepseek');
    expect(tokenizer.encode('Hello world!')).toEqual([9906, 1917, 0]);
    expect(tokenizer.vocabSize).toBe(128256);
  });
});
