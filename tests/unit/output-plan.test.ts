import { describe, expect, it } from 'vitest';

import { tokenLogprob } from '../../src/content/logprobs.js';
import { createDetokenizer, planOutput, type PlanOutputOptions } from '../../src/content/output-plan.js';
import { createProseGenerator } from '../../src/content/prose.js';
import { createRandom, hashSeed } from '../../src/util/random.js';
import { createTokenizer } from '../../src/content/tokenizer.js';

const tokenizer = createTokenizer('llama3');
const EOT = 128009;
const SEEDS = Array.from({ length: 60 }, (_, i) => i * 7919);

const plan = (opts: Omit<PlanOutputOptions, 'tokenizer'>) => planOutput({ tokenizer, ...opts });
/** Index (exclusive) of the first token whose text reaches `chars` characters of the output. */
const tokensCovering = (ids: readonly number[], chars: number): number => {
  for (let k = 1; k <= ids.length; k++) {
    if (tokenizer.decode(ids.slice(0, k), { skipSpecialTokens: true }).length >= chars) return k;
  }
  throw new Error('text too short');
};

describe('planOutput', () => {
  it('plans the same output for the same seed', () => {
    expect(plan({ seed: 42, maxTokens: 500 })).toEqual(plan({ seed: 42, maxTokens: 500 }));
  });

  it('plans different outputs for different seeds', () => {
    const texts = new Set(SEEDS.map((seed) => plan({ seed, maxTokens: 60, ignoreEos: true }).text));
    expect(texts.size).toBe(SEEDS.length);
  });

  it('generates exactly maxTokens tokens with finish reason length when EOS is ignored', () => {
    for (const maxTokens of [1, 2, 17, 256, 1000]) {
      const result = plan({ seed: maxTokens, maxTokens, ignoreEos: true });
      expect(result.tokenIds).toHaveLength(maxTokens);
      expect(result.finishReason).toBe('length');
      expect(result.tokenIds).not.toContain(EOT);
    }
  });

  it('ends a natural answer with <|eot_id|>, counted as a token but absent from the text', () => {
    const result = plan({ seed: 5, maxTokens: 4000 });
    expect(result.finishReason).toBe('stop');
    expect(result.stopReason).toBeUndefined();
    expect(result.tokenIds.at(-1)).toBe(EOT);
    expect(result.tokenIds.indexOf(EOT)).toBe(result.tokenIds.length - 1);
    expect(result.text).toBe(tokenizer.decode(result.tokenIds.slice(0, -1)));
    expect(result.text).toMatch(/[.?!]$/);
  });

  it('stops at maxTokens with finish reason length when the natural answer is longer', () => {
    const natural = plan({ seed: 5, maxTokens: 4000 });
    const cut = plan({ seed: 5, maxTokens: 20 });
    expect(natural.tokenIds.length).toBeGreaterThan(21);
    expect(cut.finishReason).toBe('length');
    expect(cut.tokenIds).toEqual(natural.tokenIds.slice(0, 20));
  });

  it('draws natural lengths with a median near meanOutputTokens', () => {
    const median = (mean: number): number => {
      const lengths = SEEDS.map(
        (seed) => plan({ seed, maxTokens: 10_000, meanOutputTokens: mean }).tokenIds.length,
      );
      return lengths.sort((a, b) => a - b)[lengths.length / 2] ?? 0;
    };
    expect(median(150)).toBeGreaterThanOrEqual(120);
    expect(median(150)).toBeLessThanOrEqual(180);
    expect(median(600)).toBeGreaterThanOrEqual(480);
    expect(median(600)).toBeLessThanOrEqual(720);
  });

  it('cuts at a stop string, excluding it from the text, after the token that completes it', () => {
    const base = plan({ seed: 11, maxTokens: 300, ignoreEos: true });
    const stop = base.text.slice(100, 109);
    const at = base.text.indexOf(stop);
    const result = plan({ seed: 11, maxTokens: 300, ignoreEos: true, stop: ['never appears', stop] });
    expect(result.finishReason).toBe('stop');
    expect(result.stopReason).toBe(stop);
    expect(result.text).toBe(base.text.slice(0, at));
    expect(result.tokenIds).toEqual(base.tokenIds.slice(0, tokensCovering(base.tokenIds, at + stop.length)));
  });

  it('keeps the stop string in the text when includeStopStrInOutput is set', () => {
    const base = plan({ seed: 11, maxTokens: 300, ignoreEos: true });
    const stop = base.text.slice(100, 109);
    const at = base.text.indexOf(stop);
    const result = plan({
      seed: 11,
      maxTokens: 300,
      ignoreEos: true,
      stop: [stop],
      includeStopStrInOutput: true,
    });
    expect(result.text).toBe(base.text.slice(0, at + stop.length));
  });

  it('does not honour stop strings before minTokens', () => {
    const base = plan({ seed: 12, maxTokens: 400, ignoreEos: true });
    const result = plan({ seed: 12, maxTokens: 400, ignoreEos: true, stop: [' the'], minTokens: 100 });
    expect(base.text.slice(0, tokenizer.decode(base.tokenIds.slice(0, 99)).length)).toContain(' the');
    expect(result.finishReason).toBe('stop');
    expect(result.tokenIds.length).toBeGreaterThanOrEqual(100);
    expect(base.text.startsWith(result.text)).toBe(true);
    expect(base.text.slice(result.text.length).startsWith(' the')).toBe(true);
  });

  it('does not end naturally before minTokens', () => {
    for (const seed of SEEDS.slice(0, 10)) {
      const result = plan({ seed, maxTokens: 2000, minTokens: 80, meanOutputTokens: 5 });
      expect(result.finishReason).toBe('stop');
      expect(result.tokenIds.length).toBeGreaterThanOrEqual(81);
      expect(result.tokenIds.at(-1)).toBe(EOT);
    }
  });

  it('ends on a stop token id, which counts but is not in the text', () => {
    const period = tokenizer.encode('.')[0] ?? -1;
    const result = plan({ seed: 3, maxTokens: 500, stopTokenIds: [period] });
    expect(result.finishReason).toBe('stop');
    expect(result.stopReason).toBe(period);
    expect(result.tokenIds.at(-1)).toBe(period);
    expect(result.tokenIds.slice(0, -1)).not.toContain(period);
    expect(result.text).toBe(tokenizer.decode(result.tokenIds.slice(0, -1)));
  });

  it('gives one text piece per token that together make the text', () => {
    const cases: Omit<PlanOutputOptions, 'tokenizer'>[] = [
      { seed: 1, maxTokens: 300 },
      { seed: 2, maxTokens: 64, ignoreEos: true },
      { seed: 11, maxTokens: 300, ignoreEos: true, stop: ['the slowest', ', and'] },
      { seed: 11, maxTokens: 300, stop: [', and'], includeStopStrInOutput: true },
      { seed: 4, maxTokens: 300, mode: 'echo', echoTokenIds: tokenizer.encode('Echo 🦙 me!') },
    ];
    for (const options of cases) {
      const result = plan(options);
      expect(result.pieces).toHaveLength(result.tokenIds.length);
      expect(result.pieces.join('')).toBe(result.text);
    }
  });

  it('round-trips generated ids through decode and encode, for many seeds', () => {
    for (const seed of SEEDS) {
      for (const ignoreEos of [false, true]) {
        const result = plan({ seed, maxTokens: 400, ignoreEos });
        const content = result.tokenIds.filter((id) => id !== EOT);
        expect(tokenizer.encode(tokenizer.decode(content))).toEqual(content);
        expect(result.text.trim()).toBe(result.text);
      }
    }
  });

  it('writes prose: known words, capitalised sentences ending in punctuation, some paragraphs', () => {
    const vocabulary = createProseGenerator(tokenizer).vocabulary;
    const texts = SEEDS.slice(0, 20).map((seed) => plan({ seed, maxTokens: 4000 }).text);
    const text = texts.join('\n\n');
    const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
    expect(words.length).toBeGreaterThan(1000);
    expect(words.every((word) => vocabulary.has(word))).toBe(true);
    expect(words.filter((word) => COMMON_WORDS.has(word)).length / words.length).toBeGreaterThan(0.3);
    expect(text).not.toMatch(/lorem|ipsum/i);
    const sentences = text.split(/(?<=[.?!])\s+/);
    for (const sentence of sentences) expect(sentence).toMatch(/^[A-Z][a-z]*(,? [a-z]+)*[.?!]$/);
    const paragraphBreaks = texts.reduce((sum, one) => sum + one.split('\n\n').length - 1, 0);
    expect(paragraphBreaks).toBeGreaterThan(5);
  });

  it('echoes the given ids and then ends, in echo mode', () => {
    const echo = tokenizer.encode('Repeat after me, please.');
    const result = plan({ seed: 9, maxTokens: 100, mode: 'echo', echoTokenIds: echo });
    expect(result.tokenIds).toEqual([...echo, EOT]);
    expect(result.text).toBe('Repeat after me, please.');
    expect(result.finishReason).toBe('stop');
  });

  it('continues an echo with prose up to maxTokens when EOS is ignored', () => {
    const echo = tokenizer.encode('Repeat after me.');
    const result = plan({ seed: 9, maxTokens: 40, mode: 'echo', echoTokenIds: echo, ignoreEos: true });
    expect(result.tokenIds).toHaveLength(40);
    expect(result.tokenIds.slice(0, echo.length)).toEqual(echo);
    expect(result.text).toMatch(/^Repeat after me\. [A-Z]/);
  });

  it('plans nothing for a zero token budget', () => {
    expect(plan({ seed: 1, maxTokens: 0 })).toEqual({
      tokenIds: [],
      pieces: [],
      text: '',
      finishReason: 'length',
      stopReason: undefined,
    });
  });
});

