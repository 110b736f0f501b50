/* eslint-disable @typescript-eslint/no-explicit-any -- wire bodies are read loosely, then asserted exactly */
/**
 * Request content that froze or crashed a default nimsim, through the whole API (app.request):
 * each is now answered promptly, a bound crossed being a 400 naming the field as `param`.
 * tests/live/hardening-content.test.ts sends the worst of them to a live server
 * with a small heap and watches its event loop.
 */
import { describe, expect, it } from 'vitest';
import { applyChatTemplate } from '../../src/content/chat-template.js';
import { createTokenizer } from '../../src/content/tokenizer.js';
import { postJson, testService } from '../helpers/service.js';
import { randomLetters, randomUnicode } from '../helpers/random-text.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const service = testService();

/** Stands for DEEP_JSON in a body: JSON.stringify cannot write a value nested that deep. */
const DEEP = '__deeply_nested__';
/** `[[[…0…]]]`, 100,000 levels. */
const DEEP_JSON = `${'['.repeat(100_000)}0${']'.repeat(100_000)}`;

async function post(path: string, body: Record<string, unknown>) {
  const start = performance.now();
  const text = JSON.stringify({ model: MODEL, ...body }).replace(`"${DEEP}"`, DEEP_JSON);
  const res = await postJson(service, path, text);
  const json = (await res.json()) as any;
  return { status: res.status, body: json, ms: performance.now() - start };
}

/** Expects a 400 naming `param`, whose message matches `message`. */
async function expect400(
  path: string,
  body: Record<string, unknown>,
  param: string,
  message: RegExp | string,
) {
  const res = await post(path, body);
  expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(400);
  expect(res.body.error.param).toBe(param);
  expect(res.body.error.type).toBe('BadRequestError');
  if (typeof message === 'string') expect(res.body.error.message).toBe(message);
  else expect(res.body.error.message).toMatch(message);
  expect(res.ms).toBeLessThan(3_000);
  return res.body.error.message as string;
}

const user = (content: string) => [{ role: 'user', content }];
const chat = (extra: Record<string, unknown>) => ({
  messages: user('Give me JSON.'),
  max_tokens: 50,
  ...extra,
});

function doublingDefs(levels: number): Record<string, unknown> {
  const defs: Record<string, unknown> = { l0: { type: 'integer' } };
  for (let i = 1; i <= levels; i++) {
    const ref = { $ref: `#/$defs/l${i - 1}` };
    defs[`l${i}`] = { type: 'object', properties: { a: ref, b: ref }, required: ['a', 'b'] };
  }
  return { $defs: defs, $ref: `#/$defs/l${levels}` };
}

const CONTEXT = "This model's maximum context length is 131072 tokens. However, you requested at least";

describe('trailing whitespace in messages', () => {
  it('renders content with a 100,000-space run promptly, in chat and /tokenize', async () => {
    const content = `x${' '.repeat(100_000)}x`;
    for (const role of ['system', 'user', 'assistant']) {
      const messages = [...(role === 'user' ? [] : [{ role, content }]), { role: 'user', content }];
      const res = await post('/v1/chat/completions', { messages, max_tokens: 5 });
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(3_000);
    }
    const res = await post('/tokenize', { messages: user(content) });
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3_000);
    const template = applyChatTemplate(createTokenizer('llama3'), user(content), {
      addGenerationPrompt: true,
    });
    expect(res.body.count).toBe(template.length);
  });
});

