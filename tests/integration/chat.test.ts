import { describe, expect, it } from 'vitest';
import { postJson, readSse, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const messages = [{ role: 'user', content: 'Tell me about the weather in spring.' }];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('POST /v1/chat/completions', () => {
  const service = testService();

  it('answers with a chat.completion, usage and cached_tokens', async () => {
    const res = await postJson(service, '/v1/chat/completions', { model: MODEL, messages, max_tokens: 20 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.object).toBe('chat.completion');
    expect(body.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(body.model).toBe(MODEL);
    expect(body.choices).toHaveLength(1);
    expect(body.choices[0].message.role).toBe('assistant');
    expect(typeof body.choices[0].message.content).toBe('string');
    expect(['stop', 'length']).toContain(body.choices[0].finish_reason);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(20);
    expect(body.usage.prompt_tokens_details).toEqual({ cached_tokens: expect.any(Number) });
  });

  it('counts prompt tokens exactly as /tokenize does', async () => {
    const chat = (await (
      await postJson(service, '/v1/chat/completions', { model: MODEL, messages, max_tokens: 1 })
    ).json()) as Json;
    const tok = (await (await postJson(service, '/tokenize', { model: MODEL, messages })).json()) as Json;
    expect(chat.usage.prompt_tokens).toBe(tok.count);
    expect(tok.tokens).toHaveLength(tok.count);
  });

  it('gives exactly max_tokens tokens with ignore_eos and finish_reason length', async () => {
    const res = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages,
      max_tokens: 37,
      ignore_eos: true,
    });
    const body = (await res.json()) as Json;
    expect(body.usage.completion_tokens).toBe(37);
    expect(body.choices[0].finish_reason).toBe('length');
  });

  it('is deterministic for the same seed and differs for another seed', async () => {
    const ask = async (seed: number) =>
      (
        (await (
          await postJson(service, '/v1/chat/completions', { model: MODEL, messages, seed, max_tokens: 30 })
        ).json()) as Json
      ).choices[0].message.content as string;
    const a = await ask(7);
    expect(await ask(7)).toBe(a);
    expect(await ask(8)).not.toBe(a);
  });

  it('returns n choices with distinct indexes', async () => {
    const body = (await (
      await postJson(service, '/v1/chat/completions', { model: MODEL, messages, n: 3, max_tokens: 10 })
    ).json()) as Json;
    expect(body.choices.map((c: Json) => c.index)).toEqual([0, 1, 2]);
  });

  it('never includes a stop string in the content', async () => {
    const base = (await (
      await postJson(service, '/v1/chat/completions', {
        model: MODEL,
        messages,
        seed: 3,
        max_tokens: 60,
        ignore_eos: true,
      })
    ).json()) as Json;
    const text = base.choices[0].message.content as string;
    const words = text.split(/\s+/).filter((w) => /^[a-z]{4,}$/.test(w));
    const stop = words[Math.floor(words.length / 2)]!;
    const body = (await (
      await postJson(service, '/v1/chat/completions', {
        model: MODEL,
        messages,
        seed: 3,
        max_tokens: 60,
        ignore_eos: true,
        stop: [stop],
      })
    ).json()) as Json;
    const cut = body.choices[0].message.content as string;
    expect(cut).not.toContain(stop);
    expect(text.startsWith(cut)).toBe(true);
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.choices[0].stop_reason).toBe(stop);
  });

  it('returns chat logprobs with top_logprobs', async () => {
    const body = (await (
      await postJson(service, '/v1/chat/completions', {
        model: MODEL,
        messages,
        max_tokens: 5,
        ignore_eos: true,
        logprobs: true,
        top_logprobs: 3,
      })
    ).json()) as Json;
    const content = body.choices[0].logprobs.content as Json[];
    expect(content).toHaveLength(5);
    for (const entry of content) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.top_logprobs).toHaveLength(3);
      expect(entry.top_logprobs[0].token).toBe(entry.token);
      expect(Array.isArray(entry.bytes)).toBe(true);
    }
  });

  it('streams role, content and finish chunks, then usage and [DONE] with include_usage', async () => {
    const res = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages,
      max_tokens: 8,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const frames = await readSse(res);
    expect(frames.at(-1)).toBe('[DONE]');
    const chunks = frames.slice(0, -1) as Json[];
    expect(chunks[0]!.choices[0].delta).toEqual({ role: 'assistant', content: '' });
    for (const c of chunks.slice(0, -1)) {
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.usage).toBeNull();
    }
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBe(8);
    const finish = chunks.at(-2)!;
    expect(finish.choices[0].finish_reason).toBe('length');
    const streamed = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    const whole = (await (
      await postJson(service, '/v1/chat/completions', {
        model: MODEL,
        messages,
        max_tokens: 8,
        ignore_eos: true,
      })
    ).json()) as Json;
    expect(streamed).toBe(whole.choices[0].message.content);
  });

  it('omits usage from chunks without include_usage', async () => {
    const frames = (await readSse(
      await postJson(service, '/v1/chat/completions', {
        model: MODEL,
        messages,
        max_tokens: 3,
        stream: true,
      }),
    )) as Json[];
    expect(frames.slice(0, -1).every((c) => !('usage' in c))).toBe(true);
  });
});

