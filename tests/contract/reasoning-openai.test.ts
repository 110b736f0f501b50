/**
 * Reasoning models through the official openai client against live nimsim servers (docs/api.md,
 * Reasoning models): the reasoning field beside the content, reasoning deltas before content
 * deltas, reasoning_tokens in usage, each model's switch, a cut inside the reasoning, and
 * DeepSeek-R1's template dropping the previous turn's reasoning from the prefix cache.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const R1 = 'deepseek-ai/deepseek-r1';
const GPT_OSS = 'openai/gpt-oss-120b';
const NEMOTRON = 'nvidia/llama-3.3-nemotron-super-49b-v1';
const BLOCK = 16;
const question: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Is 9.11 larger than 9.8?' }];

/** The reasoning fields openai's types do not declare. */
type Reasoned = { reasoning?: string | null; reasoning_content?: string | null };
const fields = (message: object): Reasoned => message as Reasoned;
const reasoningTokens = (usage: OpenAI.CompletionUsage | undefined | null): number | undefined =>
  usage?.completion_tokens_details?.reasoning_tokens;

const servers: LiveServer[] = [];
const clientFor = async (settings: Record<string, string>): Promise<OpenAI> => {
  const server = await startLiveServer({
    meanReasoningTokens: '200',
    meanOutputTokens: '40',
    kvBlockSize: String(BLOCK),
    ...settings,
  });
  servers.push(server);
  return new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'not-used', maxRetries: 0 });
};

let r1: OpenAI;
let r1Compat1: OpenAI;
let gptOss: OpenAI;
let nemotron: OpenAI;

beforeAll(async () => {
  r1 = await clientFor({ modelName: R1, gpu: 'h200', gpus: '8' });
  r1Compat1 = await clientFor({ modelName: R1, gpu: 'h200', gpus: '8', apiCompat: '1' });
  gptOss = await clientFor({ modelName: GPT_OSS, gpu: 'h200' });
  nemotron = await clientFor({ modelName: NEMOTRON, gpu: 'h200' });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

describe('DeepSeek-R1', () => {
  it('returns the reasoning beside the content, counted in completion_tokens', async () => {
    const res = await r1.chat.completions.create({
      model: R1,
      messages: question,
      max_tokens: 4000,
      seed: 1,
    });
    const message = res.choices[0]!.message;
    const { reasoning, reasoning_content } = fields(message);
    expect(typeof reasoning).toBe('string');
    expect(reasoning!.length).toBeGreaterThan(0);
    // NIM 2.x (vLLM >= 0.11.1): `reasoning`, and `reasoning_content` as its deprecated copy.
    expect(reasoning_content).toBe(reasoning);
    expect(message.content!.length).toBeGreaterThan(0);
    expect(message.content).not.toContain('</think>');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    const usage = res.usage!;
    expect(reasoningTokens(usage)).toBeGreaterThan(0);
    expect(reasoningTokens(usage)).toBeLessThan(usage.completion_tokens);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it('streams every reasoning delta before the first content delta, the same text as unstreamed', async () => {
    const body = { model: R1, messages: question, max_tokens: 4000, seed: 2 };
    const whole = await r1.chat.completions.create(body);
    const stream = await r1.chat.completions.create({
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    let reasoning = '';
    let content = '';
    let reasoningAfterContent = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const delta = chunk.choices[0]?.delta;
      if (delta === undefined) continue;
      const r = fields(delta).reasoning;
      if (r != null && r !== '') {
        if (content !== '') reasoningAfterContent++;
        expect(fields(delta).reasoning_content).toBe(r);
        expect(delta.content ?? undefined).toBeUndefined();
        reasoning += r;
      }
      content += delta.content ?? '';
    }
    expect(reasoningAfterContent).toBe(0);
    expect(reasoning).toBe(fields(whole.choices[0]!.message).reasoning);
    expect(content).toBe(whole.choices[0]!.message.content);
    expect(reasoningTokens(usage)).toBe(reasoningTokens(whole.usage));
    expect(usage!.completion_tokens).toBe(whole.usage!.completion_tokens);
  });

  it('answers a reply cut inside its reasoning with no content and finish_reason length', async () => {
    const body = { model: R1, messages: question, max_tokens: 8, seed: 3 };
    const res = await r1.chat.completions.create(body);
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('length');
    expect(choice.message.content).toBeNull();
    expect(fields(choice.message).reasoning!.length).toBeGreaterThan(0);
    expect(res.usage!.completion_tokens).toBe(8);
    expect(reasoningTokens(res.usage)).toBe(8);

    const stream = await r1.chat.completions.create({ ...body, stream: true });
    let content = '';
    let reasoning = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (!c) continue;
      content += c.delta.content ?? '';
      reasoning += fields(c.delta).reasoning ?? '';
      finish = c.finish_reason ?? finish;
    }
    expect(content).toBe('');
    expect(reasoning).toBe(fields(choice.message).reasoning);
    expect(finish).toBe('length');
  });

  it('makes a tool call or structured output after the reasoning, streamed and not', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'compare',
          parameters: { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] },
        },
      },
    ];
    const body = { model: R1, messages: question, tools, tool_choice: 'required' as const, max_tokens: 4000 };
    const whole = await r1.chat.completions.create({ ...body, seed: 6 });
    const call = whole.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && call.function.name).toBe('compare');
    expect(fields(whole.choices[0]!.message).reasoning!.length).toBeGreaterThan(0);
    expect(whole.choices[0]!.finish_reason).toBe('tool_calls');

    const stream = r1.chat.completions.stream({ ...body, seed: 6 });
    const final = await stream.finalChatCompletion();
    const streamed = final.choices[0]!.message.tool_calls?.[0];
    expect(streamed?.type === 'function' && streamed.function.arguments).toBe(
      call.type === 'function' && call.function.arguments,
    );

    const json = await r1.chat.completions.create({
      model: R1,
      messages: question,
      max_tokens: 4000,
      response_format: { type: 'json_object' },
    });
    expect(fields(json.choices[0]!.message).reasoning!.length).toBeGreaterThan(0);
    expect(() => JSON.parse(json.choices[0]!.message.content!) as unknown).not.toThrow();
  });

  it('names the field reasoning_content alone under NIMSIM_API_COMPAT=1 (NIM 1.x)', async () => {
    const res = await r1Compat1.chat.completions.create({ model: R1, messages: question, max_tokens: 4000 });
    const message = res.choices[0]!.message as object;
    expect(fields(message).reasoning_content!.length).toBeGreaterThan(0);
    expect('reasoning' in message).toBe(false);
    const stream = await r1Compat1.chat.completions.create({
      model: R1,
      messages: question,
      max_tokens: 20,
      stream: true,
    });
    let sawReasoning = false;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as object | undefined;
      if (delta && 'reasoning_content' in delta) sawReasoning = true;
      if (delta) expect('reasoning' in delta).toBe(false);
    }
    expect(sawReasoning).toBe(true);
  });

  it("drops the previous turn's reasoning from the next prompt: the cache hit ends where it began", async () => {
    const first = await r1.chat.completions.create({
      model: R1,
      messages: question,
      max_tokens: 4000,
      seed: 4,
      user: 'multi-turn',
    });
    const message = first.choices[0]!.message;
    const turn1Prompt = first.usage!.prompt_tokens;
    const turn1Reasoning = reasoningTokens(first.usage)!;
    expect(turn1Reasoning).toBeGreaterThan(2 * BLOCK);
    const second = await r1.chat.completions.create({
      model: R1,
      messages: [
        ...question,
        // Sent back as clients do, with the reasoning field: the template renders content only.
        { role: 'assistant', content: message.content, ...{ reasoning_content: fields(message).reasoning } },
        { role: 'user', content: 'And 9.9?' },
      ],
      max_tokens: 4000,
      seed: 5,
      user: 'multi-turn',
    });
    const cached = second.usage!.prompt_tokens_details!.cached_tokens!;
    // Turn 1's prompt is reused (whole blocks of it), its reasoning is not.
    expect(cached).toBeGreaterThanOrEqual(Math.floor(turn1Prompt / BLOCK) * BLOCK);
    expect(cached).toBeLessThan(turn1Prompt + BLOCK);
    expect(second.usage!.prompt_tokens).toBeGreaterThan(cached + BLOCK);
  });
});

