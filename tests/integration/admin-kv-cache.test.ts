/**
 * GET /admin/kv-cache and POST /admin/kv-cache/reset: the KV cache's state as the engine reports
 * it, checked against what the clients were told (usage.prompt_tokens, cached_tokens) and against
 * the settings. A GPU cache of 40 blocks makes a long unrelated prompt evict the first
 * conversation's blocks to the host tier (or the disk tier), where the next turn finds them.
 */
import { describe, expect, it } from 'vitest';
import { postJson, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const AUTH = { authorization: 'Bearer adm' };

/** About 200 tokens shared by the conversation's turns. */
const SYSTEM = Array.from({ length: 200 }, (_, i) => ['alpha', 'river', 'stone', 'light'][i % 4]).join(' ');

async function chat(service: ReturnType<typeof testService>, system: string, user: string) {
  const res = await postJson(service, '/v1/chat/completions', {
    model: MODEL,
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
    max_tokens: 4,
    ignore_eos: true,
  });
  expect(res.status).toBe(200);
  const usage = ((await res.json()) as Json).usage as Json;
  return {
    prompt: usage.prompt_tokens as number,
    cached: usage.prompt_tokens_details.cached_tokens as number,
  };
}

async function kvCache(service: ReturnType<typeof testService>): Promise<Json> {
  const res = await service.app.request('/admin/kv-cache', { headers: AUTH });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

describe('/admin/kv-cache', () => {
  it('reports the cache counters the clients saw, and reset drops the cached blocks but not the counters', async () => {
    const service = testService({ adminToken: 'adm', kvCacheBlocks: '40', kvHostCacheBlocks: '100' });
    const first = await chat(service, SYSTEM, 'first question');
    const other = await chat(service, 'x '.repeat(500), 'an unrelated long prompt');
    const second = await chat(service, SYSTEM, 'second question');
    expect(first.cached).toBe(0);
    // The chat template's opening (BOS, the system header, its date lines) fills the first block
    // whatever the system prompt says: every later prompt shares that one block.
    expect(other.cached).toBe(16);
    expect(second.cached).toBe(Math.floor((second.prompt - 1) / 16) * 16);

    const s = await kvCache(service);
    expect(Object.keys(s)).toEqual([
      'block_size',
      'gpu',
      'host',
      'disk',
      'usage',
      'query_tokens',
      'hit_tokens',
      'host_hit_tokens',
      'disk_hit_tokens',
      'hit_rate',
      'preempted_query_tokens',
      'preempted_hit_tokens',
      'evictions',
      'host_evictions',
      'disk_evictions',
      'top_prefixes',
    ]);
    expect(s.block_size).toBe(16);
    expect(Object.keys(s.gpu)).toEqual(['total', 'inUse', 'reusable', 'free', 'cached']);
    expect(s.gpu.total).toBe(40);
    expect(s.gpu.inUse).toBe(0);
    expect(s.gpu.inUse + s.gpu.reusable + s.gpu.free).toBe(40);
    expect(s.usage).toBe(0);
    expect(s.host.total).toBe(100);
    expect(s.host.used).toBeGreaterThan(0);
    expect(s.query_tokens).toBe(first.prompt + other.prompt + second.prompt);
    expect(s.hit_tokens).toBe(other.cached + second.cached);
    // The unrelated prompt pushed the conversation's blocks out of the GPU tier: the hit is the host's.
    expect(s.evictions).toBeGreaterThan(0);
    expect(s.host_hit_tokens).toBeGreaterThan(0);
    expect(s.host_hit_tokens).toBeLessThan(second.cached);
    expect(s.host.used).toBe(s.evictions);
    expect(s.hit_rate).toBe(s.hit_tokens / s.query_tokens);
    expect([s.preempted_query_tokens, s.preempted_hit_tokens, s.host_evictions]).toEqual([0, 0, 0]);
    // No disk tier: its figures are there, at zero.
    expect([s.disk, s.disk_hit_tokens, s.disk_evictions]).toEqual([{ total: 0, used: 0 }, 0, 0]);
    expect(s.top_prefixes).toHaveLength(1);
    const [top] = s.top_prefixes as Json[];
    expect(top).toEqual({
      blocks: second.cached / 16,
      tokens: second.cached,
      hits: 2,
      firstTokenIds: expect.any(Array),
    });
    expect(top!.firstTokenIds).toHaveLength(16);

    const reset = await service.app.request('/admin/kv-cache/reset', { method: 'POST', headers: AUTH });
    expect(reset.status).toBe(200);
    expect(await reset.json()).toEqual({
      reset: true,
      gpu: { total: 40, inUse: 0, reusable: 0, free: 40, cached: 0 },
    });
    const after = await kvCache(service);
    expect(after.host.used).toBe(0);
    expect(after.top_prefixes).toEqual([]);
    expect([after.query_tokens, after.hit_tokens, after.host_hit_tokens, after.evictions]).toEqual([
      s.query_tokens,
      s.hit_tokens,
      s.host_hit_tokens,
      s.evictions,
    ]);
    expect((await chat(service, SYSTEM, 'third question')).cached).toBe(0);
  });

  it('reports the disk tier: with no host tier, GPU evictions land there and the next turn loads from it', async () => {
    const service = testService({ adminToken: 'adm', kvCacheBlocks: '40', kvDiskCacheBlocks: '100' });
    await chat(service, SYSTEM, 'first question');
    await chat(service, 'x '.repeat(500), 'an unrelated long prompt');
    const second = await chat(service, SYSTEM, 'second question');
    const s = await kvCache(service);
    expect(s.host).toEqual({ total: 0, used: 0 });
    expect(s.disk.total).toBe(100);
    expect(s.disk.used).toBe(s.evictions);
    expect(s.host_hit_tokens).toBe(0);
    expect(s.disk_hit_tokens).toBeGreaterThan(0);
    expect(s.disk_hit_tokens).toBeLessThan(second.cached);
    const withBlocks = (await (
      await service.app.request('/admin/kv-cache?blocks=1', { headers: AUTH })
    ).json()) as Json;
    expect(withBlocks.blocks.disk).toHaveLength(s.disk.used);
    await service.app.request('/admin/kv-cache/reset', { method: 'POST', headers: AUTH });
    expect((await kvCache(service)).disk.used).toBe(0);
  });
});
