/**
 * Fuzzing the HTTP surface through app.request() (no socket): arbitrary JSON, mutated valid
 * bodies, random content types and random paths must never produce a 5xx; every 4xx is a JSON
 * `{"error":{…}}` body whose code is the status; streams stay well-formed; and nothing a client
 * sends can reach Object.prototype. Bodies that are not UTF-8 are 400 (not decoded with U+FFFD),
 * and a body sent in arbitrary chunks (no Content-Length) is read exactly as the whole. Hostile
 * content — huge counts, nested quantifiers, long whitespace runs, deep nesting — is answered as
 * promptly, and so are hostile prompts (whitespace runs, long words, special-token markup) on
 * every body route, sent whole or in chunks, and huge request-level counts (n, max_tokens, stop
 * lists, logit_bias, message lists).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const BODY_ROUTES = ['/v1/chat/completions', '/v1/completions', '/tokenize', '/detokenize'] as const;
/** The only error types there are (docs/interface.md#errors). */
const ERROR_TYPES = [
  'BadRequestError',
  'AuthenticationError',
  'NotFoundError',
  'RateLimitError',
  'InternalServerError',
  'ServiceUnavailableError',
];
const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

// Time scale 0 makes generation instant; valid bodies stay tiny (max_tokens 3) so each run is cheap.
const service = testService();
const prototypeNamesBefore = Object.getOwnPropertyNames(Object.prototype).sort();

type Json = Record<string, unknown>;

/** Sets an own property even for `__proto__`, so JSON.stringify sends it as a key. */
function setOwn(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function send(method: string, path: string, body: string | undefined, contentType?: string) {
  const headers: Record<string, string> = {};
  if (contentType !== undefined) headers['content-type'] = contentType;
  return service.app.request(path, { method, headers, ...(body === undefined ? {} : { body }) });
}

/** A body sent as a stream of `chunks` (no Content-Length, as a chunked upload). */
function sendChunks(path: string, chunks: readonly Uint8Array[], contentType = 'application/json') {
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at < chunks.length) controller.enqueue(chunks[at++]!);
      else controller.close();
    },
  });
  return service.app.request(path, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
    duplex: 'half',
  } as RequestInit);
}

/** `bytes` cut at the sorted offsets `cuts` (duplicates give empty chunks). */
function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(bytes.slice(from, cut));
    from = cut;
  }
  out.push(bytes.slice(from));
  return out;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Byte sequences no UTF-8 decoder may accept: stray continuation bytes, bytes that never occur
 * (C0, C1, F5–FF), overlong forms, encoded surrogates, code points past U+10FFFF and sequences cut
 * short.
 */
const invalidUtf8 = fc.oneof(
  fc.integer({ min: 0x80, max: 0xbf }).map((b) => [b]),
  fc.constantFrom([0xc0, 0xaf], [0xc1, 0xbf], [0xf5, 0x80, 0x80, 0x80], [0xff], [0xfe, 0xff]),
  fc.constantFrom([0xe0, 0x80, 0xaf], [0xf0, 0x80, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf]),
  fc.constantFrom([0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0xa6], [0xc3]),
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((a) => [...a]),
);

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The invariants every response keeps, whatever was sent. */
async function expectWellFormed(res: Response): Promise<void> {
  const text = await res.text(); // always drained, so no stream is left open
  expect(res.status).toBeLessThan(500);
  const type = res.headers.get('content-type') ?? '';
  if (res.status >= 400) {
    expect(type).toMatch(/^application\/json/);
    const body = JSON.parse(text) as { error?: Json };
    expect(body.error).toEqual({
      message: expect.any(String),
      type: expect.toBeOneOf(ERROR_TYPES),
      param: body.error?.['param'] === null ? null : expect.any(String),
      code: res.status,
    });
    return;
  }
  if (type.startsWith('text/event-stream')) {
    const frames = text.split('\n\n').filter((f) => f.length > 0);
    expect(frames.at(-1)).toBe('data: [DONE]');
    for (const frame of frames.slice(0, -1)) {
      expect(frame.startsWith('data: ')).toBe(true);
      expect(() => JSON.parse(frame.slice('data: '.length)) as unknown).not.toThrow();
    }
  } else if (type.startsWith('application/json')) {
    expect(() => JSON.parse(text) as unknown).not.toThrow();
  }
}

