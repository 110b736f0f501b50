/**
 * Each family's real tokenizer: o200k_harmony (gpt-oss) checked against js-tiktoken's own
 * encoder, Mistral v1 (Mixtral) against mistral-tokenizer-js's own encoder and the ids its tests
 * publish; their special tokens, bytes and prompt formats.
 */
import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  applyChatTemplate,
  encodeCompletionPrompt,
  renderChatTemplate,
  type ChatMessage,
} from '../../src/content/chat-template.js';
import { createTokenizer } from '../../src/content/tokenizer.js';
import { randomUnicode } from '../helpers/random-text.js';

/** mistral-tokenizer-js (an untyped ES module): encode with BOS and the leading space by default. */
const mistralPackage = createRequire(import.meta.url)('mistral-tokenizer-js') as {
  default: { encode(text: string): number[] };
};
const mistralEncode = (text: string) => mistralPackage.default.encode(text);

const SAMPLES = [
  'hello world',
  'Hello, world! 123456 ünïcödé 🦙 漢字テスト',
  '  leading spaces\n\nand\ttabs   ',
  "It's we're they'LL HELLO'S",
  'def f(x):\n    return x**2 // 3\n',
  `The llama (/ˈlɑːmə/; 🦙Spanish pronunciation: [ˈʎama]) (Lama glama) is a domesticated South American camelid.`,
  randomUnicode(2000, 5),
];

describe('o200k_harmony (gpt-oss)', () => {
  const o200k = createTokenizer('o200k');
  const reference = new Tiktoken(o200kBase);

  it('gives the ids tiktoken gives', () => {
    expect(o200k.encode('hello world')).toEqual([24912, 2375]);
    for (const text of SAMPLES) expect(o200k.encode(text)).toEqual(reference.encode(text));
  });

  it("encodes Harmony's special tokens as their ids, other markup as text", () => {
    expect(o200k.encode('<|start|>user<|message|>Hi<|end|>')).toEqual([200006, 1428, 200008, 12194, 200007]);
    expect(o200k.encode('<|return|><|call|><|channel|><|constrain|><|reserved_200013|>')).toEqual([
      200002, 200012, 200005, 200003, 200013,
    ]);
    expect(o200k.encode('<|reserved_200002|>')).toEqual(reference.encode('<|reserved_200002|>'));
    expect(o200k.vocabSize).toBe(201_088);
    expect(o200k.eosTokenIds).toEqual([200002, 199999, 200012]);
    expect(o200k.bosTokenId).toBe(undefined);
    expect(o200k.isSpecialToken(200006)).toBe(true);
    expect(o200k.isSpecialToken(199997)).toBe(false);
    expect(o200k.decode([200006, 1428, 200008])).toBe('<|start|>user<|message|>');
    expect(o200k.decode(o200k.encode(SAMPLES[1]!))).toBe(SAMPLES[1]);
    expect(o200k.tokenBytes(2375)).toEqual([...Buffer.from(' world')]);
  });

  it('renders a chat in Harmony, the generation prompt last', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ];
    const text = renderChatTemplate(messages, { addGenerationPrompt: true, format: 'harmony' });
    expect(
      text.startsWith(
        '<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n',
      ),
    ).toBe(true);
    expect(text).toContain('Reasoning: medium\n\n# Valid channels: analysis, commentary, final.');
    expect(text).toContain('<|start|>developer<|message|># Instructions\n\nBe brief.<|end|>');
    expect(text.endsWith('<|start|>user<|message|>Hi<|end|><|start|>assistant')).toBe(true);
    const ids = applyChatTemplate(o200k, messages, { addGenerationPrompt: true });
    expect(ids).toEqual(o200k.encode(text));
    expect(ids.at(-1)).toBe(o200k.encode('assistant')[0]);
  });

  it('declares tools as a TypeScript namespace, calls and results on the commentary channel', () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather in a city',
          parameters: {
            type: 'object',
            properties: {
              city: { type: 'string', description: 'The city' },
              unit: { type: 'string', enum: ['celsius', 'fahrenheit'], default: 'celsius' },
            },
            required: ['city'],
          },
        },
      },
    ];
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        tool_calls: [{ id: 'c1', function: { name: 'get_weather', arguments: '{"city": "Oslo"}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: '8 C' },
    ];
    const text = renderChatTemplate(messages, { addGenerationPrompt: true, tools, format: 'harmony' });
    expect(text).toContain(
      'namespace functions {\n\n// Weather in a city\ntype get_weather = (_: {\n// The city\ncity: string,\n' +
        'unit?: "celsius" | "fahrenheit", // default: celsius\n}) => any;\n\n} // namespace functions',
    );
    expect(text).toContain(
      '<|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{"city": "Oslo"}<|call|>' +
        '<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>8 C<|end|>',
    );
  });
});

describe('Mistral v1 (Mixtral 8x7B)', () => {
  const mistral = createTokenizer('mistral');

  it('gives the ids mistral-tokenizer-js gives, with BOS and the dummy prefix of a prompt', () => {
    // The package's README and runTests cases.
    expect(encodeCompletionPrompt(mistral, 'Hello world!')).toEqual([1, 22557, 1526, 28808]);
    expect(encodeCompletionPrompt(mistral, '           grabbed')).toEqual([1, 17422, 13300]);
    expect(encodeCompletionPrompt(mistral, ' \n')).toEqual([1, 259, 13]);
    expect(encodeCompletionPrompt(mistral, '🦙')).toEqual([1, 28705, 243, 162, 169, 156]);
    for (const text of SAMPLES) {
      expect(encodeCompletionPrompt(mistral, text)).toEqual(mistralEncode(text));
    }
  });

  it('maps ▁ to a space and byte tokens to their byte; <s> and </s> are special', () => {
    expect(mistral.tokenText(22557)).toBe('▁Hello');
    expect(mistral.tokenBytes(22557)).toEqual([...Buffer.from(' Hello')]);
    expect(mistral.tokenBytes(13)).toEqual([10]);
    expect(mistral.encode('</s><s>')).toEqual([2, 1]);
    expect(mistral.eosTokenIds).toEqual([2]);
    expect(mistral.bosTokenId).toBe(1);
    expect(mistral.vocabSize).toBe(32_000);
    expect(mistral.decode(mistral.encode(' a  b\nc 🦙'))).toBe(' a  b\nc 🦙');
  });

  it("renders Mixtral's [INST] template; a system prompt joins the first user turn", () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Bye' },
    ];
    const text = renderChatTemplate(messages, { addGenerationPrompt: true, format: 'mistral' });
    expect(text).toBe('<s>[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] Bye [/INST]');
    // Each stretch after <s> or </s> carries the dummy prefix, as Hugging Face encodes it.
    expect(applyChatTemplate(mistral, messages, { addGenerationPrompt: true })).toEqual([
      ...mistralEncode('[INST] Be brief.\n\nHi [/INST]Hello!'),
      2,
      ...mistralEncode('[INST] Bye [/INST]').slice(1),
    ]);
  });
});
