/**
 * Tokenizer.encodeIntoAsync and the async chat template (src/content/tokenizer.ts,
 * chat-template.ts) encode in slices that yield to the event loop: cutting a text into slices,
 * anywhere the slicer may cut, must give exactly the ids and the result of one synchronous pass.
 * The two passes run on tokenizers with separate caches (each family has its own), and every
 * comparison on a text neither has seen (a cached text is pushed whole, whatever the limit).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  applyChatTemplate,
  applyChatTemplateAsync,
  encodeCompletionPrompt,
  encodeCompletionPromptAsync,
  type ChatMessage,
} from '../../src/content/chat-template.js';
import {
  createTokenizer,
  ENCODE_SLICE_CHARS,
  ENCODE_SLICE_TOKENS,
  MAX_PIECE_CHARS,
  TokenLimitError,
} from '../../src/content/tokenizer.js';
import { randomLetters, randomUnicode } from '../helpers/random-text.js';

// Two tokenizers on the same (Llama 3) vocabulary, each with its own caches.
const sync = createTokenizer('llama3');
const sliced = createTokenizer('deepseek');
let serial = 0;
/** `text` made new to both tokenizers' caches. */
const unseen = (text: string) => `${text} #${++serial}`;

/** Every text here is longer than a slice, in characters or in tokens. */
const texts: Record<string, string> = {
  'random Unicode': randomUnicode(3 * ENCODE_SLICE_CHARS, 11),
  'one long word': randomLetters(5 * ENCODE_SLICE_CHARS + 17, 12),
  'a whitespace run between letters': `x${' '.repeat(4 * ENCODE_SLICE_CHARS + 3)}x`,
  'newline runs': `a${'\n \r\n\t'.repeat(3 * ENCODE_SLICE_CHARS)}b`,
  'astral characters across piece cuts': `${'a'.repeat(MAX_PIECE_CHARS - 1)}${'😀'.repeat(3 * ENCODE_SLICE_CHARS)}`,
  'special tokens between words': Array.from(
    { length: ENCODE_SLICE_TOKENS },
    (_, i) => `word${i} <|eot_id|>${i % 7 === 0 ? '<|start_header_id|>' : ' '}`,
  ).join(''),
  'markup that is not a special token': `<|${'not special '.repeat(2 * ENCODE_SLICE_TOKENS)}|> <|eot_id|>`,
  'prose with digits and contractions': "It's 12345 o'clock, isn't it? ".repeat(2 * ENCODE_SLICE_TOKENS),
};

describe('encodeIntoAsync', () => {
  it.each(Object.entries(texts))('%s: the ids of one synchronous pass', async (_name, base) => {
    const text = unseen(base);
    const expected = sync.encode(text);
    const out: number[] = [];
    expect(await sliced.encodeIntoAsync(text, out)).toBe(true);
    expect(out).toEqual(expected);
  });

  it.each(Object.entries(texts))('%s, with a limit: stops where encodeInto stops', async (_name, base) => {
    for (const limit of [1, ENCODE_SLICE_TOKENS - 1, ENCODE_SLICE_TOKENS + 1, 2 * ENCODE_SLICE_TOKENS + 5]) {
      const text = unseen(base);
      const expected = [7];
      const complete = sync.encodeInto(text, expected, limit);
      const out = [7];
      expect(await sliced.encodeIntoAsync(text, out, limit)).toBe(complete);
      expect(out).toEqual(expected);
    }
  });

  it('yields to the event loop while a long text is encoded', async () => {
    const text = randomUnicode(10 * ENCODE_SLICE_CHARS, 13);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      await sliced.encodeIntoAsync(text, []);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });

  it('agrees with encodeInto on any concatenation of stressful fragments', async () => {
    const fragment = fc.constantFrom(
      'hello',
      ' world',
      "'s",
      '12345',
      '  ',
      '\n\n',
      '\r\n',
      'ünïcödé',
      '日本語',
      '😀',
      '<|eot_id|>',
      '<|',
      '!!!',
      'a'.repeat(MAX_PIECE_CHARS + 3),
      ' '.repeat(700),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fragment, { minLength: 1, maxLength: 400 }),
        fc.nat(6000),
        async (parts, limit) => {
          const text = unseen(parts.join(''));
          const expected: number[] = [];
          const complete = sync.encodeInto(text, expected, limit + 1);
          const out: number[] = [];
          expect(await sliced.encodeIntoAsync(text, out, limit + 1)).toBe(complete);
          expect(out).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('the async chat template and completion prompt', () => {
  const long = randomUnicode(2 * ENCODE_SLICE_CHARS, 14);
  /** A conversation new to both caches, with long messages (each encoded on its own). */
  const conversation = (): ChatMessage[] => {
    const text = unseen(long);
    return [
      { role: 'system', content: `  ${text}\n` },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text },
        ],
      },
      { role: 'assistant', content: null, tool_calls: [{ function: { name: 'f', arguments: '{"x": 1}' } }] },
      { role: 'tool', content: text.slice(0, 500) },
    ];
  };

  it('gives the synchronous ids', async () => {
    const opts = { addGenerationPrompt: true };
    const messages = conversation();
    expect(await applyChatTemplateAsync(sliced, messages, opts)).toEqual(
      applyChatTemplate(sync, messages, opts),
    );
    const prompt = unseen(long);
    expect(await encodeCompletionPromptAsync(sliced, prompt)).toEqual(encodeCompletionPrompt(sync, prompt));
  });

  it('stops at the limit with the same TokenLimitError', async () => {
    const limit = ENCODE_SLICE_TOKENS + 10;
    const opts = { addGenerationPrompt: true, limit };
    const counted = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        if (err instanceof TokenLimitError) return err.counted;
        throw err;
      }
      return undefined;
    };
    const messages = conversation();
    const expected = counted(() => applyChatTemplate(sync, messages, opts));
    expect(expected).toBeGreaterThanOrEqual(limit);
    await expect(applyChatTemplateAsync(sliced, messages, opts)).rejects.toMatchObject({
      name: 'TokenLimitError',
      counted: expected,
    });
    const prompt = unseen(long + long);
    const promptCounted = counted(() => encodeCompletionPrompt(sync, prompt, limit));
    await expect(encodeCompletionPromptAsync(sliced, prompt, limit)).rejects.toMatchObject({
      counted: promptCounted,
    });
  });
});
