/* eslint-disable @typescript-eslint/no-explicit-any -- wire bodies are read loosely, then asserted exactly */
/**
 * /v1/messages with `stream: true` through app.request(): Anthropic's named events in order, text,
 * tool and thinking blocks, the final usage, and a client that goes away (docs/messages.md#streaming).
 */
import { describe, expect, it } from 'vitest';
import { postJson, readSseEvents, testService, type NamedEvent } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const request = {
  model: MODEL,
  max_tokens: 12,
  system: 'You are a patient assistant who answers questions about trains and timetables.',
  messages: [{ role: 'user', content: 'When does the first train leave on Sunday?' }],
};

const types = (events: NamedEvent[]) => events.map((e) => e.event);
const deltas = (events: NamedEvent[], kind: string) =>
  events
    .filter((e) => e.event === 'content_block_delta' && (e.data as any).delta.type === kind)
    .map((e) => (e.data as any).delta);

describe('streaming /v1/messages', () => {
  it("sends Anthropic's event sequence, each event named by its type, and nothing after message_stop", async () => {
    const service = testService();
    const res = await postJson(service, '/v1/messages', { ...request, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = await readSseEvents(res);
    for (const e of events) expect(e.event).toBe(e.data['type']);
    const names = types(events);
    expect(names[0]).toBe('message_start');
    expect(names[1]).toBe('content_block_start');
    expect(names.slice(2, -3).every((n) => n === 'content_block_delta')).toBe(true);
    expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(names).not.toContain('ping');

    const start = events[0]!.data as any;
    expect(start.message).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [],
      model: MODEL,
      stop_reason: null,
      stop_sequence: null,
    });
    expect(start.message.id).toMatch(/^msg_[0-9a-f]{32}$/);
    // Sent before the prompt is scheduled: the prompt's size, no cache split yet (as vLLM).
    expect(start.message.usage).toEqual({ input_tokens: expect.any(Number), output_tokens: 0 });
    expect(events[1]!.data).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    for (const e of events.slice(2, -3)) expect((e.data as any).index).toBe(0);
    expect(events.at(-3)!.data).toEqual({ type: 'content_block_stop', index: 0 });
    expect(events.at(-1)!.data).toEqual({ type: 'message_stop' });
  });

  it('streams the text and final usage the non-streamed reply has', async () => {
    const service = testService({ enableKvCacheReuse: '0' });
    const whole = (await (await postJson(service, '/v1/messages', request)).json()) as any;
    const events = await readSseEvents(await postJson(service, '/v1/messages', { ...request, stream: true }));
    const text = deltas(events, 'text_delta')
      .map((d) => d.text)
      .join('');
    expect(text).toBe(whole.content[0].text);
    const final = events.find((e) => e.event === 'message_delta')!.data as any;
    expect(final.delta).toEqual({ stop_reason: whole.stop_reason, stop_sequence: null });
    expect(final.usage).toEqual(whole.usage);
    expect((events[0]!.data as any).message.usage.input_tokens).toBe(whole.usage.input_tokens);
  });

  it('reports the cache split in message_delta', async () => {
    const service = testService();
    await (await postJson(service, '/v1/messages', request)).text();
    const events = await readSseEvents(await postJson(service, '/v1/messages', { ...request, stream: true }));
    const start = (events[0]!.data as any).message.usage;
    const final = (events.find((e) => e.event === 'message_delta')!.data as any).usage;
    expect(final.cache_read_input_tokens).toBeGreaterThan(0);
    expect(final.cache_creation_input_tokens).toBe(0);
    expect(final.input_tokens + final.cache_read_input_tokens).toBe(start.input_tokens);
  });

  it('names a matched stop sequence in message_delta', async () => {
    const service = testService({ content: 'echo' });
    const events = await readSseEvents(
      await postJson(service, '/v1/messages', {
        model: MODEL,
        max_tokens: 40,
        stream: true,
        stop_sequences: ['gamma'],
        messages: [{ role: 'user', content: 'alpha beta gamma delta' }],
      }),
    );
    const text = deltas(events, 'text_delta')
      .map((d) => d.text)
      .join('');
    expect(text).toBe('alpha beta ');
    expect((events.find((e) => e.event === 'message_delta')!.data as any).delta).toEqual({
      stop_reason: 'stop_sequence',
      stop_sequence: 'gamma',
    });
  });

  it('streams a tool call as a tool_use block and input_json_delta pieces of its input', async () => {
    const service = testService();
    const body = {
      model: MODEL,
      max_tokens: 200,
      tools: [
        {
          name: 'get_weather',
          description: 'Get the current weather for a city',
          input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      ],
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
    };
    const whole = (await (await postJson(service, '/v1/messages', body)).json()) as any;
    const events = await readSseEvents(await postJson(service, '/v1/messages', { ...body, stream: true }));
    expect(types(events)).toEqual([
      'message_start',
      'content_block_start',
      ...deltas(events, 'input_json_delta').map(() => 'content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect((events[1]!.data as any).content_block).toEqual({
      type: 'tool_use',
      id: whole.content[0].id,
      name: 'get_weather',
      input: {},
    });
    const input = deltas(events, 'input_json_delta')
      .map((d) => d.partial_json)
      .join('');
    expect(JSON.parse(input)).toEqual(whole.content[0].input);
    expect((events.at(-2)!.data as any).delta.stop_reason).toBe('tool_use');
  });

  it('streams reasoning as a thinking block closed by its signature, then the text block', async () => {
    const service = testService({
      modelName: 'deepseek-ai/deepseek-r1',
      gpu: 'h200',
      gpus: '8',
      meanReasoningTokens: '20',
      meanOutputTokens: '10',
    });
    const body = {
      model: 'deepseek-ai/deepseek-r1',
      max_tokens: 2000,
      messages: [{ role: 'user', content: 'Is 9.11 larger than 9.8?' }],
    };
    const whole = (await (await postJson(service, '/v1/messages', body)).json()) as any;
    const events = await readSseEvents(await postJson(service, '/v1/messages', { ...body, stream: true }));
    const starts = events.filter((e) => e.event === 'content_block_start').map((e) => e.data as any);
    expect(starts).toEqual([
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
    ]);
    const thinking = deltas(events, 'thinking_delta')
      .map((d) => d.thinking)
      .join('');
    expect(thinking).toBe(whole.content[0].thinking);
    const signature = events.findIndex((e) => (e.data as any).delta?.type === 'signature_delta');
    expect((events[signature]!.data as any).delta.signature).toBe(whole.content[0].signature);
    // The signature closes the thinking block, just before its stop.
    expect(events[signature + 1]!.data).toEqual({ type: 'content_block_stop', index: 0 });
    const text = deltas(events, 'text_delta')
      .map((d) => d.text)
      .join('');
    expect(text).toBe(whole.content[1].text);
  });

  it('aborts the generation when the client goes away: no running request, no KV block in use', async () => {
    const service = testService({ timeScale: '1' });
    const res = await postJson(service, '/v1/messages', {
      ...request,
      max_tokens: 5000,
      stream: true,
    });
    const reader = res.body!.getReader();
    // message_start, then the first text frames: the request holds a slot and its blocks.
    for (let frames = 0; frames < 4; frames++) {
      const { done } = await reader.read();
      expect(done).toBe(false);
    }
    expect(service.runtime.engine.stats().running).toBe(1);
    await reader.cancel();
    await new Promise((r) => setTimeout(r, 20));
    const stats = service.runtime.engine.stats();
    expect(stats.running).toBe(0);
    expect(stats.waiting).toBe(0);
    expect(stats.kvBlocksInUse).toBe(0);
  });
});
