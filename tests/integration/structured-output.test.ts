/* eslint-disable @typescript-eslint/no-explicit-any -- wire bodies are read loosely, then asserted exactly */
import { describe, expect, it } from 'vitest';
import { createValidator } from '../helpers/ajv.js';
import { postJson, readSse, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const SCHEMA = {
  type: 'object',
  properties: {
    title: { type: 'string', maxLength: 40 },
    year: { type: 'integer', minimum: 1900, maximum: 2030 },
    genres: { type: 'array', items: { enum: ['drama', 'comedy', 'noir'] }, minItems: 1, maxItems: 3 },
    rating: { type: ['number', 'null'], minimum: 0, maximum: 10 },
  },
  required: ['title', 'year', 'genres', 'rating'],
  additionalProperties: false,
};

describe('structured output through the API', () => {
  const service = testService();
  const post = async (path: string, body: Record<string, unknown>) => {
    const res = await postJson(service, path, { model: MODEL, ...body });
    return { status: res.status, body: (await res.json()) as any };
  };
  const user = (content: string) => [{ role: 'user', content }];
  const validate = createValidator().compile(SCHEMA);

  it.each([
    [
      'response_format json_schema',
      {
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'movie', schema: SCHEMA, strict: true },
        },
      },
    ],
    ['structured_outputs.json', { structured_outputs: { json: SCHEMA } }],
    ['guided_json', { guided_json: SCHEMA }],
    ['guided_json as a string', { guided_json: JSON.stringify(SCHEMA) }],
    ['nvext.guided_json', { nvext: { guided_json: SCHEMA } }],
  ])('%s: 25 prompts give content that validates', async (_name, fields) => {
    for (let i = 0; i < 25; i++) {
      const { status, body } = await post('/v1/chat/completions', {
        messages: user(`movie ${i}`),
        ...fields,
      });
      expect(status).toBe(200);
      const value = JSON.parse(body.choices[0].message.content) as unknown;
      expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
      expect(body.choices[0].finish_reason).toBe('stop');
    }
  });

  it('json_object gives a JSON object', async () => {
    const { body } = await post('/v1/chat/completions', {
      messages: user('x'),
      response_format: { type: 'json_object' },
    });
    expect(typeof JSON.parse(body.choices[0].message.content)).toBe('object');
  });

  it('guided_choice and regex on chat and completions', async () => {
    const choices = ['yes', 'no'];
    for (const fields of [
      { guided_choice: choices },
      { nvext: { guided_choice: choices } },
      { structured_outputs: { choice: choices } },
    ]) {
      const { body } = await post('/v1/chat/completions', { messages: user('ok?'), ...fields });
      expect(choices).toContain(body.choices[0].message.content);
    }
    const completion = await post('/v1/completions', {
      prompt: 'Phone:',
      guided_regex: '\\d{3}-\\d{4}',
      max_tokens: 20,
    });
    expect(completion.body.choices[0].text).toMatch(/^\d{3}-\d{4}$/);
    const schema = await post('/v1/completions', {
      prompt: 'JSON:',
      structured_outputs: { json: SCHEMA },
      max_tokens: 200,
    });
    expect(validate(JSON.parse(schema.body.choices[0].text))).toBe(true);
  });

  it('streams guided content whose pieces join to a valid document', async () => {
    const res = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages: user('stream it'),
      guided_json: SCHEMA,
      stream: true,
    });
    const frames = (await readSse(res)) as any[];
    const text = frames
      .filter((f) => f !== '[DONE]')
      .map((f) => f.choices[0]?.delta?.content ?? '')
      .join('');
    expect(validate(JSON.parse(text))).toBe(true);
  });

  it.each([
    [
      { guided_regex: '(a)\\1' },
      400,
      "guided_regex: unsupported regex construct '\\1' (backreference) at position 5",
    ],
    [
      { structured_outputs: { regex: 'a(?=b)' } },
      400,
      "structured_outputs.regex: unsupported regex construct '(?=b' (lookaround or group flag) at position 2",
    ],
    [{ guided_json: '{not json' }, 400, 'guided_json is not valid JSON.'],
    [
      { guided_json: { type: 'integer', minimum: 5, maximum: 1 } },
      400,
      'guided_json: #: no integer satisfies the bounds',
    ],
    [{ guided_choice: [] }, 400, 'guided_choice must be a non-empty list of strings.'],
    [
      { guided_grammar: 'root ::= "a"' },
      400,
      'guided_grammar: grammar-guided decoding is not supported by nimsim.',
    ],
    [
      { guided_choice: ['a'], guided_regex: 'a' },
      400,
      'You can only use one kind of guided decoding, got guided_regex, guided_choice.',
    ],
  ])('refuses %j with %i', async (fields, status, message) => {
    const res = await post('/v1/chat/completions', { messages: user('x'), ...fields });
    expect(res.status).toBe(status);
    expect(res.body.error.message).toBe(message);
  });
});

