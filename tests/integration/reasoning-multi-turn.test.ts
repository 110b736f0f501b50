/**
 * Multi-turn conversations with reasoning models through app.request(): each model's template
 * treats the earlier turns' reasoning as the real one does, so `cached_tokens` on the next turn
 * stops where the previous turn's reasoning began (DeepSeek-R1, Nemotron), and gpt-oss keeps the
 * reasoning of an agent loop's tool calls until its next final answer (Harmony).
 */
import { describe, expect, it } from 'vitest';
import { postJson, testService } from '../helpers/service.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const BLOCK = 16;
const R1 = { modelName: 'deepseek-ai/deepseek-r1', gpu: 'h200', gpus: '8' };
const NEMOTRON = { modelName: 'nvidia/llama-3.3-nemotron-super-49b-v1', gpu: 'h200' };
const GPT_OSS = { modelName: 'openai/gpt-oss-120b', gpu: 'h200' };
const LLAMA = { modelName: 'meta/llama-3.1-8b-instruct' };

interface Served {
  readonly service: ReturnType<typeof testService>;
  readonly model: string;
}
const service = (settings: Record<string, string>): Served => ({
  service: testService({
    meanReasoningTokens: '300',
    meanOutputTokens: '60',
    kvBlockSize: String(BLOCK),
    ...settings,
  }),
  model: settings['modelName']!,
});