describe('createDetokenizer', () => {
  it('holds back a split UTF-8 character until it is complete', () => {
    const detokenizer = createDetokenizer(tokenizer);
    expect([9468, 99, 247, 1917].map((id) => detokenizer.push(id))).toEqual(['', '', '🦙', ' world']);
    expect(detokenizer.flush()).toBe('');
  });

  it('never emits text for EOS or other special tokens', () => {
    const detokenizer = createDetokenizer(tokenizer);
    expect([9906, EOT, 128000, 128006].map((id) => detokenizer.push(id))).toEqual(['Hello', '', '', '']);
  });

  it('flushes an incomplete character as U+FFFD', () => {
    const detokenizer = createDetokenizer(tokenizer);
    expect(detokenizer.push(9468)).toBe('');
    expect(detokenizer.flush()).toBe('\uFFFD');
  });
});

describe('tokenLogprob', () => {
  it('makes the chosen token the most likely, first in the top list with the same logprob', () => {
    for (let position = 0; position < 200; position++) {
      const { logprob, top } = tokenLogprob(7, position, 1917, 5);
      expect(logprob).toBeLessThan(0);
      expect(top).toHaveLength(5);
      expect(top[0]).toEqual({ id: 1917, logprob });
      const logprobs = top.map((entry) => entry.logprob);
      expect([...logprobs].sort((a, b) => b - a)).toEqual(logprobs);
      expect(new Set(logprobs).size).toBe(5);
      expect(new Set(top.map((entry) => entry.id)).size).toBe(5);
      for (const { id } of top.slice(1)) expect(tokenizer.isSpecialToken(id)).toBe(false);
      expect(logprobs.reduce((sum, lp) => sum + Math.exp(lp), 0)).toBeLessThan(1);
    }
  });

  it('is deterministic in seed, position and token, and varies with them', () => {
    expect(tokenLogprob(1, 2, 3, 4)).toEqual(tokenLogprob(1, 2, 3, 4));
    expect(tokenLogprob(1, 2, 3, 4)).not.toEqual(tokenLogprob(2, 2, 3, 4));
    expect(tokenLogprob(1, 2, 3, 4)).not.toEqual(tokenLogprob(1, 3, 3, 4));
  });

  it('returns an empty top list when no alternatives are asked for', () => {
    expect(tokenLogprob(1, 0, 9906, 0).top).toEqual([]);
  });
});

