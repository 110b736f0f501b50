/**
 * The official openai client (v6) against a live nimsim: what users' scripts actually run. Every
 * response must parse into the client's types and its helpers must work unchanged.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const messages: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'user', content: 'Tell me about the weather in spring.' },
];

/** Adds vLLM extras the client's types do not know; the client sends any extra property as-is. */
const withExtras = <T extends object>(params: T, extras: Record<string, unknown>): T => ({
  ...params,
  ...extras,
});

let server: LiveServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startLiveServer();
  client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'not-used', maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
});

describe('models', () => {
  it('lists the served model through client.models.list()', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual([MODEL]);
  });
});

describe('chat completions', () => {
  it('returns a chat.completion with usage and cached_tokens', async () => {
    const res = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 12 });
    expect(res.object).toBe('chat.completion');
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.model).toBe(MODEL);
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0]!.message.role).toBe('assistant');
    expect(typeof res.choices[0]!.message.content).toBe('string');
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
    expect(res.usage!.completion_tokens).toBeLessThanOrEqual(12);
    expect(res.usage!.prompt_tokens_details!.cached_tokens).toEqual(expect.any(Number));
  });

  it('streams chunks that concatenate to the non-streamed content', async () => {
    const body = { model: MODEL, messages, max_tokens: 10, seed: 11 };
    const whole = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({ ...body, stream: true });
    let text = '';
    const finishReasons: (string | null)[] = [];
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.usage).toBeUndefined();
      const choice = chunk.choices[0]!;
      text += choice.delta.content ?? '';
      finishReasons.push(choice.finish_reason);
    }
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(finishReasons.at(-1)).toBe(whole.choices[0]!.finish_reason);
    expect(finishReasons.slice(0, -1).every((r) => r === null)).toBe(true);
  });

  it('sends usage in a final chunk with empty choices under stream_options.include_usage', async () => {
    const stream = await client.chat.completions.create(
      withExtras(
        {
          model: MODEL,
          messages,
          max_tokens: 6,
          stream: true as const,
          stream_options: { include_usage: true },
        },
        { ignore_eos: true },
      ),
    );
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBe(6);
    expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + 6);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
  });

  it('returns n choices with indexes 0..n-1, streamed and not', async () => {
    const res = await client.chat.completions.create({ model: MODEL, messages, n: 3, max_tokens: 5 });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages,
      n: 2,
      max_tokens: 5,
      stream: true,
    });
    const finished = new Set<number>();
    for await (const chunk of stream) {
      for (const c of chunk.choices) if (c.finish_reason !== null) finished.add(c.index);
    }
    expect([...finished].sort()).toEqual([0, 1]);
  });

  it('gives the same text for the same seed and another text for another seed', async () => {
    const ask = async (seed: number) =>
      (await client.chat.completions.create({ model: MODEL, messages, seed, max_tokens: 25 })).choices[0]!
        .message.content;
    const a = await ask(42);
    expect(await ask(42)).toBe(a);
    expect(await ask(43)).not.toBe(a);
  });

  it('cuts the content before a stop string and reports finish_reason stop', async () => {
    const body = withExtras({ model: MODEL, messages, seed: 5, max_tokens: 60 }, { ignore_eos: true });
    const full = (await client.chat.completions.create(body)).choices[0]!.message.content!;
    const words = full.split(/\s+/).filter((w) => /^[a-z]{4,}$/.test(w));
    const stop = words[Math.floor(words.length / 2)]!;
    const res = await client.chat.completions.create({ ...body, stop: [stop] });
    const cut = res.choices[0]!.message.content!;
    expect(cut).not.toContain(stop);
    expect(full.startsWith(cut)).toBe(true);
    expect(res.choices[0]!.finish_reason).toBe('stop');
  });

  it('returns logprobs with top_logprobs for every generated token', async () => {
    const res = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 4,
      logprobs: true,
      top_logprobs: 2,
      // @ts-expect-error ignore_eos is a vLLM extra
      ignore_eos: true,
    });
    const content = res.choices[0]!.logprobs!.content!;
    expect(content).toHaveLength(4);
    for (const entry of content) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.top_logprobs).toHaveLength(2);
      expect(entry.top_logprobs[0]!.token).toBe(entry.token);
    }
    expect(content.map((e) => e.token).join('')).toBe(res.choices[0]!.message.content);
  });

  it('honours vLLM extras passed as extra body properties', async () => {
    const res = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 9,
      // @ts-expect-error vLLM extras are not in the client's types
      ignore_eos: true,
      top_k: 40,
      min_p: 0.05,
      repetition_penalty: 1.1,
    });
    expect(res.usage!.completion_tokens).toBe(9);
    expect(res.choices[0]!.finish_reason).toBe('length');
    const viaOptions = await client.chat.completions.create(
      { model: MODEL, messages, max_tokens: 7 },
      { body: { model: MODEL, messages, max_tokens: 7, ignore_eos: true } },
    );
    expect(viaOptions.usage!.completion_tokens).toBe(7);
  });

  it('supports the client.chat.completions.stream() helper and finalChatCompletion()', async () => {
    const body = { model: MODEL, messages, max_tokens: 8, seed: 9 };
    const whole = await client.chat.completions.create(body);
    const deltas: string[] = [];
    const stream = client.chat.completions
      .stream({ ...body, stream_options: { include_usage: true } })
      .on('content', (delta) => deltas.push(delta));
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe(whole.choices[0]!.message.content);
    expect(deltas.join('')).toBe(whole.choices[0]!.message.content);
    expect(final.choices[0]!.finish_reason).toBe(whole.choices[0]!.finish_reason);
    expect(final.usage!.completion_tokens).toBe(whole.usage!.completion_tokens);
  });
});

