/**
 * LoRA adapters through the app (docs/lora.md): NIM_PEFT_SOURCE's folders listed by /v1/models
 * under their base model, requests naming one run with it in KV blocks of its own, vLLM's load and
 * unload routes behind the admin token, the directory refreshed at run time, and the
 * vllm:lora_requests_info gauge.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config/config.js';
import type { EngineStats } from '../../src/engine/types.js';
import { registerLoraMetrics } from '../../src/metrics/lora-metrics.js';
import { hfAdapter, nemoAdapter, peftSourceDir } from '../helpers/lora-dirs.js';
import { postJson, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A prompt of several KV blocks, the same for every request. */
const messages = [
  {
    role: 'user',
    content: Array.from({ length: 120 }, (_, i) => ['alpha', 'river', 'stone', 'light'][i % 4]).join(' '),
  },
];

const source = peftSourceDir();
const sqlPath = hfAdapter(source.dir, 'sql-lora', {
  r: 16,
  base_model_name_or_path: 'meta-llama/Llama-3.1-8B-Instruct',
  target_modules: ['q_proj', 'v_proj'],
});
const mathPath = nemoAdapter(source.dir, 'math-lora');
mkdirSync(join(source.dir, 'not-an-adapter'));
hfAdapter(source.dir, 'too-big', { r: 64 });
afterAll(() => source.cleanup());

const chat = async (service: ReturnType<typeof testService>, model: string) => {
  const res = await postJson(service, '/v1/chat/completions', { model, messages, max_tokens: 4 });
  return { status: res.status, body: (await res.json()) as Json };
};

describe('NIM_PEFT_SOURCE adapters', () => {
  const service = testService({ peftSource: source.dir });

  it('lists each valid adapter folder after the base model, with parent = the base model and root = its path', async () => {
    const body = (await (await service.app.request('/v1/models')).json()) as Json;
    expect(body.data.map((m: Json) => m.id)).toEqual([MODEL, 'math-lora', 'sql-lora']);
    const [base, math, sql] = body.data as Json[];
    expect(base!.parent).toBeNull();
    expect(math).toMatchObject({ object: 'model', root: mathPath, parent: MODEL, max_model_len: null });
    expect(sql).toMatchObject({ root: sqlPath, parent: MODEL });
  });

  it('runs a request naming an adapter on the base model and answers under the adapter name', async () => {
    const { status, body } = await chat(service, 'sql-lora');
    expect(status).toBe(200);
    expect(body.model).toBe('sql-lora');
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
  });

  it('shares no cached prefix across adapters or with the base model, and reuses one adapter own', async () => {
    const first = await chat(service, 'math-lora');
    expect(first.body.usage.prompt_tokens_details.cached_tokens).toBe(0);
    const again = await chat(service, 'math-lora');
    expect(again.body.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
    // sql-lora ran this prompt above; the base model has not.
    const base = await chat(service, MODEL);
    expect(base.body.usage.prompt_tokens_details.cached_tokens).toBe(0);
    const sql = await chat(service, 'sql-lora');
    expect(sql.body.usage.prompt_tokens_details.cached_tokens).toBe(
      again.body.usage.prompt_tokens_details.cached_tokens,
    );
  });

  it('answers 404 for a folder that is not a valid adapter or is over NIM_MAX_LORA_RANK', async () => {
    for (const model of ['not-an-adapter', 'too-big']) {
      const { status, body } = await chat(service, model);
      expect(status).toBe(404);
      expect(body.error.message).toBe(`The model \`${model}\` does not exist.`);
    }
  });

  it('serves the adapters on /v1/completions and /tokenize too', async () => {
    const res = await postJson(service, '/v1/completions', {
      model: 'sql-lora',
      prompt: 'Hello',
      max_tokens: 2,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).model).toBe('sql-lora');
    const tok = await postJson(service, '/tokenize', { model: 'sql-lora', prompt: 'Hello' });
    expect(tok.status).toBe(200);
  });

  it('exports vllm:lora_requests_info with max_lora, and counts adapter requests under the base model name', async () => {
    const text = await (await service.app.request('/metrics')).text();
    expect(text).toMatch(
      /^vllm:lora_requests_info\{max_lora="8",waiting_lora_adapters="",running_lora_adapters=""\} \d+(\.\d+)?(e\+\d+)?$/m,
    );
    expect(text).not.toMatch(/model_name="sql-lora"/);
  });
});

describe('vllm:lora_requests_info', () => {
  it('is the current time under labels naming the running and waiting adapters, each old label set kept', async () => {
    const registry = new Registry();
    let loras = { maxLoras: 2, running: ['a', 'b'], waiting: ['c'] };
    registerLoraMetrics(
      registry,
      () => ({ loraAdapters: loras }) as unknown as EngineStats,
      () => 1700000000.5,
    );
    const first = await registry.metrics();
    expect(first).toContain(
      'vllm:lora_requests_info{max_lora="2",waiting_lora_adapters="c",running_lora_adapters="a,b"} 1700000000.5',
    );
    loras = { maxLoras: 2, running: ['c'], waiting: [] };
    const second = await registry.metrics();
    expect(second).toContain('running_lora_adapters="a,b"');
    expect(second).toContain(
      'vllm:lora_requests_info{max_lora="2",waiting_lora_adapters="",running_lora_adapters="c"}',
    );
  });

  it('is absent with LoRA off', async () => {
    const text = await (await testService().app.request('/metrics')).text();
    expect(text).not.toContain('vllm:lora_requests_info');
  });
});

describe('POST /v1/load_lora_adapter and /v1/unload_lora_adapter', () => {
  const auth = { authorization: 'Bearer adm' };

  it('do not exist without the admin token (404), and need it when it is set (401)', async () => {
    const open = testService({ peftSource: source.dir });
    const res = await postJson(open, '/v1/load_lora_adapter', { lora_name: 'x', lora_path: sqlPath });
    expect(res.status).toBe(404);
    const guarded = testService({ peftSource: source.dir, adminToken: 'adm' });
    expect((await postJson(guarded, '/v1/unload_lora_adapter', { lora_name: 'sql-lora' })).status).toBe(401);
  });

  it("load an adapter, refuse a name already loaded with vLLM's 400, and unload it", async () => {
    const service = testService({ peftSource: source.dir, adminToken: 'adm' });
    const load = await postJson(
      service,
      '/v1/load_lora_adapter',
      { lora_name: 'sql-v2', lora_path: sqlPath },
      auth,
    );
    expect(load.status).toBe(200);
    expect(await load.text()).toBe("Success: LoRA adapter 'sql-v2' added successfully.");
    expect((await chat(service, 'sql-v2')).status).toBe(200);
    const models = (await (await service.app.request('/v1/models')).json()) as Json;
    expect(models.data.map((m: Json) => m.id)).toContain('sql-v2');

    const again = await postJson(
      service,
      '/v1/load_lora_adapter',
      { lora_name: 'sql-v2', lora_path: sqlPath },
      auth,
    );
    expect(again.status).toBe(400);
    expect(((await again.json()) as Json).error).toEqual({
      message:
        "The lora adapter 'sql-v2' has already been loaded. If you want to load the adapter in place, set 'load_inplace' to True.",
      type: 'InvalidUserInput',
      param: null,
      code: 400,
    });
    const inplace = await postJson(
      service,
      '/v1/load_lora_adapter',
      { lora_name: 'sql-v2', lora_path: sqlPath, load_inplace: true },
      auth,
    );
    expect(inplace.status).toBe(200);

    const unload = await postJson(service, '/v1/unload_lora_adapter', { lora_name: 'sql-v2' }, auth);
    expect(unload.status).toBe(200);
    expect(await unload.text()).toBe("Success: LoRA adapter 'sql-v2' removed successfully.");
    expect((await chat(service, 'sql-v2')).status).toBe(404);
    const gone = await postJson(service, '/v1/unload_lora_adapter', { lora_name: 'sql-v2' }, auth);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as Json).error).toMatchObject({
      message: "The lora adapter 'sql-v2' cannot be found.",
      type: 'NotFoundError',
    });
  });

  it("answer vLLM's errors for a missing name, a missing folder and a rank over the limit", async () => {
    const service = testService({ peftSource: source.dir, adminToken: 'adm', maxLoraRank: '16' });
    const cases: [unknown, number, string][] = [
      [{ lora_name: 'x' }, 400, "Both 'lora_name' and 'lora_path' must be provided."],
      [
        { lora_name: 'x', lora_path: join(source.dir, 'nowhere') },
        404,
        `Loading lora x failed: No adapter found for ${join(source.dir, 'nowhere')}`,
      ],
      [
        { lora_name: 'x', lora_path: join(source.dir, 'too-big') },
        400,
        'LoRA rank 64 is greater than max_lora_rank 16.',
      ],
    ];
    for (const [body, status, message] of cases) {
      const res = await postJson(service, '/v1/load_lora_adapter', body, auth);
      expect(res.status).toBe(status);
      expect(((await res.json()) as Json).error.message).toBe(message);
    }
    const noName = await postJson(service, '/v1/unload_lora_adapter', {}, auth);
    expect(noName.status).toBe(400);
  });

  it('refuse to load when LoRA is off (no NIM_PEFT_SOURCE)', async () => {
    const service = testService({ adminToken: 'adm' });
    const res = await postJson(
      service,
      '/v1/load_lora_adapter',
      { lora_name: 'x', lora_path: sqlPath },
      auth,
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.message).toMatch(/^LoRA is not enabled/);
  });
});