const hugeNumber = fc.constantFrom(
  1e308,
  -1e308,
  2 ** 53,
  2 ** 64,
  -(2 ** 63),
  Number.MAX_SAFE_INTEGER + 2,
  1e-320,
  -0,
  -1,
  0,
  0.5,
  4294967296,
);
const oddString = fc.oneof(
  fc.constant(''),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('\u0000', '\uFFFF', '\uD800', '\u202E', '🦙🦙', '<|eot_id|>', '<|begin_of_text|>'),
);
/** Wrong types, huge and negative numbers, nested junk, unicode and empty strings. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  oddString,
  hugeNumber,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.oneof(fc.integer({ min: -5, max: 200_000 }), oddString), { maxLength: 6 }),
  fc.array(fc.array(fc.integer({ min: -5, max: 130_000 }), { maxLength: 4 }), { maxLength: 3 }),
);

const chatFields = [
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'n',
  'stop',
  'stream',
  'stream_options',
  'seed',
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'top_k',
  'min_p',
  'min_tokens',
  'stop_token_ids',
  'nvext',
  'tools',
  'tool_choice',
  'response_format',
  'user',
  'add_generation_prompt',
  'guided_json',
  'guided_choice',
  'cache_salt',
];
const completionFields = [
  'model',
  'prompt',
  'max_tokens',
  'n',
  'best_of',
  'echo',
  'logprobs',
  'stop',
  'stream',
  'stream_options',
  'seed',
  'suffix',
  'min_tokens',
  'stop_token_ids',
  'nvext',
];
const messageFields = ['role', 'content', 'name', 'tool_calls', 'tool_call_id'];
const fieldKey = (known: readonly string[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...known) },
    { weight: 2, arbitrary: fc.constantFrom(...POLLUTING_KEYS, 'toString', 'hasOwnProperty') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );

const validChat = (): Json => ({
  model: MODEL,
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello there.' },
  ],
  max_tokens: 3,
});
const validCompletion = (): Json => ({ model: MODEL, prompt: 'Once upon a time', max_tokens: 3 });

type Mutation =
  | { kind: 'set'; key: string; value: unknown }
  | { kind: 'delete'; key: string }
  | { kind: 'message'; key: string; value: unknown }
  | { kind: 'stream'; value: boolean };

const mutation = (known: readonly string[]): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fieldKey(known), value: junk }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...known) }),
    fc.record({ kind: fc.constant('message' as const), key: fieldKey(messageFields), value: junk }),
    fc.record({ kind: fc.constant('stream' as const), value: fc.boolean() }),
  );

function applyMutations(body: Json, mutations: readonly Mutation[]): Json {
  for (const m of mutations) {
    if (m.kind === 'set') setOwn(body, m.key, m.value);
    else if (m.kind === 'delete') delete body[m.key];
    else if (m.kind === 'stream') body['stream'] = m.value;
    else if (Array.isArray(body['messages']) && typeof body['messages'][1] === 'object') {
      setOwn(body['messages'][1] as Json, m.key, m.value);
    } else setOwn(body, m.key, m.value);
  }
  // Keep every valid run small: a mutation may lift max_tokens, but then not also ignore EOS.
  if (body['ignore_eos'] === true) body['max_tokens'] = 3;
  return body;
}

/** Counts from modest to absurd, around the documented bounds (100,000; 1,000 for stop strings). */
const hugeCount = fc.oneof(
  fc.constantFrom(0, 1, 999, 1000, 1001, 100_000, 100_001, 1e6, 1e8, 2 ** 53, 1e308),
  fc.integer({ min: 0, max: 200_000 }),
);
/** Patterns with nested and stacked quantifiers, empty groups and huge classes. */
const hostileRegex = fc.oneof(
  fc.constantFrom(
    '(a{1000}){1000}',
    '((a{1000}){1000}){1000}',
    '((){1000}){1000}',
    '(a{100}){1000}',
    '[\\u0000-\\uffff]{1000}',
    '(a|aa|aaa){1000}',
    '(.*){1000}',
  ),
  fc
    .array(
      fc.constantFrom(
        'a',
        '(',
        ')',
        '{1000}',
        '{2,999}',
        '{0,}',
        '*',
        '+',
        '?',
        '|',
        '[a-z]',
        '\\d',
        '.',
        '^',
        '$',
      ),
      {
        maxLength: 16,
      },
    )
    .map((parts) => parts.join('')),
);
/** `x`, a run of whitespace, `x`: the shape the chat template's trim was quadratic on. */
const whitespaceRun = fc
  .tuple(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(' ', '\t', '\n', '\u3000', ' \n'))
  .map(([n, unit]) => `x${unit.repeat(Math.ceil(n / unit.length))}x`);
