import { describe, expect, it } from 'vitest';
import { postJson, readSse, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('NIM management routes', () => {
  const service = testService();

  it('lists the served model with NIM/vLLM fields', async () => {
    const body = (await (await service.app.request('/v1/models')).json()) as Json;
    expect(body.object).toBe('list');
    expect(body.data).toHaveLength(1);
    const m = body.data[0];
    expect(m).toMatchObject({ id: MODEL, object: 'model', root: MODEL, owned_by: expect.any(String) });
    expect(m.max_model_len).toBe(131072);
    expect(typeof m.created).toBe('number');
  });

  it('serves every name of NIM_SERVED_MODEL_NAME', async () => {
    const s = testService({ servedModelName: 'alias-a, alias-b' });
    const body = (await (await s.app.request('/v1/models')).json()) as Json;
    expect(body.data.map((m: Json) => m.id)).toEqual(['alias-a', 'alias-b']);
    const chat = await postJson(s, '/v1/chat/completions', {
      model: 'alias-b',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
    });
    expect(chat.status).toBe(200);
  });

  it('is live at once and ready when there is no load delay', async () => {
    expect((await service.app.request('/v1/health/live')).status).toBe(200);
    const ready = await service.app.request('/v1/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.headers.get('system-health')).toBe('True');
    expect(await ready.json()).toEqual({
      object: 'health.response',
      message: 'Service is ready.',
      status: 'ready',
    });
  });

  it('is not ready, and refuses inference with 503, until the simulated load has passed', async () => {
    const s = testService({ readyDelayMs: '60000' });
    expect((await s.app.request('/v1/health/live')).status).toBe(200);
    const ready = await s.app.request('/v1/health/ready');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as Json).error.type).toBe('ServiceUnavailableError');
    const chat = await postJson(s, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chat.status).toBe(503);
  });

  it('reports version and metadata with the active profile', async () => {
    const version = (await (await service.app.request('/v1/version')).json()) as Json;
    expect(version).toEqual({ release: expect.stringMatching(/^\d+\.\d+\.\d+/), api: '3.1.0' });
    const meta = (await (await service.app.request('/v1/metadata')).json()) as Json;
    expect(meta.modelInfo[0].shortName).toBe(MODEL);
    expect(meta.selectedModelProfileId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('serves the license file as NIM 2.x does, with its sha-256 and size', async () => {
    const body = (await (await service.app.request('/v1/license')).json()) as Json;
    expect(body).toMatchObject({ name: 'Apache-2.0', path: 'LICENSE', type: 'file' });
    expect(body.content).toContain('Apache License');
    expect(body.size).toBe(Buffer.byteLength(body.content));
    expect(body.sha).toMatch(/^[0-9a-f]{64}$/);
  });

  it('tokenizes and detokenizes round trip', async () => {
    const tok = (await (
      await postJson(service, '/tokenize', { model: MODEL, prompt: 'Hello world' })
    ).json()) as Json;
    expect(tok.tokens).toEqual([128000, 9906, 1917]);
    expect(tok.count).toBe(3);
    const detok = (await (
      await postJson(service, '/detokenize', { model: MODEL, tokens: [9906, 1917] })
    ).json()) as Json;
    expect(detok.prompt).toBe('Hello world');
  });

  it('publishes an OpenAPI document generated from the request schemas, and /docs', async () => {
    const spec = (await (await service.app.request('/openapi.json')).json()) as Json;
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toContain('/v1/chat/completions');
    expect(spec.components.schemas.ChatCompletionRequest.properties.messages.type).toBe('array');
    expect(Object.keys(spec.paths)).toContain('/v1/responses');
    const responses = spec.components.schemas.ResponsesRequest;
    expect(responses.required).toEqual(expect.arrayContaining(['model', 'input']));
    expect(responses.properties.input.anyOf).toEqual([{ type: 'string' }, { type: 'array', items: {} }]);
    expect(responses.properties.tools.anyOf[0].items.properties.name.type).toBe('string');
    const docs = await service.app.request('/docs');
    expect(docs.status).toBe(200);
    const page = await docs.text();
    expect(page).toContain('/openapi.json');
    // Offline: every script and stylesheet comes from nimsim itself.
    expect(page).not.toMatch(/(src|href)="https?:/);
    const css = await service.app.request('/docs/swagger-ui.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(await css.text()).toContain('.swagger-ui');
    const js = await service.app.request('/docs/swagger-ui-bundle.js');
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(100_000);
  });

  it('answers an unknown route with an OpenAI-shaped 404', async () => {
    const res = await service.app.request('/v1/nope');
    expect(res.status).toBe(404);
    expect(((await res.json()) as Json).error.type).toBe('NotFoundError');
  });
});

describe('POST /v1/completions', () => {
  const service = testService();

  it('completes a prompt with the default 16 tokens at most', async () => {
    const body = (await (
      await postJson(service, '/v1/completions', { model: MODEL, prompt: 'Once upon a time' })
    ).json()) as Json;
    expect(body.object).toBe('text_completion');
    expect(body.id).toMatch(/^cmpl-/);
    expect(body.usage.prompt_tokens).toBe(5); // <|begin_of_text|> + 4 tokens
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(16);
  });

  it('echoes the prompt and returns integer logprobs', async () => {
    const body = (await (
      await postJson(service, '/v1/completions', {
        model: MODEL,
        prompt: 'Once upon a time',
        max_tokens: 4,
        ignore_eos: true,
        echo: true,
        logprobs: 2,
      })
    ).json()) as Json;
    const choice = body.choices[0];
    expect(choice.text.startsWith('Once upon a time')).toBe(true);
    // vLLM echoes the prompt's logprobs too (prompt_logprobs = logprobs): BOS first, with none.
    const lp = choice.logprobs;
    expect(lp.tokens.slice(0, 5)).toEqual(['<|begin_of_text|>', 'Once', ' upon', ' a', ' time']);
    expect(lp.tokens).toHaveLength(5 + 4);
    expect(lp.token_logprobs[0]).toBeNull();
    expect(lp.top_logprobs[0]).toBeNull();
    for (let i = 1; i < 9; i++) {
      expect(lp.token_logprobs[i]).toBeLessThan(0);
      expect(Object.keys(lp.top_logprobs[i])).toHaveLength(2);
    }
    // Offsets run over the token strings, BOS included, as vLLM's _create_completion_logprobs.
    expect(lp.text_offset.slice(0, 6)).toEqual([0, 17, 21, 26, 28, 33]);
  });

  it('echoes the prompt alone with max_tokens 0, and refuses max_tokens 0 without echo', async () => {
    const echoOnly = {
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 0,
      echo: true,
      logprobs: 1,
    };
    const body = (await (await postJson(service, '/v1/completions', echoOnly)).json()) as Json;
    const choice = body.choices[0];
    expect(choice.text).toBe('Once upon a time');
    expect(choice.logprobs.tokens).toEqual(['<|begin_of_text|>', 'Once', ' upon', ' a', ' time']);
    expect(choice.finish_reason).toBe('length');
    // vLLM runs one token for it and counts it.
    expect(body.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 1 });

    const frames = (await readSse(
      await postJson(service, '/v1/completions', { ...echoOnly, stream: true }),
    )) as Json[];
    const chunks = frames.slice(0, -1);
    expect(chunks.map((f) => f.choices[0].text).join('')).toBe('Once upon a time');
    expect(chunks[0]!.choices[0].logprobs.tokens).toHaveLength(5);

    const refused = await postJson(service, '/v1/completions', { ...echoOnly, echo: false });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Json).error.message).toContain('max_tokens must be at least 1, got 0.');
  });

  it('does not read the prefix cache for echo with logprobs (vLLM skips it for prompt logprobs)', async () => {
    const fresh = testService();
    // 80 words: several full KV blocks, so a repeat would find the first ones cached.
    const prompt = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    const cachedOf = async (extra: Record<string, unknown>) => {
      const body = (await (
        await postJson(fresh, '/v1/completions', { model: MODEL, prompt, max_tokens: 2, ...extra })
      ).json()) as Json;
      return body.usage.prompt_tokens_details.cached_tokens as number;
    };
    expect(await cachedOf({})).toBe(0);
    expect(await cachedOf({})).toBeGreaterThan(0);
    expect(await cachedOf({ echo: true, logprobs: 0 })).toBe(0);
    // Echo alone needs no prompt logprobs, and logprobs alone only the generated tokens'.
    expect(await cachedOf({ echo: true })).toBeGreaterThan(0);
    expect(await cachedOf({ logprobs: 1 })).toBeGreaterThan(0);
  });

  it('streams the echoed prompt with its logprobs in the first chunk', async () => {
    const frames = (await readSse(
      await postJson(service, '/v1/completions', {
        model: MODEL,
        prompt: 'Once upon a time',
        max_tokens: 3,
        ignore_eos: true,
        echo: true,
        logprobs: 0,
        stream: true,
      }),
    )) as Json[];
    const first = frames[0]!.choices[0];
    expect(first.text.startsWith('Once upon a time')).toBe(true);
    expect(first.logprobs.tokens.slice(0, 5)).toEqual(['<|begin_of_text|>', 'Once', ' upon', ' a', ' time']);
    expect(first.logprobs.tokens).toHaveLength(6);
    expect(first.logprobs.top_logprobs[0]).toBeNull();
    expect(frames[1]!.choices[0].logprobs.tokens).toHaveLength(1);
  });

  it('streams text chunks and a usage chunk', async () => {
    const frames = (await readSse(
      await postJson(service, '/v1/completions', {
        model: MODEL,
        prompt: 'Hi',
        max_tokens: 5,
        ignore_eos: true,
        stream: true,
        stream_options: { include_usage: true },
      }),
    )) as Json[];
    expect(frames.at(-1)).toBe('[DONE]');
    const usage = frames.at(-2)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBe(5);
    expect(frames.slice(0, -2).every((f) => f.object === 'text_completion')).toBe(true);
  });

  it('accepts token-id prompts and a batch of prompts', async () => {
    const ids = (await (
      await postJson(service, '/v1/completions', { model: MODEL, prompt: [9906, 1917], max_tokens: 2 })
    ).json()) as Json;
    expect(ids.usage.prompt_tokens).toBe(2);
    const batch = (await (
      await postJson(service, '/v1/completions', { model: MODEL, prompt: ['a', 'b'], n: 2, max_tokens: 2 })
    ).json()) as Json;
    expect(batch.choices.map((c: Json) => c.index)).toEqual([0, 1, 2, 3]);
  });
});

describe('metrics', () => {
  it('serves the same text on /metrics and /v1/metrics with NIM and vLLM names', async () => {
    const service = testService();
    await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 7,
      ignore_eos: true,
    });
    const a = await (await service.app.request('/metrics')).text();
    const b = await (await service.app.request('/v1/metrics')).text();
    const stable = (t: string) =>
      t
        .split('\n')
        .filter((l) => !l.startsWith('nimsim_http_requests_total'))
        .join('\n');
    expect(stable(a)).toBe(stable(b));
    for (const name of [
      'num_requests_running',
      'num_request_max',
      'gpu_cache_usage_perc',
      'vllm:kv_cache_usage_perc',
      'vllm:prefix_cache_queries_total',
      'nimsim_engine_step_lag_seconds',
      'vllm:cache_config_info',
    ]) {
      expect(a).toContain(`# TYPE ${name} `);
    }
    expect(a).toContain(`generation_tokens_total{model_name="${MODEL}"} 7`);
    expect(a).toContain(`vllm:generation_tokens_total{model_name="${MODEL}",engine="0"} 7`);
    expect(a).toContain(`request_success_total{model_name="${MODEL}",finished_reason="length"} 1`);
  });
});

describe('security', () => {
  it('guards inference routes with NIMSIM_API_KEY but leaves health and metrics open', async () => {
    const s = testService({ apiKey: 'sekret' });
    const denied = await postJson(s, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as Json).error.type).toBe('AuthenticationError');
    const ok = await postJson(
      s,
      '/v1/chat/completions',
      { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 },
      { authorization: 'Bearer sekret' },
    );
    expect(ok.status).toBe(200);
    expect((await s.app.request('/v1/health/ready')).status).toBe(200);
    expect((await s.app.request('/v1/metrics')).status).toBe(200);
  });

  it('hides /admin without a token and guards it with one', async () => {
    expect((await testService().app.request('/admin/kv-cache')).status).toBe(404);
    const s = testService({ adminToken: 'adm' });
    expect((await s.app.request('/admin/kv-cache')).status).toBe(401);
    const res = await s.app.request('/admin/config', { headers: { authorization: 'Bearer adm' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).NIMSIM_ADMIN_TOKEN).toBe('***');
  });

  it('answers 413 for a body over the limit', async () => {
    const s = testService({ maxBodyBytes: '2048' });
    const res = await postJson(s, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'x'.repeat(5000) }],
    });
    expect(res.status).toBe(413);
  });
});
