/**
 * What one request may ask of the server (src/serving/request-bounds.ts): queue room for all its
 * sequences (429), the tokens its choices take (400 naming max_tokens) and the logprobs its
 * response carries (400 naming top_logprobs / logprobs), checked before anything is planned or
 * queued when the request forces its length, and while planning otherwise.
 */
import { describe, expect, it } from 'vitest';
import type { Service } from '../../src/server.js';
import { postJson, readSse, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const messages = [{ role: 'user', content: 'hi' }];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function promptTokensOf(service: Service, body: Json): Promise<number> {
  const res = await postJson(service, '/tokenize', { model: MODEL, ...body });
  return ((await res.json()) as Json).count as number;
}

/** Posts `body`; returns the status, the error body and whether the engine ever saw a request. */
async function refusedBefore(service: Service, path: string, body: Json) {
  const stepsBefore = service.runtime.engine.stats().steps;
  const res = await postJson(service, path, body);
  const json = (await res.json()) as Json;
  const { waiting, running, steps } = service.runtime.engine.stats();
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    error: json.error as Json,
    engineUntouched: waiting === 0 && running === 0 && steps === stepsBefore,
  };
}

describe('small bodies that ask for gigabytes', () => {
  const service = testService();

  it('refuses n 4 × 131,000 tokens × 21 logprobs (190 bytes) with 400 naming top_logprobs, before planning', async () => {
    const body = {
      model: MODEL,
      messages,
      max_tokens: 131_000,
      ignore_eos: true,
      n: 4,
      logprobs: true,
      top_logprobs: 20,
    };
    expect(JSON.stringify(body).length).toBeLessThan(200);
    const r = await refusedBefore(service, '/v1/chat/completions', body);
    expect(r.status).toBe(400);
    expect(r.error).toEqual({
      message:
        'This request asks for 11004000 logprobs over its 4 choices, 21 per token (the token and 20 alternatives). One response may carry at most 1048576 on this server (NIMSIM_MAX_LOGPROBS_PER_REQUEST); please reduce n, max_tokens or top_logprobs.',
      type: 'BadRequestError',
      param: 'top_logprobs',
      code: 400,
    });
    expect(r.engineUntouched).toBe(true);
  });

  it('refuses 128 prompts × n 128 with 429 at once: more sequences than the waiting queue holds', async () => {
    const body = { model: MODEL, prompt: Array(128).fill('a'), n: 128, max_tokens: 8000 };
    const r = await refusedBefore(service, '/v1/completions', body);
    expect(r.status).toBe(429);
    expect(r.retryAfter).toBe('1');
    expect(r.error).toEqual({
      message:
        'This request makes 16384 sequences (128 prompts × n 128), more than the waiting queue holds (1024, NIMSIM_MAX_WAITING). Please send fewer.',
      type: 'RateLimitError',
      param: null,
      code: 429,
    });
    expect(r.engineUntouched).toBe(true);
  });

  it('refuses n 128 × 131,000 tokens with ignore_eos, streamed or not, with 400 naming max_tokens', async () => {
    const prompt = await promptTokensOf(service, { messages });
    for (const stream of [true, false]) {
      const body = { model: MODEL, messages, n: 128, max_tokens: 131_000, ignore_eos: true, stream };
      const r = await refusedBefore(service, '/v1/chat/completions', body);
      expect(r.status).toBe(400);
      expect(r.error.param).toBe('max_tokens');
      expect(r.error.message).toBe(
        `This request asks for ${128 * (prompt + 131_000)} tokens: 128 choices of prompt plus max_tokens (ignore_eos). One request may take at most 1048576 on this server (NIMSIM_MAX_TOKENS_PER_REQUEST); please reduce n or max_tokens.`,
      );
      expect(r.engineUntouched).toBe(true);
    }
  });

  it('serves n 128 × max_tokens 131,000 when the answers end on their own', async () => {
    const res = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages,
      n: 128,
      max_tokens: 131_000,
      stream: true,
    });
    expect(res.status).toBe(200);
    const finished = (await readSse(res)).filter(
      (e): e is Json => typeof e === 'object' && (e as Json).choices?.[0]?.finish_reason != null,
    );
    expect(finished).toHaveLength(128);
    expect(new Set(finished.map((e) => e.choices[0].finish_reason))).toEqual(new Set(['stop']));
  });
});