describe('tool calls through the API', () => {
  const service = testService();
  const TOOL = {
    type: 'function',
    function: {
      name: 'create_event',
      description: 'Create a calendar event',
      parameters: {
        type: 'object',
        properties: {
          title: { type: 'string' },
          start: { type: 'string', format: 'date-time' },
          attendees: { type: 'array', items: { type: 'string', format: 'email' }, maxItems: 4 },
          priority: { type: 'integer', minimum: 1, maximum: 5 },
        },
        required: ['title', 'start', 'attendees', 'priority'],
      },
    },
  };
  const validate = createValidator().compile(TOOL.function.parameters);

  it('streams a tool call that reassembles to the non-streamed one and validates', async () => {
    for (let seed = 0; seed < 20; seed++) {
      const body = {
        model: MODEL,
        messages: [{ role: 'user', content: 'Create a calendar event for the team' }],
        tools: [TOOL],
        seed,
      };
      const whole = (await (await postJson(service, '/v1/chat/completions', body)).json()) as any;
      const frames = (await readSse(
        await postJson(service, '/v1/chat/completions', { ...body, stream: true }),
      )) as any[];
      const deltas = frames
        .filter((f) => f !== '[DONE]')
        .flatMap((f) => f.choices[0]?.delta?.tool_calls ?? []);
      const id = deltas.find((d: any) => d.id)?.id;
      const name = deltas.find((d: any) => d.function?.name)?.function.name;
      const args = deltas.map((d: any) => d.function?.arguments ?? '').join('');
      const call = whole.choices[0].message.tool_calls[0];
      expect({ id, name, args }).toEqual({
        id: call.id,
        name: 'create_event',
        args: call.function.arguments,
      });
      expect(validate(JSON.parse(args))).toBe(true);
      expect(whole.choices[0].message.content).toBe(null);
      expect(whole.choices[0].finish_reason).toBe('tool_calls');
      expect(frames.at(-2).choices[0].finish_reason).toBe('tool_calls');
    }
  });

  it('named tool_choice finishes with stop and empty content, as OpenAI and vLLM do', async () => {
    const res = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'hello' }],
      tools: [TOOL],
      tool_choice: { type: 'function', function: { name: 'create_event' } },
    });
    const body = (await res.json()) as any;
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.choices[0].message.content).toBe('');
    expect(validate(JSON.parse(body.choices[0].message.tool_calls[0].function.arguments))).toBe(true);
  });

  it('refuses a forced tool_choice without tools or naming an unknown tool', async () => {
    const noTools = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'x' }],
      tool_choice: 'required',
    });
    expect(noTools.status).toBe(400);
    expect(((await noTools.json()) as any).error.message).toBe(
      'When using `tool_choice`, `tools` must be set.',
    );
    const unknown = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'x' }],
      tools: [TOOL],
      tool_choice: { type: 'function', function: { name: 'nope' } },
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as any).error.message).toBe("Tool 'nope' has not been passed in `tools`.");
  });
});
