/* eslint-disable @typescript-eslint/no-explicit-any -- wire bodies are read loosely, then asserted exactly */
/**
 * Every failure on /v1/messages in Anthropic's error shape with nimsim's status — a bad body, an
 * unknown model, images, the API key, readiness, faults, queue and scripted errors — while the
 * chat route keeps OpenAI's (docs/messages.md#errors).
 */
import { describe, expect, it } from 'vitest';
import { postJson, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const ok = { model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'Hello' }] };

async function expectAnthropicError(res: Response, status: number, type: string, message?: string | RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as any;
  expect(Object.keys(body)).toEqual(['type', 'error']);
  expect(body.type).toBe('error');
  expect(Object.keys(body.error)).toEqual(['type', 'message']);
  expect(body.error.type).toBe(type);
  if (typeof message === 'string') expect(body.error.message).toBe(message);
  else if (message) expect(body.error.message).toMatch(message);
}

describe('errors on /v1/messages', () => {
  const service = testService({ maxModelLen: '4096' });

  it('answers a missing max_tokens with 400 invalid_request_error naming the field', async () => {
    const { max_tokens: _drop, ...body } = ok;
    await expectAnthropicError(
      await postJson(service, '/v1/messages', body),
      400,
      'invalid_request_error',
      'max_tokens: Field required',
    );
  });

  it('refuses max_tokens of 0, an empty messages list, an empty content list and an unknown block type', async () => {
    await expectAnthropicError(
      await postJson(service, '/v1/messages', { ...ok, max_tokens: 0 }),
      400,
      'invalid_request_error',
      'max_tokens: max_tokens must be positive',
    );
    await expectAnthropicError(
      await postJson(service, '/v1/messages', { ...ok, messages: [] }),
      400,
      'invalid_request_error',
      'messages: messages must contain at least one item',
    );
    await expectAnthropicError(
      await postJson(service, '/v1/messages', { ...ok, messages: [{ role: 'user', content: [] }] }),
      400,
      'invalid_request_error',
      'messages.0.content: message content must not be empty',
    );
    await expectAnthropicError(
      await postJson(service, '/v1/messages', {
        ...ok,
        messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }],
      }),
      400,
      'invalid_request_error',
      /^messages\.0\.content: block 0: unsupported content block type "document"; accepted: text, image, tool_use, /,
    );
    await expectAnthropicError(
      await postJson(service, '/v1/messages', {
        ...ok,
        messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup' }] }],
      }),
      400,
      'invalid_request_error',
      'messages.0.content: block 0.input: Invalid input: expected record, received undefined',
    );
  });

  it('answers an unknown model with 404 not_found_error', async () => {
    await expectAnthropicError(
      await postJson(service, '/v1/messages', { ...ok, model: 'claude-sonnet-4' }),
      404,
      'not_found_error',
      'The model `claude-sonnet-4` does not exist.',
    );
  });

  it('refuses image blocks, in a message or a tool result: the served model is text-only', async () => {
    const image = {
      type: 'image',
      source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
    };
    const message = /^Image content is not supported: the served model is not a multimodal model/;
    await expectAnthropicError(
      await postJson(service, '/v1/messages', {
        ...ok,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, image] }],
      }),
      400,
      'invalid_request_error',
      message,
    );
    await expectAnthropicError(
      await postJson(service, '/v1/messages', {
        ...ok,
        messages: [
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [image] }] },
        ],
      }),
      400,
      'invalid_request_error',
      message,
    );
  });

  it('checks tool_choice as vLLM does', async () => {
    await expectAnthropicError(
      await postJson(service, '/v1/messages', { ...ok, tool_choice: { type: 'tool' } }),
      400,
      'invalid_request_error',
      "tool_choice.name: tool_choice.name is required when type is 'tool'",
    );
    await expectAnthropicError(
      await postJson(service, '/v1/messages', { ...ok, tool_choice: { type: 'any' } }),
      400,
      'invalid_request_error',
      'When using `tool_choice`, `tools` must be set.',
    );
    await expectAnthropicError(
      await postJson(service, '/v1/messages', {
        ...ok,
        tools: [{ name: 'lookup', input_schema: { type: 'object' } }],
        tool_choice: { type: 'tool', name: 'missing' },
      }),
      400,
      'invalid_request_error',
      "Tool 'missing' has not been passed in `tools`.",
    );
  });

  it("answers a prompt over the context with 400 and vLLM's context-length message", async () => {
    await expectAnthropicError(
      await postJson(service, '/v1/messages', { ...ok, max_tokens: 4096 }),
      400,
      'invalid_request_error',
      /^This model's maximum context length is 4096 tokens\./,
    );
  });

  it('answers a non-JSON body and a non-JSON content type in the same shape', async () => {
    await expectAnthropicError(
      await postJson(service, '/v1/messages', '{"model":'),
      400,
      'invalid_request_error',
      'The request body is not valid JSON.',
    );
    await expectAnthropicError(
      await service.app.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      }),
      415,
      'invalid_request_error',
      /^Unsupported media type/,
    );
  });

  it('keeps OpenAI’s shape on the chat route', async () => {
    const res = await postJson(service, '/v1/chat/completions', { ...ok, model: 'claude-sonnet-4' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.type).toBe('NotFoundError');
  });
});