describe('NIM_PEFT_REFRESH_INTERVAL', () => {
  afterEach(() => vi.useRealTimers());

  it('picks up an adapter folder added at run time and drops one removed, at the next refresh', async () => {
    const own = peftSourceDir();
    try {
      hfAdapter(own.dir, 'first');
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const service = testService({ peftSource: own.dir, peftRefreshInterval: '30' });
      const ids = async () =>
        ((await (await service.app.request('/v1/models')).json()) as Json).data.map((m: Json) => m.id);
      expect(await ids()).toEqual([MODEL, 'first']);
      hfAdapter(own.dir, 'second');
      vi.advanceTimersByTime(29_000);
      expect(await ids()).toEqual([MODEL, 'first']);
      vi.advanceTimersByTime(1_000);
      expect(await ids()).toEqual([MODEL, 'first', 'second']);
      expect((await chat(service, 'second')).status).toBe(200);
      rmSync(join(own.dir, 'first'), { recursive: true });
      vi.advanceTimersByTime(30_000);
      expect(await ids()).toEqual([MODEL, 'second']);
      service.loras!.close();
    } finally {
      own.cleanup();
    }
  });

  it('reads the directory once at start without it', async () => {
    const own = peftSourceDir();
    try {
      const service = testService({ peftSource: own.dir });
      hfAdapter(own.dir, 'late');
      expect(service.loras!.refresh().loaded).toEqual(['late']);
    } finally {
      own.cleanup();
    }
  });
});

describe('a bad NIM_PEFT_SOURCE', () => {
  it('is a ConfigError naming it (exit 2)', () => {
    expect(() => testService({ peftSource: join(source.dir, 'missing') })).toThrow(ConfigError);
    expect(() => testService({ peftSource: join(source.dir, 'missing') })).toThrow(
      /^--peft-source=\S*missing: no such directory/,
    );
  });
});