async function chat(s: Served, messages: Json[], extra: Json = {}): Promise<Json> {
  const res = await postJson(s.service, '/v1/chat/completions', {
    model: s.model,
    messages,
    max_tokens: 4000,
    seed: 3,
    ...extra,
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

const cachedOf = (body: Json): number => body.usage.prompt_tokens_details?.cached_tokens ?? 0;
const whole = (n: number) => Math.floor(n / BLOCK) * BLOCK;

/** Turn 1, then turn 2 resending turn 1's answer as `assistant` (built by `sendBack`). */
async function twoTurns(
  settings: Record<string, string>,
  first: Json[],
  sendBack: (message: Json) => Json,
): Promise<{ one: Json; two: Json }> {
  const s = service(settings);
  const one = await chat(s, first);
  const two = await chat(s, [
    ...first,
    sendBack(one.choices[0].message),
    { role: 'user', content: 'And what about 9.9?' },
  ]);
  return { one, two };
}

const QUESTION = [{ role: 'user', content: 'Is 9.11 larger than 9.8? Explain.' }];
const THINK_ON = [{ role: 'system', content: 'detailed thinking on' }, ...QUESTION];

describe('DeepSeek-R1: the next turn is cached only up to where the reasoning began', () => {
  it('with the reasoning sent back in its field', async () => {
    const { one, two } = await twoTurns(R1, QUESTION, (m) => ({
      role: 'assistant',
      content: m.content,
      reasoning_content: m.reasoning,
      reasoning: m.reasoning,
    }));
    const reasoning = one.usage.completion_tokens_details.reasoning_tokens;
    expect(reasoning).toBeGreaterThan(4 * BLOCK);
    // Turn 1's prompt, whole blocks of it; nothing of the reasoning or of the answer after it.
    expect(cachedOf(two)).toBe(whole(one.usage.prompt_tokens));
    // The reasoning is not in the prompt either: the answer and the new question are.
    expect(two.usage.prompt_tokens).toBeLessThan(
      one.usage.prompt_tokens + one.usage.completion_tokens - reasoning + 40,
    );
  });

  it('with the reasoning sent back inline before </think>: the same prompt', async () => {
    const inline = await twoTurns(R1, QUESTION, (m) => ({
      role: 'assistant',
      content: `<think>\n${m.reasoning}\n</think>\n\n${m.content}`,
    }));
    const plain = await twoTurns(R1, QUESTION, (m) => ({ role: 'assistant', content: m.content }));
    expect(inline.two.usage.prompt_tokens).toBe(plain.two.usage.prompt_tokens);
    expect(cachedOf(inline.two)).toBe(whole(inline.one.usage.prompt_tokens));
  });

  it('while a chat model has its answer cached too', async () => {
    const { one, two } = await twoTurns(LLAMA, QUESTION, (m) => ({ role: 'assistant', content: m.content }));
    expect(one.usage.completion_tokens_details ?? undefined).toBe(undefined);
    // Turn 1's prompt and answer (its last token was never fed back), up to whole blocks, and
    // more than the prompt alone.
    expect(cachedOf(two)).toBeGreaterThan(whole(one.usage.prompt_tokens));
    expect(cachedOf(two)).toBeGreaterThanOrEqual(
      whole(one.usage.prompt_tokens + one.usage.completion_tokens) - BLOCK,
    );
  });
});

describe('Nemotron (detailed thinking on) drops reasoning the same way', () => {
  it('renders an inline-reasoning answer as its content alone', async () => {
    const inline = await twoTurns(NEMOTRON, THINK_ON, (m) => ({
      role: 'assistant',
      content: `<think>\n${m.reasoning}\n</think>\n\n${m.content}`,
    }));
    expect(inline.one.usage.completion_tokens_details.reasoning_tokens).toBeGreaterThan(4 * BLOCK);
    const plain = await twoTurns(NEMOTRON, THINK_ON, (m) => ({ role: 'assistant', content: m.content }));
    expect(inline.two.usage.prompt_tokens).toBe(plain.two.usage.prompt_tokens);
    expect(cachedOf(inline.two)).toBe(whole(inline.one.usage.prompt_tokens));
  });
});

describe('gpt-oss (Harmony): reasoning kept within an agent loop, dropped after a final answer', () => {
  const TOOLS = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Get the current weather in a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
  ];
  const REASONING = 'The user asks for the weather in Paris. I should call get_weather with Paris.';
  const call = {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } },
    ],
  };
  const result = { role: 'tool', tool_call_id: 'call_1', content: '{"temperature": 21}' };
  const ask = { role: 'user', content: 'What is the weather in Paris?' };
  const promptTokens = async (messages: Json[]) => {
    const body = await chat(service(GPT_OSS), messages, { tools: TOOLS, max_tokens: 1 });
    return body.usage.prompt_tokens as number;
  };

  it("renders the tool call's reasoning while no final answer follows it", async () => {
    const without = await promptTokens([ask, call, result]);
    const withReasoning = await promptTokens([ask, { ...call, reasoning: REASONING }, result]);
    // The analysis message: its header, channel and end, and the reasoning's ~18 tokens.
    expect(withReasoning - without).toBeGreaterThan(15);
    // reasoning_content is not what vLLM reads: nothing changes.
    expect(await promptTokens([ask, { ...call, reasoning_content: REASONING }, result])).toBe(without);
  });

  it('finds the kept reasoning in the prefix cache: the next call of the loop is cached through it', async () => {
    const loop = async (keep: boolean) => {
      const s = service(GPT_OSS);
      const one = await chat(s, [ask], { tools: TOOLS, tool_choice: 'required' });
      const m = one.choices[0].message;
      const back = {
        role: 'assistant',
        content: m.content,
        tool_calls: m.tool_calls,
        ...(keep ? { reasoning: m.reasoning } : {}),
      };
      const results = m.tool_calls.map((c: Json) => ({
        role: 'tool',
        tool_call_id: c.id,
        content: '{"t": 21}',
      }));
      const two = await chat(s, [ask, back, ...results], { tools: TOOLS });
      return { one, two };
    };
    const kept = await loop(true);
    const reasoning = kept.one.usage.completion_tokens_details.reasoning_tokens;
    expect(reasoning).toBeGreaterThan(4 * BLOCK);
    // The reply opened the analysis channel as the prompt renders it: the cache covers the prompt
    // and the reasoning (the answer's marker after it differs from the call that follows).
    expect(cachedOf(kept.two)).toBeGreaterThan(kept.one.usage.prompt_tokens + reasoning - 2 * BLOCK);
    // Sent back without it, only turn 1's prompt is found again.
    const dropped = await loop(false);
    expect(cachedOf(dropped.two)).toBe(whole(dropped.one.usage.prompt_tokens));
  });

  it('drops it once a final answer follows, and drops an answer’s own reasoning', async () => {
    const answer = { role: 'assistant', content: 'It is 21 °C in Paris.' };
    const next = { role: 'user', content: 'And in London?' };
    const without = await promptTokens([ask, call, result, answer, next]);
    expect(await promptTokens([ask, { ...call, reasoning: REASONING }, result, answer, next])).toBe(without);
    expect(await promptTokens([ask, call, result, { ...answer, reasoning: REASONING }, next])).toBe(without);
  });
});