describe('admission on /v1/messages', () => {
  it('needs the API key as Authorization: Bearer, as vLLM does; x-api-key alone is a 401', async () => {
    const service = testService({ apiKey: 'sk-test' });
    await expectAnthropicError(
      await postJson(service, '/v1/messages', ok),
      401,
      'authentication_error',
      'Invalid or missing API key. Send Authorization: Bearer <key>.',
    );
    await expectAnthropicError(
      await postJson(service, '/v1/messages', ok, {
        'x-api-key': 'sk-test',
        'anthropic-version': '2023-06-01',
      }),
      401,
      'authentication_error',
    );
    const res = await postJson(service, '/v1/messages', ok, { authorization: 'Bearer sk-test' });
    expect(res.status).toBe(200);
    const counted = await postJson(service, '/v1/messages/count_tokens', ok);
    await expectAnthropicError(counted, 401, 'authentication_error');
  });

  it('answers 503 overloaded_error while the model loads', async () => {
    const service = testService({ readyDelayMs: '60000' });
    await expectAnthropicError(
      await postJson(service, '/v1/messages', ok),
      503,
      'overloaded_error',
      'Service is starting: the model is still loading.',
    );
  });

  it('injects faults on the route, in its shape: 429 with Retry-After, 500 api_error', async () => {
    const service = testService({ faultHeaders: '1' });
    const limited = await postJson(service, '/v1/messages', ok, { 'x-nimsim-fault': 'rate_limit' });
    expect(limited.headers.get('retry-after')).toBe('1');
    await expectAnthropicError(limited, 429, 'rate_limit_error');
    await expectAnthropicError(
      await postJson(service, '/v1/messages', ok, { 'x-nimsim-fault': 'server_error' }),
      500,
      'api_error',
    );
    await expectAnthropicError(
      await postJson(service, '/v1/messages', ok, { 'x-nimsim-fault': 'model_not_found' }),
      404,
      'not_found_error',
      `The model \`${MODEL}\` does not exist.`,
    );
  });

  it('refuses a stream with 429 rate_limit_error and Retry-After when the waiting queue is full', async () => {
    const service = testService({ timeScale: '1', maxNumSeqs: '1', maxWaiting: '1' });
    const long = { ...ok, max_tokens: 20_000, stream: true };
    const running = await postJson(service, '/v1/messages', long);
    // A text delta proves the first request holds the only slot (before it, the front end is still
    // taking it in, and it counts as waiting itself).
    const runningEvents = running.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    while (!seen.includes('content_block_delta')) {
      const { done, value } = await runningEvents.read();
      if (done) throw new Error('the long stream ended early');
      seen += decoder.decode(value, { stream: true });
    }
    const waiting = await postJson(service, '/v1/messages', long);
    try {
      expect(waiting.status).toBe(200);
      const refused = await postJson(service, '/v1/messages', long);
      expect(refused.headers.get('retry-after')).toBe('1');
      await expectAnthropicError(refused, 429, 'rate_limit_error');
    } finally {
      await runningEvents.cancel();
      await waiting.body!.cancel();
    }
  });

  it('cuts a stream mid-way with the disconnect fault after its first events', async () => {
    const service = testService({ faultHeaders: '1' });
    const res = await postJson(
      service,
      '/v1/messages',
      { ...ok, max_tokens: 50, stream: true },
      { 'x-nimsim-fault': 'disconnect' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-nimsim-fault-injected')).toBe('disconnect');
    await expect(res.text()).rejects.toThrow();
  });

  it('answers a scripted error rule in Anthropic’s shape; route: messages rules match only here', async () => {
    const service = testService({ adminToken: 'adm' });
    const set = await service.app.request('/admin/config', {
      method: 'PATCH',
      headers: { authorization: 'Bearer adm', 'content-type': 'application/json' },
      body: JSON.stringify({
        rules: [
          {
            match: { route: 'messages', user_contains: 'throttle' },
            reply: { error: { status: 429, message: 'Slow down.' } },
          },
          {
            match: { route: 'messages', user_contains: 'greet' },
            reply: { content: 'Hello from the messages route.' },
          },
        ],
      }),
    });
    expect(set.status).toBe(200);
    await expectAnthropicError(
      await postJson(service, '/v1/messages', {
        ...ok,
        messages: [{ role: 'user', content: 'please throttle' }],
      }),
      429,
      'rate_limit_error',
      'Slow down.',
    );
    const greeted = (await (
      await postJson(service, '/v1/messages', {
        ...ok,
        max_tokens: 50,
        messages: [{ role: 'user', content: 'greet me' }],
      })
    ).json()) as any;
    expect(greeted.content).toEqual([{ type: 'text', text: 'Hello from the messages route.' }]);
    const chat = (await (
      await postJson(service, '/v1/chat/completions', {
        ...ok,
        messages: [{ role: 'user', content: 'please throttle' }],
      })
    ).json()) as any;
    expect(chat.choices[0].message.content).not.toBe('Slow down.');
  });
});
