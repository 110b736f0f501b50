/**
 * Fuzzing the HTTP surface through app.request() (no socket): arbitrary JSON, mutated valid
 * bodies, random content types and random paths must never produce a 5xx; every 4xx is a JSON
 * `{"error":{…}}` body whose code is the status; streams stay well-formed; and nothing a client
 * sends can reach Object.prototype. Bodies that are not UTF-8 are 400 (not decoded with U+FFFD),
 * and a body sent in arbitrary chunks (no Content-Length) is read exactly as the whole. Hostile
 * content — huge counts, nested quantifiers, long whitespace runs, deep nesting — is answered as
 * promptly, and so are hostile prompts (whitespace runs, long words, special-token markup) on
 * every body route, sent whole or in chunks, and huge request-level counts (n, max_tokens, stop
 * lists, logit_bias, message lists). The inputs themselves are tests/helpers/fuzz-inputs.ts.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MODEL,
  POLLUTING_KEYS,
  applyMutations,
  chatFields,
  completionFields,
  hostileChatField,
  hostileCountField,
  hostilePromptBody,
  invalidUtf8,
  isUtf8,
  mutation,
  parses,
  setOwn,
  splitAt,
  validChat,
  validCompletion,
  type Json,
} from '../helpers/fuzz-inputs.js';
import { testService } from '../helpers/service.js';

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

// Time scale 0 makes generation instant; valid bodies stay tiny (max_tokens 3) so each run is cheap.
const service = testService();
const prototypeNamesBefore = Object.getOwnPropertyNames(Object.prototype).sort();

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