describe('JSON schemas', () => {
  it.each([
    [{ type: 'array', minItems: 1e8 }, '#: minItems 100000000 is above the limit of 100000'],
    [{ type: 'object', minProperties: 1e6 }, '#: minProperties 1000000 is above the limit of 100000'],
    [{ const: DEEP }, /^#\/const(\/0){63}: the schema nests deeper than 64 levels$/],
    [{ $ref: '#/%' }, '#: $ref #/% is not a valid JSON pointer'],
    [
      { $defs: { a: { allOf: [{ $ref: '#/$defs/a' }] } }, $ref: '#/$defs/a' },
      '#/allOf/0: $ref or allOf refers back to itself',
    ],
    [
      { type: 'number', minimum: 1e308, maximum: 1.7e308, multipleOf: 1e-300 },
      '#: no number satisfies the bounds',
    ],
    [
      { type: 'string', pattern: '(a{1000}){1000}' },
      '#/pattern: regex expands to 1,000,000 characters, more than 100,000',
    ],
  ])('refuses %j with a 400 naming the field', async (schema, expected) => {
    const message = typeof expected === 'string' ? expected : undefined;
    for (const [field, body] of [
      ['guided_json', { guided_json: schema }],
      [
        'response_format.json_schema.schema',
        { response_format: { type: 'json_schema', json_schema: { name: 's', schema } } },
      ],
      ['structured_outputs.json', { structured_outputs: { json: schema } }],
    ] as const) {
      const got = await expect400('/v1/chat/completions', chat(body), field, /./);
      if (message !== undefined) expect(got).toBe(`${field}: ${message}`);
      else expect(got.slice(field.length + 2)).toMatch(expected as RegExp);
    }
  });

  it('refuses a schema whose smallest value cannot fit max_tokens, before generating it', async () => {
    await expect400(
      '/v1/chat/completions',
      { messages: user('x'), guided_json: doublingDefs(24) },
      'guided_json',
      /^guided_json: #: the smallest value the schema allows has at least 251,658,226 characters, more than the 2,09\d,\d{3} that max_tokens allows$/,
    );
    const cube = {
      type: 'array',
      minItems: 1000,
      items: {
        type: 'array',
        minItems: 1000,
        items: { type: 'array', minItems: 1000, items: { type: 'integer' } },
      },
    };
    await expect400(
      '/v1/completions',
      { prompt: 'x', max_tokens: 100, guided_json: cube },
      'guided_json',
      /at least 3,002,002,000 characters, more than the 2,624/,
    );
  });

  it('writes a 60,000-character minLength string when max_tokens leaves room, promptly', async () => {
    const res = await post('/v1/chat/completions', {
      messages: user('x'),
      guided_json: { type: 'string', minLength: 60_000 },
    });
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3_000);
    const value = JSON.parse(res.body.choices[0].message.content) as string;
    expect(value.length).toBeGreaterThanOrEqual(60_000);
    expect(res.body.choices[0].finish_reason).toBe('stop');
  });

  it('refuses tool parameters beyond the bounds, naming the tool', async () => {
    const tool = (parameters: unknown) => ({ type: 'function', function: { name: 'f', parameters } });
    await expect400(
      '/v1/chat/completions',
      chat({
        tools: [tool({ type: 'object' }), tool({ type: 'object', properties: { x: DEEP } })],
      }),
      'tools.1.function.parameters',
      /^tools\.1\.function\.parameters: #\/properties\/x(\/0){62}: the schema nests deeper than 64 levels$/,
    );
    await expect400(
      '/v1/chat/completions',
      chat({ tools: [tool({ type: 'array', minItems: 1e8 })] }),
      'tools.0.function.parameters',
      'tools.0.function.parameters: #: minItems 100000000 is above the limit of 100000',
    );
    // A schema error found while planning the call names the tool too.
    await expect400(
      '/v1/chat/completions',
      chat({
        tools: [
          tool({ type: 'object' }),
          tool({ type: 'object', properties: { x: { $ref: '#/%' } }, required: ['x'] }),
        ],
        tool_choice: 'required',
        messages: user('f'),
      }),
      'tools.1.function.parameters',
      'tools.1.function.parameters: #/properties/x: $ref #/% is not a valid JSON pointer',
    );
  });

  it('refuses tool call arguments nested 100,000 deep in the conversation', async () => {
    const messages = [
      { role: 'user', content: 'x' },
      {
        role: 'assistant',
        tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: DEEP_JSON } }],
      },
      { role: 'tool', tool_call_id: 'c', content: 'ok' },
    ];
    await expect400(
      '/v1/chat/completions',
      { messages, max_tokens: 5 },
      'messages',
      'tool call arguments: JSON nested deeper than 512 levels',
    );
  });
});

describe('tools', () => {
  it('chooses among 512 tools for a 300 KB message promptly, for every choice', async () => {
    const tools = Array.from({ length: 512 }, (_, i) => ({
      type: 'function',
      function: { name: `tool_${i}`, description: `Does thing number ${i} with widgets and gadgets` },
    }));
    const content = 'Please find the widget price for the gadget store. '.repeat(6_000);
    const res = await post('/v1/chat/completions', { messages: user(content), tools, n: 4, max_tokens: 20 });
    expect(res.status).toBe(200);
    expect(res.body.choices).toHaveLength(4);
    // Splitting the message into words once per tool took ~4 s per choice.
    expect(res.ms).toBeLessThan(5_000);
  });
});