describe('the token bound (NIMSIM_MAX_TOKENS_PER_REQUEST)', () => {
  const service = testService({ maxTokensPerRequest: '2000', maxModelLen: '1024' });

  it('lets n × (prompt + max_tokens) with ignore_eos reach the bound, and refuses one token more', async () => {
    const prompt = await promptTokensOf(service, { messages });
    const maxTokens = 1000 - prompt;
    const ok = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages,
      n: 2,
      max_tokens: maxTokens,
      ignore_eos: true,
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Json).usage.completion_tokens).toBe(2 * maxTokens);
    const over = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages,
      n: 2,
      max_completion_tokens: maxTokens + 1,
      nvext: { ignore_eos: true },
    });
    expect(over.status).toBe(400);
    expect(((await over.json()) as Json).error).toMatchObject({
      message: `This request asks for 2002 tokens: 2 choices of prompt plus max_completion_tokens (ignore_eos). One request may take at most 2000 on this server (NIMSIM_MAX_TOKENS_PER_REQUEST); please reduce n or max_completion_tokens.`,
      param: 'max_completion_tokens',
    });
  });

  it('counts answers that end on their own as they are planned: n 16 without max_tokens is refused mid-way, n 4 served', async () => {
    const over = await postJson(service, '/v1/chat/completions', { model: MODEL, messages, n: 16, seed: 1 });
    expect(over.status).toBe(400);
    expect(((await over.json()) as Json).error).toMatchObject({
      message:
        "This request's 16 choices plan more than 2000 tokens (prompt plus output), the most one request may take on this server (NIMSIM_MAX_TOKENS_PER_REQUEST); please reduce n or max_tokens.",
      param: 'max_tokens',
    });
    const ok = await postJson(service, '/v1/chat/completions', { model: MODEL, messages, n: 4, seed: 1 });
    expect(ok.status).toBe(200);
  });

  it('refuses a batch of completions by the sum over its prompts, before planning', async () => {
    // 4 prompts × n 2 × (2 prompt tokens + 250) = 2016
    const r = await refusedBefore(service, '/v1/completions', {
      model: MODEL,
      prompt: ['a', 'b', 'c', 'd'],
      n: 2,
      max_tokens: 250,
      ignore_eos: true,
    });
    expect(r.status).toBe(400);
    expect(r.error.message).toBe(
      'This request asks for 2016 tokens: 8 choices (4 prompts × n 2) of prompt plus max_tokens (ignore_eos). One request may take at most 2000 on this server (NIMSIM_MAX_TOKENS_PER_REQUEST); please reduce n or max_tokens.',
    );
    expect(r.engineUntouched).toBe(true);
  });

  it('never falls below the context length: one choice of the whole context passes', async () => {
    const tight = testService({ maxTokensPerRequest: '100', maxModelLen: '1024' });
    const prompt = await promptTokensOf(tight, { messages });
    const res = await postJson(tight, '/v1/chat/completions', { model: MODEL, messages, ignore_eos: true });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).usage.completion_tokens).toBe(1024 - prompt);
  });
});

