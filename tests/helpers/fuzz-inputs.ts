/**
 * What the fuzz test (tests/integration/fuzz.test.ts) sends: junk values and mutations of small
 * valid bodies, byte sequences that are not UTF-8 and the cuts that split a body into chunks, and
 * hostile content — huge counts, nested quantifiers, JSON Schemas that froze generation, long
 * whitespace runs, long words, special-token markup, deep nesting — each a fast-check arbitrary.
 */
import fc from 'fast-check';

export const MODEL = 'meta/llama-3.1-8b-instruct';
export const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

export type Json = Record<string, unknown>;

/** Sets an own property even for `__proto__`, so JSON.stringify sends it as a key. */
export function setOwn(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `bytes` cut at the sorted offsets `cuts` (duplicates give empty chunks). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
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
export function isUtf8(bytes: Uint8Array): boolean {
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
export const invalidUtf8 = fc.oneof(
  fc.integer({ min: 0x80, max: 0xbf }).map((b) => [b]),
  fc.constantFrom([0xc0, 0xaf], [0xc1, 0xbf], [0xf5, 0x80, 0x80, 0x80], [0xff], [0xfe, 0xff]),
  fc.constantFrom([0xe0, 0x80, 0xaf], [0xf0, 0x80, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf]),
  fc.constantFrom([0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0xa6], [0xc3]),
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((a) => [...a]),
);

export function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
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

export const chatFields = [
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
export const completionFields = [
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

export const validChat = (): Json => ({
  model: MODEL,
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello there.' },
  ],
  max_tokens: 3,
});
export const validCompletion = (): Json => ({ model: MODEL, prompt: 'Once upon a time', max_tokens: 3 });

export type Mutation =
  | { kind: 'set'; key: string; value: unknown }
  | { kind: 'delete'; key: string }
  | { kind: 'message'; key: string; value: unknown }
  | { kind: 'stream'; value: boolean };

export const mutation = (known: readonly string[]): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fieldKey(known), value: junk }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...known) }),
    fc.record({ kind: fc.constant('message' as const), key: fieldKey(messageFields), value: junk }),
    fc.record({ kind: fc.constant('stream' as const), value: fc.boolean() }),
  );

export function applyMutations(body: Json, mutations: readonly Mutation[]): Json {
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
export const hostilePromptBody = fc.oneof(
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
export const hostileCountField: fc.Arbitrary<[string, unknown]> = fc.oneof(
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
export const hostileChatField: fc.Arbitrary<[string, unknown]> = fc.oneof(
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
