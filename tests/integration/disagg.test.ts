/**
 * `serve --prefill-replicas P --decode-replicas D` through app.request(): the response names the
 * decode replica that generated it, streams end normally, and /metrics labels each replica's series
 * with its role and counts the KV transfers.
 */
import { describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from '../helpers/prom-text.js';
import { postJson, readSse, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
// A prompt of ~1,500 tokens: longer than max_local_prefill_length (1,000), so prefilled remotely.
const LONG = 'The quick brown fox jumps over the lazy dog. '.repeat(150);

describe('disaggregated prefill and decode behind one endpoint', () => {
  it('answers from a decode replica, named in the header, streaming or not', async () => {
    const s = testService({ prefillReplicas: '2', decodeReplicas: '2' });
    const res = await postJson(s, '/v1/completions', { model: MODEL, prompt: LONG, max_tokens: 5 });
    expect(res.status).toBe(200);
    // Replicas 0 and 1 prefill; 2 and 3 decode.
    expect(['2', '3']).toContain(res.headers.get('x-nimsim-replica'));
    const body = (await res.json()) as { usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBe(5);
    const stream = await postJson(s, '/v1/completions', {
      model: MODEL,
      prompt: `${LONG} again`,
      max_tokens: 5,
      stream: true,
    });
    expect(['2', '3']).toContain(stream.headers.get('x-nimsim-replica'));
    const frames = await readSse(stream);
    expect(frames.at(-1)).toBe('[DONE]');
  });

  it('labels per-replica series with their role and counts the transfers', async () => {
    const s = testService({ prefillReplicas: '1', decodeReplicas: '1' });
    await (await postJson(s, '/v1/completions', { model: MODEL, prompt: LONG, max_tokens: 3 })).json();
    await (await postJson(s, '/v1/completions', { model: MODEL, prompt: 'short', max_tokens: 3 })).json();
    const text = await (await s.app.request('/metrics')).text();
    const samples = parseExposition(text);
    const generated = (engine: string, role: string) =>
      sampleValue(samples, 'vllm:generation_tokens_total', { model_name: MODEL, engine, role });
    // The prefill replica made one (discarded) token; the decode replica made both answers.
    expect(generated('0', 'prefill')).toBe(1);
    expect(generated('1', 'decode')).toBe(6);
    expect(sampleValue(samples, 'nimsim_disagg_prefills_total', { model_name: MODEL, where: 'remote' })).toBe(
      1,
    );
    expect(sampleValue(samples, 'nimsim_disagg_prefills_total', { model_name: MODEL, where: 'local' })).toBe(
      1,
    );
    expect(sampleValue(samples, 'nimsim_kv_transfer_seconds_count', { model_name: MODEL })).toBe(1);
    expect(sampleValue(samples, 'nimsim_kv_transfer_bytes_total', { model_name: MODEL })).toBeGreaterThan(0);
    expect(sampleValue(samples, 'nimsim_disagg_queue_requests', { model_name: MODEL, role: 'decode' })).toBe(
      0,
    );
  });

  it("names each replica's role in /admin/kv-cache", async () => {
    const s = testService({ prefillReplicas: '1', decodeReplicas: '2', adminToken: 'adm' });
    await (await postJson(s, '/v1/completions', { model: MODEL, prompt: LONG, max_tokens: 3 })).json();
    const res = await s.app.request('/admin/kv-cache', { headers: { authorization: 'Bearer adm' } });
    const body = (await res.json()) as {
      replicas: { replica: number; role: string; routed_requests: number }[];
    };
    expect(body.replicas.map((r) => [r.replica, r.role])).toEqual([
      [0, 'prefill'],
      [1, 'decode'],
      [2, 'decode'],
    ]);
    // The prefill replica prefilled the one prompt; one decode replica generated its answer.
    expect(body.replicas[0]!.routed_requests).toBe(1);
    expect(body.replicas[1]!.routed_requests + body.replicas[2]!.routed_requests).toBe(1);
  });
});