describe('NIMSIM_CONTENT=echo', () => {
  it('replies with the last user message, then stops', async () => {
    const service = testService({ content: 'echo' });
    const res = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages: [
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'an answer' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Repeat after me:' },
            { type: 'text', text: 'the quick brown fox' },
          ],
        },
      ],
    });
    const body = (await res.json()) as Json;
    expect(body.choices[0].message.content).toBe('Repeat after me:\nthe quick brown fox');
    expect(body.choices[0].finish_reason).toBe('stop');
  });
});

describe('chat errors', () => {
  const service = testService({ maxModelLen: '512' });

  const expectError = async (res: Response, status: number, type: string) => {
    expect(res.status).toBe(status);
    const body = (await res.json()) as Json;
    expect(body.error.code).toBe(status);
    expect(body.error.type).toBe(type);
    expect(typeof body.error.message).toBe('string');
    return body.error as Json;
  };

  it('answers 404 with NIM text for an unknown model', async () => {
    const err = await expectError(
      await postJson(service, '/v1/chat/completions', { model: 'nope', messages }),
      404,
      'NotFoundError',
    );
    expect(err.message).toBe('The model `nope` does not exist.');
  });

  it('answers 400 (not 422) for a body that fails validation', async () => {
    const err = await expectError(
      await postJson(service, '/v1/chat/completions', { model: MODEL, messages: [] }),
      400,
      'BadRequestError',
    );
    expect(err.param).toBe('messages');
  });

  it('answers 400 for malformed JSON', async () => {
    await expectError(await postJson(service, '/v1/chat/completions', '{"model":'), 400, 'BadRequestError');
  });

  it('answers 415 for a non-JSON content type', async () => {
    const res = await service.app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    await expectError(res, 415, 'BadRequestError');
  });

  it('answers 400 with the context-length text when prompt + max_tokens exceed the context', async () => {
    const err = await expectError(
      await postJson(service, '/v1/chat/completions', { model: MODEL, messages, max_tokens: 600 }),
      400,
      'BadRequestError',
    );
    expect(err.message).toMatch(
      /^This model's maximum context length is 512 tokens\. However, you requested \d+ tokens \(\d+ in the messages, 600 in the completion\)/,
    );
  });

  it('answers with the flat NIM 1.x body when NIMSIM_API_COMPAT=1', async () => {
    const flat = testService({ apiCompat: '1' });
    const res = await postJson(flat, '/v1/chat/completions', { model: 'nope', messages });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      object: 'error',
      message: 'The model `nope` does not exist.',
      type: 'NotFoundError',
      param: 'model',
      code: 404,
    });
  });

  it('accepts and ignores unknown fields and the vLLM / NIM extras', async () => {
    const res = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages,
      max_tokens: 4,
      some_future_field: { x: 1 },
      top_k: 40,
      min_p: 0.05,
      repetition_penalty: 1.1,
      min_tokens: 2,
      stop_token_ids: [128001],
      cache_salt: 'tenant-a',
      prompt_cache_key: 'session-1',
      user: 'u1',
      nvext: { top_k: 5, ignore_eos: true },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.usage.completion_tokens).toBe(4); // nvext.ignore_eos honoured
  });
});