describe('createRandom', () => {
  it('repeats its sequence for the same seed and differs for another', () => {
    const draw = (seed: number) => {
      const rng = createRandom(seed);
      return Array.from({ length: 5 }, () => rng.nextUint32());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('keeps floats in [0, 1) and integers in [0, n)', () => {
    const rng = createRandom(3);
    for (let i = 0; i < 10_000; i++) {
      const float = rng.nextFloat();
      expect(float >= 0 && float < 1).toBe(true);
      const int = rng.nextInt(7);
      expect(Number.isInteger(int) && int >= 0 && int < 7).toBe(true);
    }
    expect(() => rng.nextInt(0)).toThrow(RangeError);
  });

  it('draws normals with mean near 0 and standard deviation near 1, and lognormals around exp(mu)', () => {
    const rng = createRandom(4);
    const values = Array.from({ length: 20_000 }, () => rng.normal());
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
    const logs = Array.from({ length: 2001 }, () => rng.lognormal(Math.log(150), 0.5)).sort((a, b) => a - b);
    expect(Math.abs((logs[1000] ?? 0) / 150 - 1)).toBeLessThan(0.05);
  });

  it('hashes parts by kind and order', () => {
    expect(hashSeed(97)).not.toBe(hashSeed('a'));
    expect(hashSeed('a')).not.toBe(hashSeed([97]));
    expect(hashSeed(1, 2)).not.toBe(hashSeed(2, 1));
    expect(hashSeed(2 ** 32)).not.toBe(hashSeed(0));
    expect(hashSeed(-1)).not.toBe(hashSeed(2 ** 32 - 1));
    expect(hashSeed(0.5)).toBe(hashSeed(0.5));
  });
});

/** The most frequent English words: running English text has roughly half its words among them. */
const COMMON_WORDS = new Set(
  (
    'the of and to a in is it that for was on are as with be at by this have from or one had not but what ' +
    'all were when we there can an which their if do will each about how up out them then she many some so ' +
    'these would other into has more her two like him see time could no make than first been its who now ' +
    'people my made over did down only way find use may water long little very after words called just where ' +
    'most know get through back much before go good new write our used me man too any day same right look ' +
    'think also around another came come work three word must because does part even place well such'
  ).split(' '),
);
