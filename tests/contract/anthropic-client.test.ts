/**
 * The official Anthropic client (`@anthropic-ai/sdk`) against a live nimsim's /v1/messages
 * (docs/messages.md): what a user's Claude-style code runs. Responses parse into the client's
 * types, `messages.stream()` assembles the final message from the events, a tool loop runs
 * through tool_use and tool_result, and failures surface as the client's error classes.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging.js';
import { startServer } from '../../src/server.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const KEY = 'sk-nimsim-test';
const SYSTEM = 'You are a patient assistant who answers questions about trains and the weather.';
const WEATHER: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Get the current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

let server: LiveServer;
let client: Anthropic;

beforeAll(async () => {
  server = await startLiveServer({ apiKey: KEY, faultHeaders: '1' });
  // The client sends its apiKey as `Authorization: Bearer`, which is how nimsim (and vLLM) check it.
  client = new Anthropic({ baseURL: server.baseUrl, apiKey: KEY, maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
});

describe('messages.create', () => {
  it('returns a message with a text block, a stop reason and usage', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 16,
      system: SYSTEM,
      messages: [{ role: 'user', content: 'When does the first train leave?' }],
    });
    expect(message.id).toMatch(/^msg_/);
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.model).toBe(MODEL);
    expect(message.content).toHaveLength(1);
    const [block] = message.content;
    expect(block!.type).toBe('text');
    expect(block!.type === 'text' && block!.text.length).toBeGreaterThan(0);
    expect(['end_turn', 'max_tokens']).toContain(message.stop_reason);
    expect(message.usage.output_tokens).toBeLessThanOrEqual(16);
    expect(message.usage.cache_read_input_tokens).toEqual(expect.any(Number));
    expect(message.usage.cache_creation_input_tokens).toBe(0);
  });

  it('runs a tool loop: tool_use, then a tool_result turn answered in text with the history cached', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await client.messages.create({ model: MODEL, max_tokens: 200, tools: [WEATHER], messages });
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(call).toBeDefined();
    expect(call!.id).toMatch(/^toolu_/);
    expect(call!.name).toBe('get_weather');
    expect(typeof (call!.input as { city?: unknown }).city).toBe('string');

    messages.push({ role: 'assistant', content: first.content });
    messages.push({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: call!.id, content: '18 C and sunny' }],
    });
    const second = await client.messages.create({
      model: MODEL,
      // Room for the answer's natural end (its seeded length can pass 200 tokens).
      max_tokens: 1000,
      tools: [WEATHER],
      messages,
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content.map((b) => b.type)).toEqual(['text']);
    expect(second.usage.cache_read_input_tokens).toBeGreaterThan(0);
  });

  it('counts tokens as the same request would bill them', async () => {
    const params = {
      model: MODEL,
      system: SYSTEM,
      messages: [{ role: 'user' as const, content: 'Which platform for the night train?' }],
    };
    const counted = await client.messages.countTokens(params);
    const message = await client.messages.create({ ...params, max_tokens: 4 });
    expect(counted.input_tokens).toBe(
      message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0),
    );
  });
});

describe('messages.stream', () => {
  it('emits the events in order and assembles the final message the events describe', async () => {
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 20,
      system: SYSTEM,
      messages: [{ role: 'user', content: 'Describe the station at dawn.' }],
    });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(final.content).toEqual([{ type: 'text', text }]);
    expect(['end_turn', 'max_tokens']).toContain(final.stop_reason);
    expect(final.usage.output_tokens).toBeLessThanOrEqual(20);
    // message_delta's usage (the cache split) replaces message_start's.
    expect(final.usage.cache_read_input_tokens).toEqual(expect.any(Number));
    expect(final.usage.cache_creation_input_tokens).toBe(0);
    expect(await stream.finalText()).toBe(text);
  });

  it('assembles a streamed tool call into a tool_use block with its input object', async () => {
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 200,
      tools: [WEATHER],
      messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
    });
    const inputs: string[] = [];
    stream.on('inputJson', (partial) => inputs.push(partial));
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const call = final.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(call.id).toMatch(/^toolu_/);
    expect(call.input).toEqual({ city: expect.any(String) });
    expect(JSON.parse(inputs.join(''))).toEqual(call.input);
  });
});

describe('errors as the client raises them', () => {
  const ask = { model: MODEL, max_tokens: 8, messages: [{ role: 'user' as const, content: 'Hi' }] };

  it('NotFoundError for an unknown model, with the error type in the body', async () => {
    const err = await client.messages.create({ ...ask, model: 'claude-sonnet-4' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    const api = err as InstanceType<typeof Anthropic.NotFoundError>;
    expect(api.status).toBe(404);
    expect(api.type).toBe('not_found_error');
    expect(api.error).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: 'The model `claude-sonnet-4` does not exist.' },
    });
  });

  it('BadRequestError for a request without max_tokens', async () => {
    const { max_tokens: _drop, ...noMax } = ask;
    const err = await client.messages
      .create(noMax as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).type).toBe('invalid_request_error');
  });

  it('AuthenticationError for a wrong key', async () => {
    const wrong = new Anthropic({ baseURL: server.baseUrl, apiKey: 'sk-wrong', maxRetries: 0 });
    const err = await wrong.messages.create(ask).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as InstanceType<typeof Anthropic.AuthenticationError>).type).toBe('authentication_error');
  });

  it('RateLimitError and InternalServerError for injected faults, streams included', async () => {
    const fault = (type: string) => ({ headers: { 'x-nimsim-fault': type } });
    const limited = await client.messages.create(ask, fault('rate_limit')).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    const failed = await client.messages
      .stream({ ...ask, max_tokens: 20 }, fault('server_error'))
      .finalMessage()
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Anthropic.InternalServerError);
    expect((failed as InstanceType<typeof Anthropic.InternalServerError>).type).toBe('api_error');
  });
});

describe('a stream cut by the drain timeout', () => {
  it('ends with an error event, which the client raises with its body', async () => {
    const config = loadConfig(
      {},
      { port: '0', host: '127.0.0.1', timeScale: '1', meanOutputTokens: '50000' },
    );
    const running = await startServer(
      config,
      createLogger('ERROR', false, () => {}),
    );
    try {
      const anthropic = new Anthropic({
        baseURL: `http://127.0.0.1:${running.port}`,
        apiKey: 'not-used',
        maxRetries: 0,
      });
      const stream = anthropic.messages.stream({
        model: MODEL,
        max_tokens: 20_000,
        messages: [{ role: 'user', content: 'Write a very long story.' }],
      });
      const firstText = new Promise<void>((resolve) => stream.once('text', () => resolve()));
      const outcome = stream.finalMessage().catch((e: unknown) => e);
      await firstText;
      const shutdown = running.shutdown(300);
      const err = await outcome;
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect((err as InstanceType<typeof Anthropic.APIError>).error).toEqual({
        type: 'error',
        error: { type: 'overloaded_error', message: 'The server shut down before the request finished.' },
      });
      await shutdown;
      const s = running.service.runtime.engine.stats();
      expect([s.running, s.waiting, s.kvBlocksInUse]).toEqual([0, 0, 0]);
    } finally {
      if ('closeAllConnections' in running.server) running.server.closeAllConnections();
      await running.shutdown(0);
    }
  });
});
