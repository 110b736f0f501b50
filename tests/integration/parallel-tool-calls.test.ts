/**
 * Several tool calls in one turn through the routes (app.request): chat body and stream, the
 * request's parallel_tool_calls false (vLLM keeps the first call, usage counts them all), the
 * Responses API's function_call items and Anthropic's tool_use blocks, and the agent loop that
 * sends the calls back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postJson, readSse as readFrames, readSseEvents, testService } from '../helpers/service.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The stream's JSON frames, [DONE] left out. */
const readSse = async (res: Response): Promise<Json[]> =>
  (await readFrames(res)).filter((f): f is Json => f !== '[DONE]');

const GPT_OSS = 'openai/gpt-oss-120b';
const LLAMA = 'meta/llama-3.1-8b-instruct';
const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};
const QUESTION = [{ role: 'user', content: 'What is the weather in Paris and London, in celsius?' }];
const chatRequest = (extra: Json = {}) => ({
  model: GPT_OSS,
  messages: QUESTION,
  tools: [WEATHER],
  reasoning_effort: 'low',
  max_tokens: 4000,
  seed: 7,
  ...extra,
});

describe('parallel tool calls on /v1/chat/completions', () => {
  const service = testService({ modelName: GPT_OSS, gpus: '2' });

  it('returns one call per city, each with its own id, and finish_reason tool_calls', async () => {
    const body = (await (await postJson(service, '/v1/chat/completions', chatRequest())).json()) as Json;
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe(null);
    const calls = choice.message.tool_calls as Json[];
    expect(calls.map((c) => c.function.name)).toEqual(['get_weather', 'get_weather']);
    expect(calls.map((c) => JSON.parse(c.function.arguments).city)).toEqual(['Paris', 'London']);
    expect(calls.map((c) => JSON.parse(c.function.arguments).unit)).toEqual(['celsius', 'celsius']);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
  });

  it('streams each call under its own index: id, type and name first, then its arguments', async () => {
    const frames = await readSse(
      await postJson(service, '/v1/chat/completions', chatRequest({ stream: true })),
    );
    const deltas = frames
      .filter((f) => f.choices?.length)
      .flatMap((f) => (f.choices[0].delta.tool_calls ?? []) as Json[]);
    const body = (await (await postJson(service, '/v1/chat/completions', chatRequest())).json()) as Json;
    const expected = body.choices[0].message.tool_calls as Json[];
    expected.forEach((call, index) => {
      const mine = deltas.filter((d) => d.index === index);
      expect(mine[0]).toEqual({
        index,
        id: call.id,
        type: 'function',
        function: { name: call.function.name },
      });
      expect(mine.slice(1).every((d) => d.id === undefined && d.function.name === undefined)).toBe(true);
      expect(mine.map((d) => d.function.arguments ?? '').join('')).toBe(call.function.arguments);
    });
    const last = frames.at(-1)!;
    expect(last.choices[0].finish_reason).toBe('tool_calls');
  });

  it('with parallel_tool_calls false: the first call only, usage unchanged (the model wrote both)', async () => {
    const both = (await (await postJson(service, '/v1/chat/completions', chatRequest())).json()) as Json;
    const first = (await (
      await postJson(service, '/v1/chat/completions', chatRequest({ parallel_tool_calls: false }))
    ).json()) as Json;
    expect(first.choices[0].message.tool_calls).toEqual(both.choices[0].message.tool_calls.slice(0, 1));
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(first.usage.completion_tokens).toBe(both.usage.completion_tokens);

    const frames = await readSse(
      await postJson(
        service,
        '/v1/chat/completions',
        chatRequest({ stream: true, parallel_tool_calls: false, stream_options: { include_usage: true } }),
      ),
    );
    const indexes = frames
      .filter((f) => f.choices?.length)
      .flatMap((f) => (f.choices[0].delta.tool_calls ?? []) as Json[])
      .map((d) => d.index);
    expect(new Set(indexes)).toEqual(new Set([0]));
    expect(frames.at(-1)!.usage.completion_tokens).toBe(both.usage.completion_tokens);

    // The dropped call's frames are still sent, emptied (vLLM filters each chunk's tool_calls and
    // yields it anyway): one tool-call frame for each of the unfiltered stream's.
    const toolFrames = async (extra: Json) =>
      (
        await readSse(
          await postJson(service, '/v1/chat/completions', chatRequest({ stream: true, ...extra })),
        )
      )
        .filter((f) => f.choices?.[0]?.delta.tool_calls !== undefined)
        .map((f) => f.choices[0].delta.tool_calls as Json[]);
    const unfiltered = await toolFrames({});
    const filtered = await toolFrames({ parallel_tool_calls: false });
    expect(filtered).toHaveLength(unfiltered.length);
    expect(filtered).toEqual(unfiltered.map((calls) => calls.filter((c) => c.index === 0)));
    expect(filtered.filter((calls) => calls.length === 0).length).toBeGreaterThan(0);
  });

  it('takes both calls back with their results and answers in prose', async () => {
    const first = (await (await postJson(service, '/v1/chat/completions', chatRequest())).json()) as Json;
    const calls = first.choices[0].message.tool_calls as Json[];
    const res = await postJson(service, '/v1/chat/completions', {
      ...chatRequest(),
      messages: [
        ...QUESTION,
        { role: 'assistant', content: null, tool_calls: calls },
        ...calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: '18 C' })),
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.choices[0].message.tool_calls).toEqual([]);
    expect(body.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
  });
});

