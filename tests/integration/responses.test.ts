/**
 * POST /v1/responses through app.request(): the response object, input items, tools, structured
 * output and the errors (docs/responses.md; previous_response_id: responses-previous.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { createValidator } from '../helpers/ajv.js';
import { MODEL, WEATHER_TOOL, responsesServer, type Json } from '../helpers/responses.js';
import { postJson } from '../helpers/service.js';

/** The same tool as chat spells it. */
const CHAT_WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: WEATHER_TOOL.description,
    parameters: WEATHER_TOOL.parameters,
  },
};

describe('POST /v1/responses', () => {
  const { service, create } = responsesServer();
  const tokenize = async (body: Json) =>
    ((await (await postJson(service, '/tokenize', { model: MODEL, ...body })).json()) as Json)
      .count as number;

  it('answers with a response object: a message item, usage, and no output_text', async () => {
    const { status, body } = await create({ input: 'Tell me about the weather in spring.', seed: 3 });
    expect(status).toBe(200);
    expect(body.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(body.object).toBe('response');
    expect(body.created_at).toEqual(expect.any(Number));
    expect(body.model).toBe(MODEL);
    expect(body.status).toBe('completed');
    expect(body.incomplete_details).toBeNull();
    expect(body).not.toHaveProperty('output_text');
    expect(body.output).toHaveLength(1);
    const message = body.output[0];
    expect(message).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    expect(message.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(message.content).toHaveLength(1);
    expect(message.content[0]).toEqual({
      type: 'output_text',
      text: expect.stringMatching(/\S/),
      annotations: [],
      logprobs: null,
    });
    const usage = body.usage;
    expect(usage.input_tokens).toBe(
      await tokenize({ messages: [{ role: 'user', content: 'Tell me about the weather in spring.' }] }),
    );
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    expect(usage.input_tokens_details).toEqual({ cached_tokens: expect.any(Number) });
    expect(usage.output_tokens_details).toEqual({ reasoning_tokens: 0 });
  });

  it('echoes the request settings as vLLM does, max_output_tokens resolved', async () => {
    const { body } = await create({
      input: 'Hi',
      instructions: 'Be brief.',
      temperature: 0.2,
      top_p: 0.5,
      max_output_tokens: 12,
      metadata: { run: 'a1' },
      user: 'u-7',
      tools: [WEATHER_TOOL],
      tool_choice: 'none',
      text: { format: { type: 'text' } },
      reasoning: { effort: 'low' },
    });
    expect(body).toMatchObject({
      instructions: 'Be brief.',
      temperature: 0.2,
      top_p: 0.5,
      max_output_tokens: 12,
      metadata: { run: 'a1' },
      user: 'u-7',
      tool_choice: 'none',
      tools: [{ ...WEATHER_TOOL }],
      text: { format: { type: 'text' } },
      reasoning: { effort: 'low' },
      parallel_tool_calls: true,
      previous_response_id: null,
      background: false,
      truncation: 'disabled',
      service_tier: 'auto',
      top_logprobs: null,
    });
    const defaults = (await create({ input: 'Hi' })).body;
    expect(defaults).toMatchObject({ temperature: 1, top_p: 1, tool_choice: 'auto', tools: [], text: null });
    // Absent, max_output_tokens is the rest of the context (vLLM's default max tokens).
    expect(defaults.max_output_tokens).toBe(131_072 - defaults.usage.input_tokens);
  });

  it('stops at max_output_tokens with status incomplete and reason max_output_tokens', async () => {
    const { body } = await create({ input: 'Write a long story.', max_output_tokens: 23, ignore_eos: true });
    expect(body.status).toBe('incomplete');
    expect(body.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(body.usage.output_tokens).toBe(23);
  });

  it('renders instructions and input items as the chat template renders the same messages', async () => {
    const { body } = await create({
      instructions: 'You are terse.',
      input: [
        { role: 'developer', content: 'Answer in English.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Name a colour.' }] },
        { role: 'assistant', content: [{ type: 'output_text', text: 'Blue.', annotations: [] }] },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Another' },
            { type: 'input_text', text: 'one?' },
          ],
        },
      ],
    });
    expect(body.usage.input_tokens).toBe(
      await tokenize({
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: 'Answer in English.' },
          { role: 'user', content: 'Name a colour.' },
          { role: 'assistant', content: 'Blue.' },
          { role: 'user', content: 'Another\none?' },
        ],
      }),
    );
  });

  it('calls a function tool: a function_call item with call_id, name and schema-valid arguments', async () => {
    const { body } = await create({ input: 'What is the weather in Paris?', tools: [WEATHER_TOOL] });
    expect(body.status).toBe('completed');
    expect(body.output).toHaveLength(1);
    const call = body.output[0];
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    expect(call.id).toMatch(/^fc_[0-9a-f]{32}$/);
    expect(call.call_id).toMatch(/^call_[0-9a-f]{32}$/);
    const validate = createValidator().compile(WEATHER_TOOL.parameters);
    expect(validate(JSON.parse(call.arguments as string))).toBe(true);
    // The tools are in the prompt as chat puts them there.
    expect(body.usage.input_tokens).toBe(
      await tokenize({
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tools: [CHAT_WEATHER_TOOL],
      }),
    );
  });

  it('calls the named tool for tool_choice {type: function, name}, and refuses a tool not offered', async () => {
    const named = await create({
      input: 'Hello',
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'function', name: 'get_weather' },
    });
    expect(named.body.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather' });
    const unknown = await create({
      input: 'Hello',
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'function', name: 'nope' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({
      param: 'tool_choice',
      message: "Tool 'nope' has not been passed in `tools`.",
    });
    const noTools = await create({ input: 'Hello', tool_choice: 'required' });
    expect(noTools.status).toBe(400);
    expect(noTools.body.error.param).toBe('tool_choice');
  });

  it('answers after a function_call and its function_call_output, the call rendered as chat renders it', async () => {
    const first = await create({ input: 'What is the weather in Paris?', tools: [WEATHER_TOOL] });
    const call = first.body.output[0];
    const input = [
      { role: 'user', content: 'What is the weather in Paris?' },
      { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: 'function_call_output', call_id: call.call_id, output: '{"temperature": 21}' },
    ];
    const { body } = await create({ input, tools: [WEATHER_TOOL] });
    expect(body.output).toHaveLength(1);
    expect(body.output[0].type).toBe('message');
    expect(body.usage.input_tokens).toBe(
      await tokenize({
        tools: [CHAT_WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'What is the weather in Paris?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: call.call_id,
                type: 'function',
                function: { name: call.name, arguments: call.arguments },
              },
            ],
          },
          { role: 'tool', tool_call_id: call.call_id, content: '{"temperature": 21}' },
        ],
      }),
    );
  });

  it('constrains the output to text.format json_schema, and to an object for json_object', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0, maximum: 120 } },
      required: ['name', 'age'],
      additionalProperties: false,
    };
    const validate = createValidator().compile(schema);
    for (const seed of [1, 2, 3]) {
      const { body } = await create({
        input: 'Describe a person.',
        seed,
        text: { format: { type: 'json_schema', name: 'person', schema, strict: true } },
      });
      expect(validate(JSON.parse(body.output[0].content[0].text as string))).toBe(true);
    }
    const object = await create({ input: 'Anything.', text: { format: { type: 'json_object' } } });
    const value: unknown = JSON.parse(object.body.output[0].content[0].text as string);
    expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true);
  });

  it("returns the answer tokens' logprobs with include message.output_text.logprobs", async () => {
    const { body } = await create({
      input: 'Hi',
      max_output_tokens: 6,
      ignore_eos: true,
      include: ['message.output_text.logprobs'],
      top_logprobs: 2,
    });
    expect(body.top_logprobs).toBe(2);
    const logprobs = body.output[0].content[0].logprobs as Json[];
    expect(logprobs).toHaveLength(6);
    for (const lp of logprobs) {
      expect(lp).toEqual({
        token: expect.any(String),
        logprob: expect.any(Number),
        bytes: expect.any(Array),
        top_logprobs: expect.any(Array),
      });
      expect(lp.top_logprobs).toHaveLength(2);
    }
    expect(logprobs.map((lp) => lp.token).join('')).toBe(body.output[0].content[0].text);
  });

  it('answers 400 naming the field for invalid input, tools and formats, and ignores unknown fields', async () => {
    const cases: [Json, string][] = [
      [{}, 'input'],
      [{ input: 42 }, 'input'],
      [{ input: [] }, 'input'],
      [{ input: [{ type: 'item_reference', id: 'x' }] }, 'input.0.type'],
      [
        { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'x' }] }] },
        'input.0.content.0.type',
      ],
      [{ input: [{ role: 'tool', content: 'x' }] }, 'input.0.role'],
      [{ input: [{ type: 'function_call', call_id: 'c', name: 'f' }] }, 'input.0.arguments'],
      [{ input: 'x', tools: [{ type: 'web_search' }] }, 'tools.0.type'],
      [{ input: 'x', tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools.0.name'],
      [{ input: 'x', text: { format: { type: 'json_schema', name: 'a' } } }, 'text.format.schema'],
      [{ input: 'x', max_output_tokens: 0 }, 'max_output_tokens'],
      [{ input: 'x', temperature: 3 }, 'temperature'],
      [{ input: 'x', reasoning: { effort: 'extreme' } }, 'reasoning.effort'],
      [{ input: 'x', background: true }, 'background'],
      [{ input: 'x', prompt: { id: 'pmpt_1' } }, 'prompt'],
      [
        { input: 'x', text: { format: { type: 'json_object' } }, structured_outputs: { regex: 'a+' } },
        'structured_outputs',
      ],
    ];
    for (const [body, param] of cases) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toMatchObject({
        type: 'BadRequestError',
        code: 400,
        param,
      });
    }
    const unknownModel = await create({ model: 'nope', input: 'x' });
    expect(unknownModel.status).toBe(404);
    expect(unknownModel.body.error).toMatchObject({
      message: 'The model `nope` does not exist.',
      param: 'model',
    });
    const extra = await create({
      input: 'x',
      max_output_tokens: 2,
      some_future_field: { a: 1 },
      conversation: null,
    });
    expect(extra.status).toBe(200);
  });

  it("refuses a prompt that fills the context with vLLM's words, and caps max_output_tokens at the rest", async () => {
    const small = responsesServer({ maxModelLen: '64' });
    const over = await small.post({ input: 'word '.repeat(80) });
    expect(over.status).toBe(400);
    const error = ((await over.json()) as Json).error;
    expect(error.param).toBe('input');
    expect(error.message).toMatch(
      /^The engine prompt length \d+ exceeds the max_model_len 64\. Please reduce prompt\.$/,
    );
    const capped = (await (await small.post({ input: 'Hi', max_output_tokens: 1000 })).json()) as Json;
    expect(capped.max_output_tokens).toBe(64 - capped.usage.input_tokens);
  });
});