/** Arrays nested `depth` deep (JSON.stringify still writes a few thousand levels). */
const deepValue = fc.integer({ min: 60, max: 3_000 }).map((depth) => {
  let value: unknown = {};
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { items: value };
  return value;
});
/** JSON Schemas with the shapes that froze generation: counts, products, cycles, odd numbers. */
const hostileSchema: fc.Arbitrary<unknown> = fc
  .letrec<{ schema: unknown }>((tie) => ({
    schema: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record(
        { type: fc.constant('array'), minItems: hugeCount, items: tie('schema') },
        { requiredKeys: ['type'] },
      ),
      fc.record(
        { type: fc.constant('string'), minLength: hugeCount, maxLength: hugeCount, pattern: hostileRegex },
        { requiredKeys: ['type'] },
      ),
      fc.record(
        { type: fc.constant('object'), minProperties: hugeCount, additionalProperties: fc.boolean() },
        { requiredKeys: ['type'] },
      ),
      fc.record(
        {
          type: fc.constantFrom('number', 'integer'),
          minimum: hugeNumber,
          maximum: hugeNumber,
          exclusiveMinimum: hugeNumber,
          multipleOf: fc.constantFrom(1e-300, 0.1, 3, 1e300, 0),
        },
        { requiredKeys: ['type'] },
      ),
      fc.record({
        $ref: fc.constantFrom('#', '#/%', '#/$defs/a', '#/$defs/b', '#/properties/0', '#/%E0%A4%A'),
      }),
      fc.record({ allOf: fc.array(tie('schema'), { maxLength: 3 }) }),
      fc.record({ anyOf: fc.array(tie('schema'), { maxLength: 3 }) }),
      fc.record({ const: deepValue }),
      fc.integer({ min: 2, max: 30 }).map((levels) => {
        const defs: Record<string, unknown> = { l0: { type: 'integer' } };
        for (let i = 1; i <= levels; i++) {
          const ref = { $ref: `#/$defs/l${i - 1}` };
          defs[`l${i}`] = { type: 'object', properties: { a: ref, b: ref }, required: ['a', 'b'] };
        }
        return { $defs: defs, $ref: `#/$defs/l${levels}` };
      }),
    ),
  }))
  .schema.map((schema) =>
    // Give $refs something to find (or to loop through).
    typeof schema === 'object' && schema !== null && !Array.isArray(schema)
      ? { $defs: { a: { allOf: [{ $ref: '#/$defs/a' }] }, b: { type: 'string' } }, ...schema }
      : schema,
  );

/** A word of `n` letters: one pre-token, cut into pieces by the tokenizer. */
const longWord = fc
  .tuple(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom('a', 'ab', 'xyz', 'é', '日'))
  .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)));
/** Special-token markup, real or broken, repeated: the tokenizer's split on it. */
const markupRun = fc
  .tuple(
    fc.integer({ min: 1, max: 20_000 }),
    fc.constantFrom('<|eot_id|>', '<|', '|>', '<|eot_id', ' <|begin_of_text|>\n'),
  )
  .map(([n, unit]) => unit.repeat(n));
/** Prompt text of the shapes that made tokenizing slow: whitespace runs, long words, markup. */
const hostileText = fc.oneof(whitespaceRun, longWord, markupRun);

