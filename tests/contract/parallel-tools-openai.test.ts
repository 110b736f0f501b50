/**
 * Parallel tool calls through the official openai client against a live nimsim serving a model
 * that makes them (gpt-oss): chat.completions.create (body and stream, reassembled by the client's
 * stream helper), the `runTools` agent loop, and responses.create with two function_call items.
 * Every call's arguments validate against the tool's schema (ajv).
 */
import OpenAI from 'openai';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createValidator } from '../helpers/ajv.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'openai/gpt-oss-120b';
const WEATHER_PARAMS: Record<string, unknown> = {
  type: 'object',
  properties: {
    city: { type: 'string', minLength: 2 },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
  },
  required: ['city', 'unit'],
  additionalProperties: false,
};
const TIME_PARAMS: Record<string, unknown> = {
  type: 'object',
  properties: { location: { type: 'string' }, format: { type: 'string', enum: ['12h', '24h'] } },
  required: ['location'],
};
const TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Get the current weather in a city',
      parameters: WEATHER_PARAMS,
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_local_time',
      description: 'Get the local time in a city',
      parameters: TIME_PARAMS,
    },
  },
];
const ajv = createValidator();
const validators: Record<string, (v: unknown) => boolean> = {
  get_weather: ajv.compile(WEATHER_PARAMS),
  get_local_time: ajv.compile(TIME_PARAMS),
};
const QUESTIONS = [
  'What is the weather in Paris?',
  'What is the weather and the local time in Oslo?',
  'Weather in Lima and Quito, please.',
  'What time is it in Tokyo?',
];

let server: LiveServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startLiveServer({ modelName: MODEL, gpus: '2' });
  client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'not-used', maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
});

const ask = (
  content: string,
  seed: number,
  extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {},
) =>
  client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content }],
    tools: TOOLS,
    reasoning_effort: 'low',
    max_tokens: 4000,
    seed,
    ...extra,
  });

describe('chat.completions.create with two tools', () => {
  it('over 20 seeds: some turns make two or more calls, every call valid; with parallel_tool_calls false never more than one', async () => {
    let multi = 0;
    for (let seed = 0; seed < 20; seed++) {
      const question = QUESTIONS[seed % QUESTIONS.length]!;
      const calls = (await ask(question, seed)).choices[0]!.message.tool_calls ?? [];
      if (calls.length >= 2) multi++;
      for (const call of calls) {
        if (call.type !== 'function') throw new Error('not a function call');
        expect(
          validators[call.function.name]!(JSON.parse(call.function.arguments)),
          call.function.arguments,
        ).toBe(true);
      }
      const single = (await ask(question, seed, { parallel_tool_calls: false })).choices[0]!.message
        .tool_calls;
      expect((single ?? []).length).toBeLessThanOrEqual(1);
    }
    expect(multi).toBeGreaterThan(0);
  });

  it('streams both calls; the client reassembles them to what the body says', async () => {
    const body = await ask('Weather in Lima and Quito, please.', 3);
    const stream = client.chat.completions.stream({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather in Lima and Quito, please.' }],
      tools: TOOLS,
      reasoning_effort: 'low',
      max_tokens: 4000,
      seed: 3,
    });
    const final = await stream.finalChatCompletion();
    const calls = final.choices[0]!.message.tool_calls;
    expect(calls).toHaveLength(2);
    expect(calls).toEqual(body.choices[0]!.message.tool_calls);
  });

  it('runTools runs both calls and returns the final answer', async () => {
    const asked: string[] = [];
    const runner = client.chat.completions.runTools({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather in Lima and Quito, please.' }],
      reasoning_effort: 'low',
      max_tokens: 4000,
      seed: 3,
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Get the current weather in a city',
            parameters: WEATHER_PARAMS,
            function: (args: { city: string }) => {
              asked.push(args.city);
              return { city: args.city, temperature_c: 20 };
            },
            parse: (text: string) => JSON.parse(text) as { city: string },
          },
        },
      ],
    });
    const content = await runner.finalContent();
    expect(asked).toEqual(['Lima', 'Quito']);
    expect(typeof content).toBe('string');
  });
});

describe('responses.create', () => {
  it('answers with two function_call items, each with its own call_id', async () => {
    const response = await client.responses.create({
      model: MODEL,
      input: 'Weather in Lima and Quito, please.',
      tools: [{ type: 'function', name: 'get_weather', parameters: { ...WEATHER_PARAMS }, strict: false }],
      reasoning: { effort: 'low' },
      max_output_tokens: 4000,
    });
    const calls = response.output.filter((item) => item.type === 'function_call');
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((c) => c.call_id)).size).toBe(2);
    for (const call of calls) expect(validators['get_weather']!(JSON.parse(call.arguments))).toBe(true);
  });
});
