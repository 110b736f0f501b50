/**
 * The official openai client's Responses API against a live nimsim (docs/responses.md):
 * `client.responses.create` with text, input items and tools (a function call, then its output on
 * the next turn), `client.responses.stream` with its events and final response, and
 * `client.responses.parse` with `zodTextFormat`. Every answer must parse into the client's types
 * and its helpers must work unchanged.
 */
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';
import { GPT_OSS, MODEL, WEATHER_TOOL } from '../helpers/responses.js';

/** The shared tool, typed as the client takes it. */
const weatherTool: OpenAI.Responses.FunctionTool = WEATHER_TOOL;

let server: LiveServer;
let reasoningServer: LiveServer;
let client: OpenAI;
let reasoningClient: OpenAI;

beforeAll(async () => {
  server = await startLiveServer();
  reasoningServer = await startLiveServer({ modelName: GPT_OSS, gpu: 'h200', meanReasoningTokens: '80' });
  client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'not-used', maxRetries: 0 });
  reasoningClient = new OpenAI({
    baseURL: `${reasoningServer.baseUrl}/v1`,
    apiKey: 'not-used',
    maxRetries: 0,
  });
});
afterAll(async () => {
  await Promise.all([server.stop(), reasoningServer.stop()]);
});

describe('client.responses.create', () => {
  it('answers a text input: output_text (added by the client), status and usage', async () => {
    const res = await client.responses.create({
      model: MODEL,
      input: 'Tell me about spring.',
      max_output_tokens: 40,
    });
    expect(res.object).toBe('response');
    expect(res.id).toMatch(/^resp_/);
    expect(['completed', 'incomplete']).toContain(res.status);
    expect(res.output_text).toBe(
      res.output
        .filter((item) => item.type === 'message')
        .flatMap((item) => item.content)
        .map((part) => (part.type === 'output_text' ? part.text : ''))
        .join(''),
    );
    expect(res.output_text.length).toBeGreaterThan(0);
    expect(res.usage!.total_tokens).toBe(res.usage!.input_tokens + res.usage!.output_tokens);
    expect(res.usage!.input_tokens_details.cached_tokens).toEqual(expect.any(Number));
    expect(res.usage!.output_tokens_details.reasoning_tokens).toBe(0);
  });

  it('takes a list of input items with instructions', async () => {
    const res = await client.responses.create({
      model: MODEL,
      instructions: 'You are terse.',
      input: [
        { role: 'developer', content: 'Answer in English.' },
        { role: 'user', content: [{ type: 'input_text', text: 'Name a colour.' }] },
      ],
      max_output_tokens: 16,
    });
    expect(res.instructions).toBe('You are terse.');
    expect(res.output_text.length).toBeGreaterThan(0);
  });

  it('calls a tool, then answers its function_call_output on the next turn (previous_response_id)', async () => {
    const first = await client.responses.create({
      model: MODEL,
      input: 'What is the weather in Paris?',
      tools: [weatherTool],
    });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toBeDefined();
    if (call?.type !== 'function_call') return;
    expect(call.name).toBe('get_weather');
    const args = JSON.parse(call.arguments) as { city: unknown; unit: unknown };
    expect(typeof args.city).toBe('string');
    expect(['c', 'f']).toContain(args.unit);

    const second = await client.responses.create({
      model: MODEL,
      previous_response_id: first.id,
      tools: [weatherTool],
      input: [{ type: 'function_call_output', call_id: call.call_id, output: JSON.stringify({ temp: 21 }) }],
    });
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output.map((item) => item.type)).toEqual(['message']);
    expect(second.output_text.length).toBeGreaterThan(0);
    expect(second.usage!.input_tokens_details.cached_tokens).toBeGreaterThan(0);

    // The same turn, stateless: the call and its output sent back as input items.
    const stateless = await client.responses.create({
      model: MODEL,
      tools: [weatherTool],
      store: false,
      input: [
        { role: 'user', content: 'What is the weather in Paris?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: JSON.stringify({ temp: 21 }) },
      ],
    });
    expect(stateless.output.map((item) => item.type)).toEqual(['message']);
    expect(stateless.usage!.input_tokens).toBe(second.usage!.input_tokens);
  });

  it('raises NotFoundError for an unknown previous_response_id', async () => {
    const err = await client.responses
      .create({ model: MODEL, input: 'x', previous_response_id: 'resp_unknown' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).message).toContain(
      "Response with id 'resp_unknown' not found.",
    );
  });
});