/** A body route with `text` as its prompt, in the shapes each route takes. */
const hostilePromptBody = fc.oneof(
  hostileText.map(
    (text) =>
      ['/v1/chat/completions', { ...validChat(), messages: [{ role: 'user', content: text }] }] as const,
  ),
  hostileText.map((text) => ['/v1/completions', { ...validCompletion(), prompt: text }] as const),
  fc
    .array(hostileText, { minLength: 1, maxLength: 3 })
    .map((prompts) => ['/v1/completions', { ...validCompletion(), prompt: prompts }] as const),
  hostileText.map((text) => ['/tokenize', { model: MODEL, prompt: text }] as const),
  hostileText.map(
    (text) => ['/tokenize', { model: MODEL, messages: [{ role: 'system', content: text }] }] as const,
  ),
);

/** Request-level counts from modest to absurd, on the fields that size the work. */
const hostileCountField: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc
    .constantFrom('n', 'max_tokens', 'max_completion_tokens', 'min_tokens', 'top_logprobs')
    .chain((key) => hugeCount.map((n) => [key, n] as [string, unknown])),
  hugeCount.map(
    (n) => ['stop', Array.from({ length: Math.min(n, 5_000) }, (_, i) => `s${i}`)] as [string, unknown],
  ),
  hugeCount.map(
    (n) =>
      [
        'logit_bias',
        Object.fromEntries(Array.from({ length: Math.min(n, 5_000) }, (_, i) => [String(i), 1])),
      ] as [string, unknown],
  ),
  hugeCount.map(
    (n) =>
      ['messages', Array.from({ length: Math.min(n, 5_000) }, () => ({ role: 'user', content: 'x' }))] as [
        string,
        unknown,
      ],
  ),
);

/** One hostile field set on a small valid chat body. */
const hostileChatField: fc.Arbitrary<[string, unknown]> = fc.oneof(
  hostileSchema.map((schema) => ['guided_json', schema] as [string, unknown]),
  hostileSchema.map(
    (schema) =>
      ['response_format', { type: 'json_schema', json_schema: { name: 's', schema } }] as [string, unknown],
  ),
  hostileSchema.map(
    (schema) =>
      ['tools', [{ type: 'function', function: { name: 'f', parameters: schema } }]] as [string, unknown],
  ),
  hostileRegex.map((pattern) => ['guided_regex', pattern] as [string, unknown]),
  hostileRegex.map((pattern) => ['structured_outputs', { regex: pattern }] as [string, unknown]),
  fc.integer({ min: 0, max: 300_000 }).map((n) => ['guided_choice', ['y'.repeat(n)]] as [string, unknown]),
  fc
    .tuple(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 3_000 }))
    .map(
      ([count, length]) =>
        ['stop', Array.from({ length: count }, (_, i) => `${'s'.repeat(length)}${i}`)] as [string, unknown],
    ),
  whitespaceRun.map(
    (content) =>
      [
        'messages',
        [
          { role: 'system', content },
          { role: 'user', content },
        ],
      ] as [string, unknown],
  ),
  deepValue.map(
    (value) =>
      [
        'messages',
        [
          { role: 'user', content: 'x' },
          { role: 'assistant', tool_calls: [{ function: { name: 'f', arguments: JSON.stringify(value) } }] },
        ],
      ] as [string, unknown],
  ),
);