describe('the logprobs bound (NIMSIM_MAX_LOGPROBS_PER_REQUEST)', () => {
  const service = testService({ maxLogprobsPerRequest: '300' });

  it('counts 1 + top_logprobs per token: 100 tokens × 3 passes, 101 is 400 naming top_logprobs', async () => {
    const ask = (maxTokens: number) =>
      postJson(service, '/v1/chat/completions', {
        model: MODEL,
        messages,
        max_tokens: maxTokens,
        ignore_eos: true,
        logprobs: true,
        top_logprobs: 2,
      });
    const ok = await ask(100);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Json).choices[0].logprobs.content).toHaveLength(100);
    const over = await ask(101);
    expect(over.status).toBe(400);
    expect(((await over.json()) as Json).error).toMatchObject({ param: 'top_logprobs' });
  });

  it('names logprobs when no alternatives are asked for', async () => {
    const res = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages,
      max_tokens: 301,
      ignore_eos: true,
      logprobs: true,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.message).toBe(
      'This request asks for 301 logprobs over its 1 choice, 1 per token (the token and 0 alternatives). One response may carry at most 300 on this server (NIMSIM_MAX_LOGPROBS_PER_REQUEST); please reduce n, max_tokens or logprobs.',
    );
  });

  it("counts a completion's echoed prompt once per choice", async () => {
    const prompt = [Array.from({ length: 150 }, (_, i) => 1000 + i)];
    const ask = (n: number) =>
      postJson(service, '/v1/completions', {
        model: MODEL,
        prompt,
        echo: true,
        logprobs: 1,
        max_tokens: 0,
        n,
      });
    const ok = await ask(1); // 150 × 2 = 300
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Json).choices[0].logprobs.tokens).toHaveLength(150);
    const over = await ask(2);
    expect(over.status).toBe(400);
    expect(((await over.json()) as Json).error).toMatchObject({ param: 'logprobs' });
  });

  it('refuses a streamed echo whose first chunk would carry more than 8,192 logprobs, and serves it unstreamed', async () => {
    const big = testService();
    const prompt = [Array.from({ length: 3200 }, (_, i) => 1000 + i)];
    const body = { model: MODEL, prompt, echo: true, logprobs: 20, max_tokens: 1 };
    const streamed = await postJson(big, '/v1/completions', { ...body, stream: true });
    expect(streamed.status).toBe(400);
    expect(((await streamed.json()) as Json).error).toMatchObject({ param: 'logprobs', code: 400 });
    const whole = await postJson(big, '/v1/completions', body);
    expect(whole.status).toBe(200);
    expect(((await whole.json()) as Json).choices[0].logprobs.tokens).toHaveLength(3201);
    // 300 prompt tokens and the first generated one, 21 entries each (6,321): one chunk carries them.
    const small = [prompt[0]!.slice(0, 300)];
    const fits = await postJson(big, '/v1/completions', { ...body, prompt: small, stream: true });
    expect(fits.status).toBe(200);
    expect(await fits.text()).toContain('data: [DONE]');
  });

  it('writes a logprobs body in parts (chunked, no content-length) that parses to the same shape', async () => {
    const res = await postJson(service, '/v1/completions', {
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 40,
      ignore_eos: true,
      logprobs: 5,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('content-length')).toBeNull();
    const lp = ((await res.json()) as Json).choices[0].logprobs;
    expect(lp.tokens).toHaveLength(40);
    expect(lp.token_logprobs).toHaveLength(40);
    expect(lp.top_logprobs.every((t: Json) => Object.keys(t).length <= 5)).toBe(true);
    expect(lp.text_offset[0]).toBe(0);
  });
});

describe('queue room', () => {
  it('refuses with 429 a request whose sequences do not all fit the room left, and takes the one that fits', async () => {
    // One running slot and real time: the first request holds it, the next ones wait.
    const service = testService({ timeScale: '1', maxNumSeqs: '1', maxWaiting: '4' });
    const long = { model: MODEL, messages, max_tokens: 5000, ignore_eos: true, stream: true };
    const running = await postJson(service, '/v1/chat/completions', long);
    const reader = running.body!.getReader();
    try {
      // The role chunk comes at once; a content chunk means the request holds the running slot.
      let seen = '';
      while (!seen.includes('"content":"') || !/"content":"[^"]/.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the long stream ended early');
        seen += new TextDecoder().decode(value);
      }
      const waiting = await postJson(service, '/v1/chat/completions', { ...long, n: 3 });
      expect(service.runtime.engine.stats().waiting).toBe(3);
      const refused = await postJson(service, '/v1/chat/completions', {
        model: MODEL,
        messages,
        n: 2,
        max_tokens: 1,
      });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as Json).error.message).toBe(
        "The waiting queue has room for 1 of this request's 2 sequences (n 2; 4 at most). Retry later.",
      );
      expect(service.runtime.engine.stats().waiting).toBe(3);
      await waiting.body!.cancel();
    } finally {
      await reader.cancel();
    }
  });
});