describe('client.responses.stream', () => {
  it('emits the events in order and a final response whose text is the deltas', async () => {
    const stream = client.responses.stream({
      model: MODEL,
      input: 'Tell me about spring.',
      max_output_tokens: 30,
    });
    const seen: string[] = [];
    const sequence: number[] = [];
    let deltas = '';
    stream.on('response.output_text.delta', (event) => {
      deltas += event.delta;
    });
    for await (const event of stream) {
      seen.push(event.type);
      sequence.push(event.sequence_number);
    }
    const final = await stream.finalResponse();
    expect(sequence).toEqual(sequence.map((_, i) => i));
    expect(seen[0]).toBe('response.created');
    expect(seen[1]).toBe('response.in_progress');
    expect(seen.at(-1)).toBe('response.completed');
    expect(seen).toContain('response.output_text.done');
    expect(final.output_text).toBe(deltas);
    expect(final.usage!.output_tokens).toBeGreaterThan(0);
  });

  it('reassembles a streamed function call', async () => {
    const stream = client.responses.stream({ model: MODEL, input: 'Weather in Oslo?', tools: [weatherTool] });
    let args = '';
    stream.on('response.function_call_arguments.delta', (event) => {
      args += event.delta;
    });
    const final = await stream.finalResponse();
    const call = final.output[0];
    expect(call?.type).toBe('function_call');
    if (call?.type !== 'function_call') return;
    expect(call.arguments).toBe(args);
    expect(JSON.parse(call.arguments)).toEqual({
      city: expect.any(String),
      unit: expect.stringMatching(/^[cf]$/),
    });
  });

  it("streams a reasoning model's reasoning item before its message (gpt-oss)", async () => {
    const stream = reasoningClient.responses.stream({
      model: GPT_OSS,
      input: 'Is 9.11 larger than 9.8?',
      reasoning: { effort: 'medium' },
    });
    let reasoning = '';
    stream.on('response.reasoning_text.delta', (event) => {
      reasoning += event.delta;
    });
    const final = await stream.finalResponse();
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    const item = final.output[0];
    if (item?.type !== 'reasoning') return;
    expect(item.content?.[0]?.text).toBe(reasoning);
    expect(final.usage!.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(final.output_text.length).toBeGreaterThan(0);
  });
});

describe('client.responses.parse', () => {
  it('parses output that validates against the zod schema given with zodTextFormat', async () => {
    const Event = z.object({
      name: z.string(),
      date: z.string(),
      attendees: z.array(z.string()).max(5),
      priority: z.enum(['low', 'medium', 'high']),
      seats: z.number().int().min(1).max(500),
    });
    for (const seed of [1, 2, 3]) {
      const res = await client.responses.parse({
        model: MODEL,
        input: 'Extract the event: Alice and Bob are going to a science fair on Friday.',
        seed,
        text: { format: zodTextFormat(Event, 'event') },
      } as Parameters<typeof client.responses.parse>[0]);
      expect(res.status).toBe('completed');
      expect(Event.safeParse(res.output_parsed).success).toBe(true);
    }
  });
});

describe('a long streamed answer', () => {
  it('is not cut by the stream buffer bound for its closing events, which repeat the whole text', async () => {
    // 2,000 tokens make ~8 KB of text, repeated by four closing events: twice the 16 KiB bound.
    const bounded = await startLiveServer({ streamBufferBytes: '16384', timeScale: '20' });
    try {
      const c = new OpenAI({ baseURL: `${bounded.baseUrl}/v1`, apiKey: 'not-used', maxRetries: 0 });
      const stream = c.responses.stream({
        model: MODEL,
        input: 'Write a long story.',
        max_output_tokens: 2000,
        ignore_eos: true,
      } as Parameters<typeof c.responses.stream>[0]);
      const final = await stream.finalResponse();
      expect(final.status).toBe('incomplete');
      expect(final.usage!.output_tokens).toBe(2000);
      expect(final.output_text.length).toBeGreaterThan(16_384 / 4);
    } finally {
      await bounded.stop();
    }
  });
});