describe('a Llama 3.1 model makes one call per turn', () => {
  const service = testService();

  it('calls for the first city only, and its template refuses several calls sent back', async () => {
    const body = (await (
      await postJson(service, '/v1/chat/completions', { ...chatRequest(), model: LLAMA })
    ).json()) as Json;
    const calls = body.choices[0].message.tool_calls as Json[];
    expect(calls).toHaveLength(1);
    const [call] = calls as [Json];
    expect(JSON.parse(call.function.arguments).city).toBe('Paris');
    const refused = await postJson(service, '/v1/chat/completions', {
      ...chatRequest(),
      model: LLAMA,
      messages: [...QUESTION, { role: 'assistant', content: null, tool_calls: [call, call] }],
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Json).error.message).toBe(
      'This model only supports single tool-calls at once!',
    );
  });
});

describe('parallel tool calls on /v1/responses and /v1/messages', () => {
  const service = testService({ modelName: GPT_OSS, gpus: '2' });
  const responsesRequest = (extra: Json = {}) => ({
    model: GPT_OSS,
    input: QUESTION[0]!.content,
    tools: [{ type: 'function', ...WEATHER.function }],
    reasoning: { effort: 'low' },
    max_output_tokens: 4000,
    seed: 7,
    ...extra,
  });

  it('responses: one function_call item per call, and the first only with parallel_tool_calls false', async () => {
    const body = (await (await postJson(service, '/v1/responses', responsesRequest())).json()) as Json;
    const items = (body.output as Json[]).filter((i) => i.type === 'function_call');
    expect(items.map((i) => JSON.parse(i.arguments).city)).toEqual(['Paris', 'London']);
    expect(new Set(items.map((i) => i.id)).size).toBe(2);
    expect(new Set(items.map((i) => i.call_id)).size).toBe(2);
    expect(body.parallel_tool_calls).toBe(true);

    const one = (await (
      await postJson(service, '/v1/responses', responsesRequest({ parallel_tool_calls: false }))
    ).json()) as Json;
    const oneItems = (one.output as Json[]).filter((i) => i.type === 'function_call');
    expect(oneItems.map((i) => i.arguments)).toEqual([items[0]!.arguments]);
    expect(one.usage.output_tokens).toBe(body.usage.output_tokens);
  });

  it('responses stream: each call its own function_call item with its arguments', async () => {
    const events = await readSseEvents(
      await postJson(service, '/v1/responses', responsesRequest({ stream: true })),
    );
    const added = events.filter(
      (e) => e.event === 'response.output_item.added' && (e.data['item'] as Json).type === 'function_call',
    );
    expect(added).toHaveLength(2);
    const done = events
      .filter((e) => e.event === 'response.function_call_arguments.done')
      .map((e) => JSON.parse(e.data['arguments'] as string).city);
    expect(done).toEqual(['Paris', 'London']);
  });

  it('messages: one tool_use block per call; disable_parallel_tool_use keeps the first', async () => {
    const request = (extra: Json = {}) => ({
      model: GPT_OSS,
      max_tokens: 4000,
      messages: QUESTION,
      output_config: { effort: 'low' },
      tools: [
        {
          name: 'get_weather',
          description: WEATHER.function.description,
          input_schema: WEATHER.function.parameters,
        },
      ],
      ...extra,
    });
    const body = (await (await postJson(service, '/v1/messages', request())).json()) as Json;
    const uses = (body.content as Json[]).filter((b) => b.type === 'tool_use');
    expect(uses.map((b) => b.input.city)).toEqual(['Paris', 'London']);
    expect(body.stop_reason).toBe('tool_use');
    const one = (await (
      await postJson(
        service,
        '/v1/messages',
        request({ tool_choice: { type: 'auto', disable_parallel_tool_use: true } }),
      )
    ).json()) as Json;
    expect((one.content as Json[]).filter((b) => b.type === 'tool_use').map((b) => b.id)).toEqual([
      uses[0]!.id,
    ]);

    const events = await readSseEvents(await postJson(service, '/v1/messages', request({ stream: true })));
    const starts = events.filter(
      (e) => e.event === 'content_block_start' && (e.data['content_block'] as Json).type === 'tool_use',
    );
    expect(starts).toHaveLength(2);
  });
});

describe('a rule scripts several calls', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimsim-parallel-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'rules.yaml');
  writeFileSync(
    path,
    [
      'rules:',
      '  - match: { user_regex: "weather in ([A-Z][a-z]+) and ([A-Z][a-z]+)" }',
      '    reply:',
      '      tool_calls:',
      '        - { name: get_weather, arguments: { city: "{{match.1}}" } }',
      '        - { name: get_weather, arguments: { city: "{{match.2}}" } }',
      '        - { name: get_weather }',
      '',
    ].join('\n'),
  );
  const service = testService({ modelName: GPT_OSS, gpus: '2', rulesFile: path });

  it('returns the scripted calls in order; one without arguments is generated, grounded in the message', async () => {
    const body = (await (await postJson(service, '/v1/chat/completions', chatRequest())).json()) as Json;
    const calls = body.choices[0].message.tool_calls as Json[];
    expect(calls.map((c) => JSON.parse(c.function.arguments).city)).toEqual(['Paris', 'London', 'Paris']);
    expect(body.choices[0].finish_reason).toBe('tool_calls');
  });
});