describe('completions', () => {
  const prompt = 'Once upon a time';

  it('returns a text_completion, streamed and not, with the same text', async () => {
    const body = { model: MODEL, prompt, max_tokens: 8, seed: 3 };
    const res = await client.completions.create(body);
    expect(res.object).toBe('text_completion');
    expect(res.choices[0]!.index).toBe(0);
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
    let text = '';
    for await (const chunk of await client.completions.create({ ...body, stream: true })) {
      text += chunk.choices[0]?.text ?? '';
    }
    expect(text).toBe(res.choices[0]!.text);
  });

  it('streams usage last with include_usage', async () => {
    const chunks: OpenAI.Completion[] = [];
    const stream = await client.completions.create(
      withExtras(
        {
          model: MODEL,
          prompt,
          max_tokens: 5,
          stream: true as const,
          stream_options: { include_usage: true },
        },
        { ignore_eos: true },
      ),
    );
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(5);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
  });

  it('echoes the prompt and returns integer logprobs for each prompt and generated token', async () => {
    const res = await client.completions.create({
      model: MODEL,
      prompt,
      max_tokens: 4,
      echo: true,
      logprobs: 2,
      // @ts-expect-error ignore_eos is a vLLM extra
      ignore_eos: true,
    });
    const choice = res.choices[0]!;
    expect(choice.text.startsWith(prompt)).toBe(true);
    // As vLLM: the prompt's tokens first (BOS, with no logprob), then the 4 generated ones.
    const lp = choice.logprobs!;
    const promptTokens = res.usage!.prompt_tokens;
    expect(lp.tokens).toHaveLength(promptTokens + 4);
    expect(lp.tokens![0]).toBe('<|begin_of_text|>');
    expect(lp.token_logprobs![0]).toBeNull();
    expect(lp.top_logprobs![0]).toBeNull();
    expect(lp.text_offset![0]).toBe(0);
    expect(lp.tokens!.slice(1).join('')).toBe(choice.text);
    for (const [i, top] of lp.top_logprobs!.entries()) {
      if (i === 0) continue;
      expect(Object.keys(top)).toHaveLength(2);
      expect(top[lp.tokens![i]!]).toBe(lp.token_logprobs![i]);
    }
  });

  it('returns one choice per prompt of a batch, and n per prompt', async () => {
    const res = await client.completions.create({
      model: MODEL,
      prompt: ['one', 'two'],
      n: 2,
      max_tokens: 3,
    });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
  });
});
