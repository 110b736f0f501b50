/**
 * Every error status, as the official openai client raises it: its own error class, the right
 * `status`, and NIM's `error.type` / integer `code` (docs/interface.md#errors).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../helpers/rejection.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hello there.' }];

const clientOf = (server: LiveServer, opts: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) =>
  new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'not-used', maxRetries: 0, ...opts });

/** Asserts the client's error class and NIM's error fields; returns the error for more checks. */
function expectApiError<T extends InstanceType<typeof OpenAI.APIError>>(
  err: unknown,
  cls: abstract new (...args: never[]) => T,
  status: number,
  type: string,
): T {
  expect(err).toBeInstanceOf(cls);
  const e = err as T;
  expect(e.status).toBe(status);
  expect(e.type).toBe(type);
  expect(e.code).toBe(status);
  expect(e.error).toEqual(expect.objectContaining({ code: status, type, message: expect.any(String) }));
  return e;
}

describe('errors of a default server', () => {
  let server: LiveServer;
  let client: OpenAI;
  beforeAll(async () => {
    server = await startLiveServer({ maxModelLen: '512' });
    client = clientOf(server);
  });
  afterAll(() => server.stop());

  it('raises BadRequestError 400 for a body that fails validation', async () => {
    const err = expectApiError(
      await rejectionOf(client.chat.completions.create({ model: MODEL, messages: [] })),
      OpenAI.BadRequestError,
      400,
      'BadRequestError',
    );
    expect(err.param).toBe('messages');
  });

  it('raises BadRequestError 400 for a wrongly typed field, never 422', async () => {
    const err = await rejectionOf(
      client.chat.completions.create({
        model: MODEL,
        messages,
        // @ts-expect-error a string where an integer belongs
        max_tokens: 'many',
      }),
    );
    expect(err).not.toBeInstanceOf(OpenAI.UnprocessableEntityError);
    expectApiError(err, OpenAI.BadRequestError, 400, 'BadRequestError');
  });

  it('raises BadRequestError 400 with the context-length text', async () => {
    const err = expectApiError(
      await rejectionOf(client.chat.completions.create({ model: MODEL, messages, max_tokens: 600 })),
      OpenAI.BadRequestError,
      400,
      'BadRequestError',
    );
    expect(err.error).toEqual(
      expect.objectContaining({
        message: expect.stringMatching(/^This model's maximum context length is 512 tokens\./),
      }),
    );
  });

  it('raises BadRequestError 400 on completions when the prompt is over the context', async () => {
    expectApiError(
      await rejectionOf(
        client.completions.create({ model: MODEL, prompt: 'word '.repeat(600), max_tokens: 1 }),
      ),
      OpenAI.BadRequestError,
      400,
      'BadRequestError',
    );
  });

  it('raises NotFoundError 404 with the NIM text for an unknown model, streamed or not', async () => {
    const err = expectApiError(
      await rejectionOf(client.chat.completions.create({ model: 'nope/none', messages })),
      OpenAI.NotFoundError,
      404,
      'NotFoundError',
    );
    expect(err.error).toEqual(expect.objectContaining({ message: 'The model `nope/none` does not exist.' }));
    expectApiError(
      await rejectionOf(client.completions.create({ model: 'nope/none', prompt: 'x', stream: true })),
      OpenAI.NotFoundError,
      404,
      'NotFoundError',
    );
  });

  it('answers 415 with a JSON error for a non-JSON content type', async () => {
    const res = await fetch(`${server.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ model: MODEL, messages }),
    });
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toEqual(expect.objectContaining({ code: 415, type: 'BadRequestError' }));
  });

  it('surfaces an error after the stream started as an APIError from the iterator', async () => {
    // A drain that times out ends running streams with an in-band error frame, then [DONE].
    const live = await startLiveServer({ timeScale: '1' });
    try {
      const stream = await clientOf(live).chat.completions.create({
        model: MODEL,
        messages,
        max_tokens: 2000,
        ignore_eos: true,
        stream: true,
      } as OpenAI.ChatCompletionCreateParamsStreaming);
      let chunks = 0;
      const err = await rejectionOf(
        (async () => {
          for await (const _chunk of stream) {
            if (++chunks === 2) void live.service.drain(50);
          }
        })(),
      );
      expect(chunks).toBeGreaterThanOrEqual(2);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).error).toEqual(
        expect.objectContaining({ type: 'ServiceUnavailableError', code: 503 }),
      );
    } finally {
      await live.stop();
    }
  });
});

describe('authentication', () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startLiveServer({ apiKey: 'sk-test-key' });
  });
  afterAll(() => server.stop());

  it('raises AuthenticationError 401 for a wrong key and serves the right one', async () => {
    expectApiError(
      await rejectionOf(clientOf(server, { apiKey: 'wrong' }).models.list()),
      OpenAI.AuthenticationError,
      401,
      'AuthenticationError',
    );
    expectApiError(
      await rejectionOf(
        clientOf(server, { apiKey: 'wrong' }).chat.completions.create({ model: MODEL, messages }),
      ),
      OpenAI.AuthenticationError,
      401,
      'AuthenticationError',
    );
    const ok = await clientOf(server, { apiKey: 'sk-test-key' }).chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 2,
    });
    expect(ok.object).toBe('chat.completion');
  });

  it('keeps health open without a key', async () => {
    expect((await fetch(`${server.baseUrl}/v1/health/ready`)).status).toBe(200);
  });
});

describe('body limit', () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startLiveServer({ maxBodyBytes: '1024' });
  });
  afterAll(() => server.stop());

  it('raises APIError 413 for a body over maxBodyBytes', async () => {
    const err = await rejectionOf(
      clientOf(server).chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'x'.repeat(2048) }],
      }),
    );
    // The client has no subclass for 413: it raises the base APIError itself.
    expect((err as object).constructor).toBe(OpenAI.APIError);
    expectApiError(err, OpenAI.APIError, 413, 'BadRequestError');
  });
});

describe('loading', () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startLiveServer({ readyDelayMs: '60000' });
  });
  afterAll(() => server.stop());

  it('raises InternalServerError 503 ServiceUnavailableError while the model loads', async () => {
    expectApiError(
      await rejectionOf(clientOf(server).chat.completions.create({ model: MODEL, messages, stream: true })),
      OpenAI.InternalServerError,
      503,
      'ServiceUnavailableError',
    );
    expect((await fetch(`${server.baseUrl}/v1/health/ready`)).status).toBe(503);
  });
});

describe('queue full', () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startLiveServer({ maxWaiting: '0' });
  });
  afterAll(() => server.stop());

  it('raises RateLimitError 429 with a Retry-After header, streamed or not', async () => {
    for (const stream of [false, true]) {
      const err = expectApiError(
        await rejectionOf(clientOf(server).chat.completions.create({ model: MODEL, messages, stream })),
        OpenAI.RateLimitError,
        429,
        'RateLimitError',
      );
      expect(err.headers.get('retry-after')).toBe('1');
    }
  });

  it("is retried by the client once after the server's Retry-After", async () => {
    let attempts = 0;
    const countingFetch: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    const client = clientOf(server, { maxRetries: 1, fetch: countingFetch });
    const started = performance.now();
    const err = await rejectionOf(client.completions.create({ model: MODEL, prompt: 'hi' }));
    const elapsedMs = performance.now() - started;
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(attempts).toBe(2);
    // Retry-After: 1 means one second; the client's own first backoff is at most 0.5 s.
    expect(elapsedMs).toBeGreaterThanOrEqual(950);
  });
});

describe('queue full under real load', () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startLiveServer({ timeScale: '1', maxNumSeqs: '1', maxWaiting: '1' });
  });
  afterAll(() => server.stop());

  it('refuses a third request with 429 while one runs and one waits', async () => {
    const client = clientOf(server);
    // ignore_eos (a vLLM extra the client's types lack) keeps the request running to max_tokens.
    const long = {
      model: MODEL,
      messages,
      max_tokens: 20_000,
      stream: true as const,
      ignore_eos: true,
    };
    const running = await client.chat.completions.create(long);
    // The role chunk is sent at once; a content chunk proves the request holds the only slot.
    // (Read by hand: leaving a for-await loop would abort the stream.)
    const chunks = running[Symbol.asyncIterator]();
    for (;;) {
      const next = await chunks.next();
      if (next.done) throw new Error('the long stream ended early');
      if (next.value.choices[0]?.delta.content) break;
    }
    const waiting = await client.chat.completions.create(long);
    try {
      expectApiError(
        await rejectionOf(client.chat.completions.create({ model: MODEL, messages, max_tokens: 1 })),
        OpenAI.RateLimitError,
        429,
        'RateLimitError',
      );
    } finally {
      running.controller.abort();
      waiting.controller.abort();
    }
  });
});