describe('fuzzing the HTTP surface', () => {
  afterAll(() => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNamesBefore);
    expect(({} as Json)['polluted']).toBeUndefined();
  });

  it('answers arbitrary JSON bodies with a 4xx JSON error or a well-formed success', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...BODY_ROUTES), fc.jsonValue({ maxDepth: 4 }), async (path, body) => {
        await expectWellFormed(await send('POST', path, JSON.stringify(body), 'application/json'));
      }),
      { numRuns: 800 },
    );
  });

  it('never fails with a 5xx on mutated valid chat bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation(chatFields), { minLength: 1, maxLength: 3 }), async (mutations) => {
        const body = applyMutations(validChat(), mutations);
        await expectWellFormed(
          await send('POST', '/v1/chat/completions', JSON.stringify(body), 'application/json'),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('never fails with a 5xx on mutated valid completions bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation(completionFields), { minLength: 1, maxLength: 3 }),
        async (mutations) => {
          const body = applyMutations(validCompletion(), mutations);
          await expectWellFormed(
            await send('POST', '/v1/completions', JSON.stringify(body), 'application/json'),
          );
        },
      ),
      { numRuns: 800 },
    );
  });

  it('answers broken JSON text with 400', async () => {
    const text = JSON.stringify(validChat());
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: text.length - 1 }),
        fc.constantFrom('', '{', '}', ',', '"', ':', '\\', '\u0000', 'NaN', 'Infinity'),
        async (at, insert) => {
          const broken = text.slice(0, at) + insert;
          fc.pre(!parses(broken)); // cutting before the last brace and adding it back is valid again
          const res = await send('POST', '/v1/chat/completions', broken, 'application/json');
          expect(res.status).toBe(400);
          await expectWellFormed(res);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('answers a body that is not UTF-8 with 400 naming the body, on every body route', async () => {
    const encoder = new TextEncoder();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BODY_ROUTES),
        invalidUtf8,
        fc.nat(),
        fc.boolean(),
        async (path, bad, where, chunked) => {
          const body = path === '/v1/completions' ? validCompletion() : validChat();
          const text =
            path === '/detokenize' ? JSON.stringify({ model: MODEL, tokens: [1, 2] }) : JSON.stringify(body);
          // Inside a string value, where a decoder that replaces bad bytes would let it through.
          const quote = text.indexOf(
            '"',
            text.indexOf(path === '/v1/completions' ? '"prompt"' : '"model"') + 8,
          );
          const at = quote + 1 + (where % 4);
          const bytes = new Uint8Array([
            ...encoder.encode(text.slice(0, at)),
            ...bad,
            ...encoder.encode(text.slice(at)),
          ]);
          fc.pre(!isUtf8(bytes));
          const res = chunked
            ? await sendChunks(path, splitAt(bytes, [at, at + 1]))
            : await service.app.request(path, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: bytes,
              });
          expect(res.status).toBe(400);
          const error = ((await res.json()) as { error: Json }).error;
          expect(error).toMatchObject({ param: 'body', message: 'The request body is not valid UTF-8.' });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reads a body sent in arbitrary chunks exactly as the whole body', async () => {
    const encoder = new TextEncoder();
    // Multi-byte characters, so some cuts fall inside one.
    const chat = {
      ...validChat(),
      messages: [{ role: 'user', content: 'Héllo 🦙 — ünïcödé 日本語' }],
      seed: 7,
    };
    const bytes = encoder.encode(JSON.stringify(chat));
    const whole = (await (
      await send('POST', '/v1/chat/completions', JSON.stringify(chat), 'application/json')
    ).json()) as { choices: unknown; usage: Json };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }),
        async (cuts) => {
          const res = await sendChunks('/v1/chat/completions', splitAt(bytes, cuts));
          expect(res.status).toBe(200);
          // The same prompt gives the same reply (cached tokens grow as the prefix cache warms).
          const body = (await res.json()) as { choices: unknown; usage: Json };
          expect(body.choices).toEqual(whole.choices);
          expect(body.usage['prompt_tokens']).toBe(whole.usage['prompt_tokens']);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('answers random bytes sent in chunks with 400, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BODY_ROUTES),
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat({ max: 300 }), { maxLength: 6 }),
        async (path, bytes, cuts) => {
          const res = await sendChunks(
            path,
            splitAt(
              bytes,
              cuts.map((c) => Math.min(c, bytes.length)),
            ),
          );
          await expectWellFormed(res);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps __proto__ and constructor keys out of Object.prototype', async () => {
    const payload = { polluted: 'yes', toString: 'owned' };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BODY_ROUTES),
        fc.constantFrom(...POLLUTING_KEYS),
        fc.constantFrom('top', 'message', 'nvext', 'stream_options'),
        async (path, key, where) => {
          const body = path === '/v1/completions' ? validCompletion() : validChat();
          const polluting: Json = {};
          setOwn(polluting, key, key === 'constructor' ? { prototype: payload } : payload);
          if (where === 'top') setOwn(body, key, polluting[key]);
          else if (where === 'message' && Array.isArray(body['messages'])) {
            setOwn(body['messages'][1] as Json, key, polluting[key]);
          } else body[where] = polluting;
          await expectWellFormed(await send('POST', path, JSON.stringify(body), 'application/json'));
          expect(({} as Json)['polluted']).toBeUndefined();
          expect(Object.prototype.toString.call([])).toBe('[object Array]');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('answers any content type with 415, 400 or a success, never a 5xx', async () => {
    const contentType = fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'application/vnd.api+json',
        'text/plain',
        'text/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        '',
        ';',
        'application/',
      ),
      fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BODY_ROUTES),
        fc.option(contentType, { nil: undefined }),
        fc.oneof(fc.constant(JSON.stringify(validChat())), fc.string({ maxLength: 40 })),
        async (path, type, body) => {
          const res = await send('POST', path, body, type);
          expect([200, 400, 404, 415]).toContain(res.status);
          await expectWellFormed(res);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('answers random paths and methods under /v1 without a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
        fc.array(
          fc.oneof(
            fc.webSegment(),
            fc.constantFrom('chat', 'completions', 'models', 'health', '..', '%2e%2e', '%00'),
          ),
          {
            maxLength: 4,
          },
        ),
        fc.option(fc.webQueryParameters(), { nil: undefined }),
        async (method, segments, query) => {
          const path = `/v1/${segments.join('/')}${query === undefined ? '' : `?${query}`}`;
          const body = method === 'GET' || method === 'OPTIONS' ? undefined : JSON.stringify(validChat());
          await expectWellFormed(
            await send(method, path, body, body === undefined ? undefined : 'application/json'),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('answers hostile content (counts, quantifiers, whitespace runs, nesting) promptly, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileChatField,
        fc.constantFrom(3, 200),
        fc.boolean(),
        async ([key, value], maxTokens, toolChoice) => {
          const body: Json = { ...validChat(), max_tokens: maxTokens };
          setOwn(body, key, value);
          if (key === 'tools' && toolChoice) body['tool_choice'] = 'required';
          const start = performance.now();
          const res = await send('POST', '/v1/chat/completions', JSON.stringify(body), 'application/json');
          await expectWellFormed(res);
          expect(performance.now() - start).toBeLessThan(5_000);
        },
      ),
      { numRuns: 300 },
    );
  });
  it('answers hostile prompts on every body route, whole or chunked, promptly, never a 5xx', async () => {
    const encoder = new TextEncoder();
    await fc.assert(
      fc.asyncProperty(
        hostilePromptBody,
        fc.option(fc.array(fc.nat(), { maxLength: 8 }), { nil: undefined }),
        async ([path, body], cuts) => {
          const text = JSON.stringify(body);
          const start = performance.now();
          const res =
            cuts === undefined
              ? await send('POST', path, text, 'application/json')
              : await (() => {
                  const bytes = encoder.encode(text);
                  return sendChunks(
                    path,
                    splitAt(
                      bytes,
                      cuts.map((c) => c % (bytes.length + 1)),
                    ),
                  );
                })();
          await expectWellFormed(res);
          expect(performance.now() - start).toBeLessThan(5_000);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('answers huge request-level counts (n, max_tokens, stop, logit_bias, messages) promptly, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileCountField,
        fc.boolean(),
        fc.boolean(),
        async ([key, value], stream, completions) => {
          const body: Json = completions ? validCompletion() : validChat();
          if (completions && key === 'messages') return;
          setOwn(body, key, value);
          if (completions && key === 'top_logprobs') {
            delete body['top_logprobs'];
            body['logprobs'] = value;
          }
          body['stream'] = stream;
          const start = performance.now();
          const res = await send(
            'POST',
            completions ? '/v1/completions' : '/v1/chat/completions',
            JSON.stringify(body),
            'application/json',
          );
          await expectWellFormed(res);
          expect(performance.now() - start).toBeLessThan(5_000);
        },
      ),
      { numRuns: 300 },
    );
  });
});