describe('guided regex and choice', () => {
  it.each([
    ['(a{1000}){1000}', 'guided_regex: regex expands to 1,000,000 characters, more than 100,000'],
    ['((a{1000}){1000}){1000}', 'guided_regex: regex expands to 1,000,000,000 characters, more than 100,000'],
  ])('refuses guided_regex %s', async (pattern, message) => {
    await expect400('/v1/chat/completions', chat({ guided_regex: pattern }), 'guided_regex', message);
    await expect400('/v1/completions', { prompt: 'x', guided_regex: pattern }, 'guided_regex', message);
  });

  it('refuses a guided choice over 100,000 characters, wherever it is given', async () => {
    const big = 'y'.repeat(1_000_000);
    const message = 'guided_choice.1: a guided choice may have at most 100000 characters, got 1000000';
    await expect400('/v1/chat/completions', chat({ guided_choice: ['a', big] }), 'guided_choice.1', message);
    await expect400(
      '/v1/completions',
      { prompt: 'x', guided_choice: ['a', big] },
      'guided_choice.1',
      message,
    );
    await expect400(
      '/v1/chat/completions',
      chat({ structured_outputs: { choice: [big] } }),
      'structured_outputs.choice.0',
      'structured_outputs.choice.0: a guided choice may have at most 100000 characters, got 1000000',
    );
    await expect400(
      '/v1/chat/completions',
      chat({ nvext: { guided_choice: [big] } }),
      'nvext.guided_choice.0',
      /at most 100000 characters/,
    );
  });
});

describe('stop strings', () => {
  it('refuses a stop string over 1,000 characters and more than 64 of them, naming stop', async () => {
    await expect400(
      '/v1/chat/completions',
      chat({ stop: 'x'.repeat(200_000), max_tokens: 120_000 }),
      'stop',
      'stop: a stop string may have at most 1000 characters, got one of 200000',
    );
    await expect400(
      '/v1/completions',
      { prompt: 'x', stop: ['a', 'x'.repeat(1001)] },
      'stop',
      'stop: a stop string may have at most 1000 characters, got one of 1001',
    );
    await expect400(
      '/v1/completions',
      { prompt: 'x', stop: Array(65).fill('x') },
      'stop',
      'stop: at most 64 stop strings are accepted, got 65',
    );
  });

  it('plans 120,000 tokens against 64 stop strings of 1,000 characters promptly', async () => {
    const stop = Array.from({ length: 64 }, (_, i) => `${'z'.repeat(995)}${i}`);
    const res = await post('/v1/completions', { prompt: 'x', stop, max_tokens: 120_000, ignore_eos: true });
    expect(res.status).toBe(200);
    expect(res.body.usage.completion_tokens).toBe(120_000);
    expect(res.ms).toBeLessThan(5_000);
  });
});

describe('prompts over the context', () => {
  it('refuses a 1,000,000-letter word as soon as counting passes max_model_len', async () => {
    const word = randomLetters(1_000_000, 1);
    await expect400(
      '/v1/chat/completions',
      { messages: user(word), max_tokens: 5 },
      'messages',
      new RegExp(
        `^${CONTEXT} 13[12]\\d{3} tokens in the messages, Please reduce the length of the messages\\.$`,
      ),
    );
    await expect400(
      '/v1/completions',
      { prompt: word, max_tokens: 5 },
      'prompt',
      new RegExp(`^${CONTEXT} 13[12]\\d{3} tokens in the prompt, Please reduce the length of the prompt\\.$`),
    );
    await expect400(
      '/tokenize',
      { prompt: word },
      'prompt',
      new RegExp(`^${CONTEXT} 13[12]\\d{3} tokens in the prompt`),
    );
    await expect400(
      '/tokenize',
      { messages: user(word) },
      'messages',
      new RegExp(`^${CONTEXT} 13[12]\\d{3} tokens in the messages`),
    );
  });

  it('still counts a 1,000,000-character word that fits (it overflowed the stack: 500)', async () => {
    const res = await post('/tokenize', { prompt: 'a'.repeat(1_000_000) });
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(125_001);
  });

  it('refuses 11 MB of random Unicode promptly, in every route that tokenizes', async () => {
    const text = randomUnicode(3_600_000, 2);
    await expect400('/tokenize', { prompt: text }, 'prompt', new RegExp(`^${CONTEXT} `));
    await expect400('/v1/chat/completions', { messages: user(text) }, 'messages', new RegExp(`^${CONTEXT} `));
  });
});