describe('gpt-oss reasoning_effort', () => {
  it('reasons less at low than at high, on average over seeds', async () => {
    const mean = async (effort: 'low' | 'high') => {
      let total = 0;
      for (let seed = 0; seed < 12; seed++) {
        const res = await gptOss.chat.completions.create({
          model: GPT_OSS,
          messages: question,
          max_tokens: 20_000,
          seed,
          reasoning_effort: effort,
        });
        expect(fields(res.choices[0]!.message).reasoning!.length).toBeGreaterThan(0);
        total += reasoningTokens(res.usage)!;
      }
      return total / 12;
    };
    const low = await mean('low');
    const high = await mean('high');
    expect(low).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(3 * low);
  });

  it('refuses a reasoning_effort vLLM does not know', async () => {
    await expect(
      gptOss.chat.completions.create({
        model: GPT_OSS,
        messages: question,
        reasoning_effort: 'extreme' as 'low',
      }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe('Nemotron Super 49B v1', () => {
  it('answers without reasoning by default and with `detailed thinking off`', async () => {
    for (const messages of [
      question,
      [{ role: 'system' as const, content: 'detailed thinking off' }, ...question],
    ]) {
      const res = await nemotron.chat.completions.create({ model: NEMOTRON, messages, max_tokens: 4000 });
      const message = res.choices[0]!.message;
      expect(fields(message).reasoning_content).toBeNull();
      expect(message.content!.length).toBeGreaterThan(0);
      expect(res.usage!.completion_tokens_details ?? undefined).toBeUndefined();
    }
  });

  it('reasons when the system prompt is `detailed thinking on`', async () => {
    const res = await nemotron.chat.completions.create({
      model: NEMOTRON,
      messages: [{ role: 'system', content: 'detailed thinking on' }, ...question],
      max_tokens: 4000,
    });
    expect(fields(res.choices[0]!.message).reasoning!.length).toBeGreaterThan(0);
    expect(res.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(reasoningTokens(res.usage)).toBeGreaterThan(0);
  });
});
