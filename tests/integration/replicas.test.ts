/**
 * `serve --replicas N` through app.request(): each response names the replica that served it
 * (header, access log, per-request stats), a session sticks to its replica, the n choices of one
 * request stay together, /admin/kv-cache reports and resets replicas one by one, and /metrics
 * labels each replica's vllm: series with its index and sums NIM's.
 */
import { describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from '../helpers/prom-text.js';
import { postJson, readSse, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
/** /admin/* answers only behind its token. */
const ADMIN = { adminToken: 'adm' };
const AUTH = { headers: { authorization: 'Bearer adm' } };
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const chat = (content: string, extra: Json = {}) => ({
  model: MODEL,
  messages: [
    { role: 'system', content: 'You are a helpful assistant. '.repeat(20) },
    { role: 'user', content },
  ],
  max_tokens: 4,
  ...extra,
});

describe('several replicas behind one endpoint', () => {
  it('names the replica in a header, and round-robin visits each in turn', async () => {
    const s = testService({ replicas: '3', router: 'round-robin' });
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await postJson(s, '/v1/chat/completions', chat(`question ${i}`));
      expect(res.status).toBe(200);
      seen.push(res.headers.get('x-nimsim-replica')!);
      await res.json();
    }
    expect(seen).toEqual(['0', '1', '2', '0', '1', '2']);
  });

  it('streams name their replica too, and a session sticks to it', async () => {
    const s = testService({ replicas: '4', router: 'session' });
    const replicas = new Set<string>();
    for (let turn = 0; turn < 5; turn++) {
      const res = await postJson(
        s,
        '/v1/chat/completions',
        chat(`turn ${turn}`, { stream: true, user: 'alice' }),
      );
      expect(res.status).toBe(200);
      replicas.add(res.headers.get('x-nimsim-replica')!);
      const frames = await readSse(res);
      expect(frames.at(-1)).toBe('[DONE]');
    }
    expect(replicas.size).toBe(1);
  });

  it('keeps the n choices of one request on one replica', async () => {
    const s = testService({ ...ADMIN, replicas: '4', router: 'round-robin' });
    await (await postJson(s, '/v1/completions', { model: MODEL, prompt: 'warm', max_tokens: 2 })).json();
    const res = await postJson(s, '/v1/completions', { model: MODEL, prompt: 'hello', max_tokens: 3, n: 3 });
    expect(res.headers.get('x-nimsim-replica')).toBe('1');
    const body = (await res.json()) as Json;
    expect(body.choices).toHaveLength(3);
    const kv = (await (await s.app.request('/admin/kv-cache', AUTH)).json()) as Json;
    expect(kv.replicas.map((r: Json) => r.routed_requests)).toEqual([1, 3, 0, 0]);
  });

  it('puts the replica in the per-request stats', async () => {
    const s = testService({ replicas: '2', router: 'round-robin' }, { NIM_PER_REQ_METRICS_ENABLE: '1' });
    await (await postJson(s, '/v1/chat/completions', chat('a'))).json();
    const body = (await (await postJson(s, '/v1/chat/completions', chat('b'))).json()) as Json;
    expect(body.stats.replica).toBe(1);
  });

  it('reports each replica’s cache and resets one alone', async () => {
    const s = testService({ ...ADMIN, replicas: '2', router: 'round-robin' });
    for (let i = 0; i < 4; i++) await (await postJson(s, '/v1/chat/completions', chat('same'))).json();
    const before = (await (await s.app.request('/admin/kv-cache', AUTH)).json()) as Json;
    expect(before.replicas).toHaveLength(2);
    const cachedOf = (r: Json) => r.gpu.cached as number;
    expect(before.replicas.map(cachedOf).every((n: number) => n > 0)).toBe(true);
    expect(before.gpu.cached).toBe(before.replicas.map(cachedOf).reduce((a: number, b: number) => a + b));
    // Each replica saw the prompt twice: its second look found the first one's blocks.
    for (const r of before.replicas) expect(r.hit_tokens).toBeGreaterThan(0);

    const reset = await s.app.request('/admin/kv-cache/reset?replica=1', { method: 'POST', ...AUTH });
    expect(reset.status).toBe(200);
    expect(((await reset.json()) as Json).replica).toBe(1);
    const after = (await (await s.app.request('/admin/kv-cache', AUTH)).json()) as Json;
    expect(after.replicas[0].gpu.cached).toBe(before.replicas[0].gpu.cached);
    expect(after.replicas[1].gpu.cached).toBe(0);

    const bad = await s.app.request('/admin/kv-cache/reset?replica=2', { method: 'POST', ...AUTH });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).error.message).toMatch(/replica must be an integer from 0 to 1/);
  });

  it('labels each replica’s vllm: series with engine="<i>" and sums the NIM series', async () => {
    const s = testService({ replicas: '2', router: 'round-robin' });
    for (let i = 0; i < 3; i++) await (await postJson(s, '/v1/chat/completions', chat(`q${i}`))).json();
    const exp = parseExposition(await (await s.app.request('/metrics')).text());
    const m = { model_name: MODEL };
    const e0 = sampleValue(exp, 'vllm:request_success_total', {
      ...m,
      engine: '0',
      finished_reason: 'length',
    });
    const e1 = sampleValue(exp, 'vllm:request_success_total', {
      ...m,
      engine: '1',
      finished_reason: 'length',
    });
    expect([e0, e1]).toEqual([2, 1]);
    expect(sampleValue(exp, 'request_success_total', { ...m, finished_reason: 'length' })).toBe(3);
    expect(sampleValue(exp, 'nimsim_router_requests_total', { ...m, replica: '0' })).toBe(2);
    expect(sampleValue(exp, 'vllm:cache_config_info', { engine: '1' })).toBe(1);
    const gen0 = sampleValue(exp, 'vllm:generation_tokens_total', { ...m, engine: '0' });
    const gen1 = sampleValue(exp, 'vllm:generation_tokens_total', { ...m, engine: '1' });
    expect(sampleValue(exp, 'generation_tokens_total', m)).toBe(gen0 + gen1);
  });

  it('sends no replica header with one replica', async () => {
    const s = testService(ADMIN);
    const res = await postJson(s, '/v1/chat/completions', chat('x'));
    expect(res.headers.get('x-nimsim-replica')).toBeNull();
    const kv = (await (await s.app.request('/admin/kv-cache', AUTH)).json()) as Json;
    expect(kv.replicas).toBeUndefined();
  });
});
