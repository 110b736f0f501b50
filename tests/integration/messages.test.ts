/* eslint-disable @typescript-eslint/no-explicit-any -- wire bodies are read loosely, then asserted exactly */
/**
 * POST /v1/messages through app.request(): the message body, the conversion to the chat prompt
 * (system blocks, tool_use, tool_result), usage with the prefix cache's split, stop reasons,
 * tools and count_tokens (docs/messages.md).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging.js';
import { createService } from '../../src/server.js';
import { parseExposition, sampleValue } from '../helpers/prom-text.js';
import { postJson, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const BLOCK = 16;
const SYSTEM = 'You are a patient assistant who answers questions about trains and timetables.';
const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Get the current weather for a city',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
  },
};

const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  max_tokens: 24,
  system: SYSTEM,
  messages: [{ role: 'user', content }],
  ...extra,
});

async function json(res: Response): Promise<any> {
  return (await res.json()) as any;
}

describe('POST /v1/messages', () => {
  it("answers with a message: a msg_ id, one text block, Anthropic's stop reason and usage", async () => {
    const service = testService();
    const res = await postJson(
      service,
      '/v1/messages',
      ask('When does the first train leave?', { max_tokens: 5 }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await json(res);
    expect(Object.keys(body)).toEqual([
      'id',
      'type',
      'role',
      'content',
      'model',
      'stop_reason',
      'stop_sequence',
      'usage',
    ]);
    expect(body.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(body.type).toBe('message');
    expect(body.role).toBe('assistant');
    expect(body.model).toBe(MODEL);
    expect(body.content).toHaveLength(1);
    expect(body.content[0].type).toBe('text');
    expect(body.content[0].text.length).toBeGreaterThan(0);
    // Five tokens are far below the median reply: the reply is cut at max_tokens.
    expect(body.stop_reason).toBe('max_tokens');
    expect(body.stop_sequence).toBeNull();
    expect(body.usage).toEqual({
      input_tokens: expect.any(Number),
      output_tokens: 5,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
  });

  it('ends a natural reply with end_turn', async () => {
    const service = testService({ meanOutputTokens: '8' });
    const body = await json(await postJson(service, '/v1/messages', ask('Hi!', { max_tokens: 500 })));
    expect(body.stop_reason).toBe('end_turn');
    expect(body.usage.output_tokens).toBeLessThan(500);
  });

  it('bills the prompt the chat route renders for the same conversation, and count_tokens agrees', async () => {
    const service = testService({ enableKvCacheReuse: '0' });
    const question = 'Which platform does the night train leave from?';
    const message = await json(await postJson(service, '/v1/messages', ask(question)));
    const chat = await json(
      await postJson(service, '/v1/chat/completions', {
        model: MODEL,
        max_tokens: 24,
        messages: [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: question },
        ],
      }),
    );
    expect(message.usage.input_tokens).toBe(chat.usage.prompt_tokens);
    // Prefix caching off: no cache fields at all (vLLM omits them without prompt token details).
    expect(Object.keys(message.usage)).toEqual(['input_tokens', 'output_tokens']);
    const counted = await json(
      await postJson(service, '/v1/messages/count_tokens', {
        model: MODEL,
        system: SYSTEM,
        messages: [{ role: 'user', content: question }],
      }),
    );
    expect(counted).toEqual({
      input_tokens: chat.usage.prompt_tokens,
      context_management: { original_input_tokens: chat.usage.prompt_tokens },
    });
  });

  it('reads the cached prefix on a second turn that resends the history: cache_read_input_tokens', async () => {
    const service = testService({ kvBlockSize: String(BLOCK) });
    const first = ask('Tell me about the timetable for Sunday mornings.', { max_tokens: 20 });
    const turn1 = await json(await postJson(service, '/v1/messages', first));
    expect(turn1.usage.cache_read_input_tokens).toBe(0);
    const prompt1 = turn1.usage.input_tokens;
    const turn2 = await json(
      await postJson(service, '/v1/messages', {
        ...first,
        messages: [
          ...first.messages,
          { role: 'assistant', content: turn1.content },
          { role: 'user', content: [{ type: 'text', text: 'And on Sunday evenings?' }] },
        ],
      }),
    );
    const cached = turn2.usage.cache_read_input_tokens;
    // Every whole block of the first prompt is a prefix of the second one.
    expect(cached).toBeGreaterThanOrEqual(Math.floor(prompt1 / BLOCK) * BLOCK);
    expect(cached % BLOCK).toBe(0);
    expect(turn2.usage.cache_creation_input_tokens).toBe(0);
    expect(turn2.usage.input_tokens).toBeGreaterThan(0);
    // input_tokens is what was not read from the cache (Anthropic's split, vLLM PR 40912).
    const counted = await json(
      await postJson(service, '/v1/messages/count_tokens', {
        model: MODEL,
        system: SYSTEM,
        messages: [
          ...first.messages,
          { role: 'assistant', content: turn1.content },
          { role: 'user', content: [{ type: 'text', text: 'And on Sunday evenings?' }] },
        ],
      }),
    );
    expect(turn2.usage.input_tokens + cached).toBe(counted.input_tokens);
  });

  it('stops at a stop sequence and names it (stop_reason stop_sequence)', async () => {
    const service = testService({ content: 'echo' });
    const body = await json(
      await postJson(service, '/v1/messages', {
        model: MODEL,
        max_tokens: 40,
        stop_sequences: ['never', 'gamma'],
        messages: [{ role: 'user', content: 'alpha beta gamma delta' }],
      }),
    );
    expect(body.content).toEqual([{ type: 'text', text: 'alpha beta ' }]);
    expect(body.stop_reason).toBe('stop_sequence');
    expect(body.stop_sequence).toBe('gamma');
  });

  it('renders system blocks, tool_use and tool_result as the equivalent chat messages (vLLM conversion)', async () => {
    const service = testService();
    const counted = await json(
      await postJson(service, '/v1/messages/count_tokens', {
        model: MODEL,
        system: [
          { type: 'text', text: 'You check the weather. ' },
          { type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } },
        ],
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'What is the weather in Paris?' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'The user wants weather.', signature: 'abc' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_1',
                content: [{ type: 'text', text: '18 C, sunny' }],
              },
            ],
          },
        ],
      }),
    );
    const tokenized = await json(
      await postJson(service, '/tokenize', {
        model: MODEL,
        tools: [
          {
            type: 'function',
            function: {
              name: WEATHER_TOOL.name,
              description: WEATHER_TOOL.description,
              parameters: WEATHER_TOOL.input_schema,
            },
          },
        ],
        messages: [
          { role: 'system', content: 'You check the weather. Be brief.' },
          { role: 'user', content: 'What is the weather in Paris?' },
          {
            role: 'assistant',
            tool_calls: [
              {
                id: 'toolu_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city": "Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: '18 C, sunny' },
        ],
      }),
    );
    expect(counted.input_tokens).toBe(tokenized.count);
  });

  it('adds NIM per-request stats when they are enabled', async () => {
    const service = testService({ perReqMetricsEnable: '1' });
    const body = await json(await postJson(service, '/v1/messages', ask('Hello', { max_tokens: 4 })));
    expect(body.stats.type).toBe('NIM LLM Model Stats');
    expect(body.stats.llm_output_token_length).toBe(4);
    expect(body.stats.llm_input_token_length).toBe(
      body.usage.input_tokens + body.usage.cache_read_input_tokens,
    );
  });
});

describe('tools on /v1/messages', () => {
  const weatherQuestion = { model: MODEL, max_tokens: 200, tools: [WEATHER_TOOL] };

  it('calls a relevant tool: a tool_use block with a toolu_ id and an input object, stop_reason tool_use', async () => {
    const service = testService();
    const body = await json(
      await postJson(service, '/v1/messages', {
        ...weatherQuestion,
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      }),
    );
    expect(body.stop_reason).toBe('tool_use');
    expect(body.content).toHaveLength(1);
    const [call] = body.content;
    expect(call.type).toBe('tool_use');
    expect(call.id).toMatch(/^toolu_[0-9a-f]{32}$/);
    expect(call.name).toBe('get_weather');
    expect(call.input).toEqual({ city: expect.any(String) });
  });

  it('answers in prose after the tool result', async () => {
    const service = testService();
    const first = await json(
      await postJson(service, '/v1/messages', {
        ...weatherQuestion,
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      }),
    );
    const call = first.content[0];
    const second = await json(
      await postJson(service, '/v1/messages', {
        ...weatherQuestion,
        // Room for the answer's natural end (its seeded length can pass 200 tokens).
        max_tokens: 1000,
        messages: [
          { role: 'user', content: 'What is the weather in Paris?' },
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: call.id, content: '18 C and sunny' }],
          },
        ],
      }),
    );
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content.map((b: any) => b.type)).toEqual(['text']);
    expect(second.usage.cache_read_input_tokens).toBeGreaterThan(0);
  });

  it("maps tool_choice: any forces a call, tool names one (vLLM's chat finish reason stop: end_turn), none forbids", async () => {
    const service = testService();
    const unrelated = [{ role: 'user', content: 'Write a line about autumn.' }];
    const anyCall = await json(
      await postJson(service, '/v1/messages', {
        ...weatherQuestion,
        messages: unrelated,
        tool_choice: { type: 'any' },
      }),
    );
    expect(anyCall.content.map((b: any) => b.type)).toEqual(['tool_use']);
    expect(anyCall.stop_reason).toBe('tool_use');
    const named = await json(
      await postJson(service, '/v1/messages', {
        ...weatherQuestion,
        messages: unrelated,
        tool_choice: { type: 'tool', name: 'get_weather' },
      }),
    );
    expect(named.content.map((b: any) => b.type)).toEqual(['tool_use']);
    expect(named.content[0].name).toBe('get_weather');
    expect(named.stop_reason).toBe('end_turn');
    const none = await json(
      await postJson(service, '/v1/messages', {
        ...weatherQuestion,
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tool_choice: { type: 'none' },
      }),
    );
    expect(none.content.map((b: any) => b.type)).toEqual(['text']);
  });
});

describe('reasoning models on /v1/messages', () => {
  it('puts the reasoning in a signed thinking block before the text', async () => {
    const service = testService({
      modelName: 'deepseek-ai/deepseek-r1',
      gpu: 'h200',
      gpus: '8',
      meanReasoningTokens: '20',
      meanOutputTokens: '10',
    });
    const body = await json(
      await postJson(service, '/v1/messages', {
        model: 'deepseek-ai/deepseek-r1',
        max_tokens: 2000,
        messages: [{ role: 'user', content: 'Is 9.11 larger than 9.8?' }],
      }),
    );
    expect(body.content.map((b: any) => b.type)).toEqual(['thinking', 'text']);
    expect(body.content[0].thinking.length).toBeGreaterThan(0);
    expect(body.content[0].signature).toMatch(/^[0-9a-f]{32}$/);
    expect(body.stop_reason).toBe('end_turn');
  });
});

describe('the access log of /v1/messages', () => {
  it('logs each request once with its tokens and metadata.user_id as the session, streams when they end', async () => {
    const lines: Record<string, unknown>[] = [];
    const config = loadConfig({}, { timeScale: '0', jitter: '0', jsonlLogging: '1', logLevel: 'INFO' });
    const service = createService(
      config,
      createLogger('INFO', true, (l) => lines.push(JSON.parse(l) as Record<string, unknown>)),
      { processMetrics: false },
    );
    const body = ask('Hello', { max_tokens: 6, metadata: { user_id: 'user-42' } });
    const whole = await json(await postJson(service, '/v1/messages', body));
    await (await postJson(service, '/v1/messages', { ...body, stream: true })).text();
    const logged = lines.filter((l) => l['route'] === '/v1/messages');
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({
      status: 200,
      prompt_tokens: whole.usage.input_tokens + whole.usage.cache_read_input_tokens,
      completion_tokens: whole.usage.output_tokens,
      cached_tokens: 0,
      session: 'user-42',
    });
    expect(logged[1]).toMatchObject({
      status: 200,
      prompt_tokens: whole.usage.input_tokens,
      completion_tokens: whole.usage.output_tokens,
      session: 'user-42',
    });
    expect(logged[1]!['cached_tokens']).toBeGreaterThan(0);
  });
});

describe('metrics of /v1/messages', () => {
  it('counts its requests, tokens and prefix-cache hits as the chat route does', async () => {
    const service = testService();
    const first = await json(await postJson(service, '/v1/messages', ask('Hello', { max_tokens: 3 })));
    const second = await json(await postJson(service, '/v1/messages', ask('Hello', { max_tokens: 3 })));
    const exp = parseExposition(await (await service.app.request('/metrics')).text());
    expect(sampleValue(exp, 'nimsim_http_requests_total', { route: '/v1/messages', status: '200' })).toBe(2);
    expect(sampleValue(exp, 'vllm:request_success_total', { finished_reason: 'length' })).toBe(2);
    expect(sampleValue(exp, 'vllm:generation_tokens_total')).toBe(6);
    const prompt = first.usage.input_tokens;
    expect(sampleValue(exp, 'vllm:prompt_tokens_total')).toBe(2 * prompt);
    expect(sampleValue(exp, 'vllm:prefix_cache_hits_total')).toBe(second.usage.cache_read_input_tokens);
  });
});
