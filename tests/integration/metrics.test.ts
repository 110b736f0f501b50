/**
 * Scrapes /metrics and /v1/metrics after mixed traffic: every stable name (docs/interface.md#metrics)
 * with its type and labels, NIM's and vLLM's bucket boundaries (docs/nim-api.md#bucket-boundaries),
 * and counters that equal what the clients received.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, sampleValue, type Exposition } from '../helpers/prom-text.js';
import { postJson, readSse, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The metric names of docs/interface.md#metrics with the type NIM / vLLM give them. */
const FAMILIES: Record<string, string> = {
  num_requests_running: 'gauge',
  num_requests_waiting: 'gauge',
  num_request_max: 'gauge',
  gpu_cache_usage_perc: 'gauge',
  prompt_tokens_total: 'counter',
  generation_tokens_total: 'counter',
  time_to_first_token_seconds: 'histogram',
  time_per_output_token_seconds: 'histogram',
  e2e_request_latency_seconds: 'histogram',
  request_prompt_tokens: 'histogram',
  request_generation_tokens: 'histogram',
  request_success_total: 'counter',
  'vllm:num_requests_running': 'gauge',
  'vllm:num_requests_waiting': 'gauge',
  'vllm:kv_cache_usage_perc': 'gauge',
  'vllm:gpu_cache_usage_perc': 'gauge',
  'vllm:prefix_cache_queries_total': 'counter',
  'vllm:prefix_cache_hits_total': 'counter',
  'vllm:gpu_prefix_cache_queries_total': 'counter',
  'vllm:gpu_prefix_cache_hits_total': 'counter',
  'vllm:num_preemptions_total': 'counter',
  'vllm:prompt_tokens_total': 'counter',
  'vllm:generation_tokens_total': 'counter',
  'vllm:request_success_total': 'counter',
  'vllm:time_to_first_token_seconds': 'histogram',
  'vllm:inter_token_latency_seconds': 'histogram',
  'vllm:time_per_output_token_seconds': 'histogram',
  'vllm:request_time_per_output_token_seconds': 'histogram',
  'vllm:e2e_request_latency_seconds': 'histogram',
  'vllm:request_queue_time_seconds': 'histogram',
  'vllm:request_prefill_time_seconds': 'histogram',
  'vllm:request_decode_time_seconds': 'histogram',
  'vllm:request_inference_time_seconds': 'histogram',
  'vllm:request_prompt_tokens': 'histogram',
  'vllm:request_generation_tokens': 'histogram',
  'vllm:iteration_tokens_total': 'histogram',
  'vllm:cache_config_info': 'gauge',
  nimsim_kv_cache_evictions_total: 'counter',
  nimsim_kv_cache_host_evictions_total: 'counter',
  nimsim_kv_cache_host_hits_total: 'counter',
  nimsim_kv_cache_disk_evictions_total: 'counter',
  nimsim_kv_cache_disk_hits_total: 'counter',
  nimsim_kv_cache_blocks: 'gauge',
  nimsim_engine_step_lag_seconds: 'gauge',
  nimsim_engine_steps_total: 'counter',
  nimsim_injected_faults_total: 'counter',
  nimsim_http_requests_total: 'counter',
};

const NIM_TTFT = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const NIM_TPOT = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
const VLLM_REQ = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];
/** 1-2-5 up to the 8B model's 131072-token context. */
const TOKENS_125 = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
const BUCKETS: Record<string, number[]> = {
  time_to_first_token_seconds: NIM_TTFT,
  time_per_output_token_seconds: NIM_TPOT,
  e2e_request_latency_seconds: [1, 2.5, 5, 10, 15, 20, 30, 40, 50, 60],
  request_prompt_tokens: TOKENS_125,
  request_generation_tokens: TOKENS_125,
  'vllm:time_to_first_token_seconds': [...NIM_TTFT, 20, 40, 80, 160, 640, 2560],
  'vllm:inter_token_latency_seconds': [...NIM_TPOT, 5, 7.5, 10, 20, 40, 80],
  'vllm:time_per_output_token_seconds': [...NIM_TPOT, 5, 7.5, 10, 20, 40, 80],
  'vllm:e2e_request_latency_seconds': VLLM_REQ,
  'vllm:request_queue_time_seconds': VLLM_REQ,
  'vllm:request_prefill_time_seconds': VLLM_REQ,
  'vllm:request_decode_time_seconds': VLLM_REQ,
  'vllm:request_inference_time_seconds': VLLM_REQ,
  'vllm:request_prompt_tokens': TOKENS_125,
  'vllm:request_generation_tokens': TOKENS_125,
  'vllm:iteration_tokens_total': [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384],
};

/** The family a sample belongs to (histogram samples carry _bucket/_sum/_count). */
function familyOf(exp: Exposition, sample: string): string | undefined {
  if (exp.types.has(sample)) return sample;
  const base = sample.replace(/_(bucket|sum|count)$/, '');
  return exp.types.get(base) === 'histogram' ? base : undefined;
}

describe('metrics after mixed traffic', () => {
  const service = testService();
  const sent = { prompt: 0, completion: 0, cached: 0, choices: 0, stop: 0, length: 0, nPrompt: 0 };
  const account = (usage: Json, finishReasons: string[]) => {
    sent.prompt += usage.prompt_tokens;
    sent.completion += usage.completion_tokens;
    sent.cached += usage.prompt_tokens_details?.cached_tokens ?? 0;
    for (const r of finishReasons) {
      sent.choices++;
      if (r === 'stop') sent.stop++;
      else if (r === 'length') sent.length++;
    }
  };
  /** Sends a non-streaming request, expects a 200 and accounts its usage; returns the body. */
  const sendCounted = async (path: string, body: Json): Promise<Json> => {
    const res = await postJson(service, path, body);
    expect(res.status).toBe(200);
    const json = (await res.json()) as Json;
    account(
      json.usage,
      json.choices.map((c: Json) => c.finish_reason),
    );
    return json;
  };
  let v1: Exposition;
  let plain: Exposition;
  let v1Text: string;
  let plainText: string;

  beforeAll(async () => {
    const long = 'Tell me everything about the history of graphics processors. '.repeat(40);
    // Two identical long prompts: the second is served from the prefix cache.
    for (let i = 0; i < 2; i++) {
      await sendCounted('/v1/chat/completions', {
        model: MODEL,
        messages: [{ role: 'user', content: long }],
        max_tokens: 7,
        ignore_eos: true,
      });
    }
    // One token: vLLM still observes its time per output token, as 0.
    await sendCounted('/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'One word.' }],
      max_tokens: 1,
    });
    const streamed = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'Say something short.' }],
      max_tokens: 400,
      stream: true,
      stream_options: { include_usage: true },
      seed: 3,
    });
    const frames = (await readSse(streamed)) as Json[];
    const finish = frames.flatMap((f) => (f.choices ?? []).map((c: Json) => c.finish_reason)).filter(Boolean);
    account(frames.find((f) => f.usage)!.usage, finish);
    const cbody = await sendCounted('/v1/completions', {
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 5,
      n: 2,
    });
    sent.nPrompt = cbody.usage.prompt_tokens;
    expect((await postJson(service, '/v1/chat/completions', { model: MODEL })).status).toBe(400);
    const unknown = await postJson(service, '/v1/chat/completions', {
      model: 'no/such-model',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(unknown.status).toBe(404);
    expect((await service.app.request('/no/such/route')).status).toBe(404);

    v1Text = await (await service.app.request('/v1/metrics')).text();
    plainText = await (await service.app.request('/metrics')).text();
    v1 = parseExposition(v1Text);
    plain = parseExposition(plainText);
  });

  it('serves the same families and values on /metrics and /v1/metrics', () => {
    const withoutHttp = (t: string) =>
      t
        .split('\n')
        .filter((l) => !l.startsWith('nimsim_http_requests_total'))
        .join('\n');
    expect(withoutHttp(plainText)).toBe(withoutHttp(v1Text));
    expect([...plain.types.keys()].sort()).toEqual([...v1.types.keys()].sort());
  });

  it('exposes every NIM, vLLM and nimsim name with its type', () => {
    for (const [name, type] of Object.entries(FAMILIES)) {
      expect.soft(v1.types.get(name), name).toBe(type);
    }
  });

  it('labels model series with model_name, and vllm: series with engine="0"', () => {
    for (const s of v1.samples) {
      const family = familyOf(v1, s.name);
      if (!family || !(family in FAMILIES) || family === 'nimsim_http_requests_total') continue;
      if (family === 'vllm:cache_config_info') continue;
      expect.soft(s.labels['model_name'], s.name).toBe(MODEL);
      if (family.startsWith('vllm:')) expect.soft(s.labels['engine'], s.name).toBe('0');
      else expect.soft(s.labels['engine'], s.name).toBeUndefined();
    }
    expect(
      sampleValue(v1, 'vllm:cache_config_info', {
        block_size: '16',
        enable_prefix_caching: 'True',
        engine: '0',
      }),
    ).toBe(1);
  });

  it("uses NIM's and vLLM's histogram bucket boundaries", () => {
    for (const [name, bounds] of Object.entries(BUCKETS)) {
      const le = v1.samples
        .filter((s) => s.name === `${name}_bucket` && s.labels['model_name'] === MODEL)
        .map((s) => s.labels['le']);
      // Written as vLLM's Python client writes them: 1 as "1.0", 0.25 as "0.25".
      const python = (x: number) => (Number.isInteger(x) ? `${x}.0` : String(x));
      expect.soft(le, name).toEqual([...bounds.map(python), '+Inf']);
    }
  });

  it('counts exactly the tokens and requests the clients received', () => {
    expect(sent.choices).toBe(6);
    expect(sent.stop).toBe(1); // the streamed reply ends naturally; the rest hit max_tokens
    expect(sent.length).toBe(5);
    expect(sent.cached).toBeGreaterThan(0);
    const m = { model_name: MODEL };
    const vm = { model_name: MODEL, engine: '0' };
    expect(sampleValue(v1, 'generation_tokens_total', m)).toBe(sent.completion);
    expect(sampleValue(v1, 'vllm:generation_tokens_total', vm)).toBe(sent.completion);
    // n=2 completions bill the prompt once in usage but prefill it for each choice (vLLM counts both).
    const completionsPrompt = sent.nPrompt;
    expect(completionsPrompt).toBeGreaterThan(0);
    expect(sampleValue(v1, 'prompt_tokens_total', m)).toBe(sent.prompt + completionsPrompt);
    expect(sampleValue(v1, 'vllm:prompt_tokens_total', vm)).toBe(sent.prompt + completionsPrompt);
    // Per step, vLLM counts the tokens generated plus the prompts of requests that got their first
    // token, so over a run the steps add up to every prompt and every generated token.
    expect(sampleValue(v1, 'vllm:iteration_tokens_total_sum', vm)).toBe(
      sent.prompt + completionsPrompt + sent.completion,
    );
    for (const [name, labels] of [
      ['request_success_total', m],
      ['vllm:request_success_total', vm],
    ] as const) {
      expect(sampleValue(v1, name, { ...labels, finished_reason: 'stop' })).toBe(sent.stop);
      expect(sampleValue(v1, name, { ...labels, finished_reason: 'length' })).toBe(sent.length);
      expect(sampleValue(v1, name, { ...labels, finished_reason: 'abort' })).toBe(0);
    }
    expect(sampleValue(v1, 'time_to_first_token_seconds_count', m)).toBe(sent.choices);
    expect(sampleValue(v1, 'vllm:e2e_request_latency_seconds_count', vm)).toBe(sent.choices);
    // Every finished request, a one-token one too (its value is 0: vLLM mean_time_per_output_token).
    expect(sampleValue(v1, 'vllm:request_time_per_output_token_seconds_count', vm)).toBe(sent.choices);
    expect(sampleValue(v1, 'time_per_output_token_seconds_count', m)).toBe(sent.completion - sent.choices);
    expect(sampleValue(v1, 'vllm:prefix_cache_hits_total', vm)).toBe(sent.cached);
    expect(sampleValue(v1, 'vllm:gpu_prefix_cache_hits_total', vm)).toBe(sent.cached);
    expect(sampleValue(v1, 'vllm:prefix_cache_queries_total', vm)).toBe(sent.prompt + completionsPrompt);
    expect(sampleValue(v1, 'num_requests_running', m)).toBe(0);
    expect(sampleValue(v1, 'num_request_max', m)).toBe(256);
  });

  it('counts HTTP requests by route pattern, method and status', () => {
    const http = (route: string, status: string) =>
      sampleValue(v1, 'nimsim_http_requests_total', { route, method: 'POST', status });
    expect(http('/v1/chat/completions', '200')).toBe(4);
    expect(http('/v1/chat/completions', '400')).toBe(1);
    expect(http('/v1/chat/completions', '404')).toBe(1);
    expect(http('/v1/completions', '200')).toBe(1);
    expect(sampleValue(v1, 'nimsim_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    // The first scrape is counted by the time of the second.
    expect(sampleValue(plain, 'nimsim_http_requests_total', { route: '/v1/metrics', status: '200' })).toBe(1);
  });
});

describe('metrics before traffic', () => {
  it('has every served name and finish reason at 0, so rate() panels have data at once', async () => {
    const s = testService({ servedModelName: 'alias-a,alias-b' });
    const exp = parseExposition(await (await s.app.request('/metrics')).text());
    for (const model of ['alias-a', 'alias-b']) {
      for (const reason of ['stop', 'length', 'abort']) {
        expect(
          sampleValue(exp, 'vllm:request_success_total', { model_name: model, finished_reason: reason }),
        ).toBe(0);
      }
      expect(sampleValue(exp, 'generation_tokens_total', { model_name: model })).toBe(0);
      expect(sampleValue(exp, 'vllm:time_to_first_token_seconds_count', { model_name: model })).toBe(0);
    }
    // Engine-wide series carry the first served name, as vLLM labels everything with it.
    expect(sampleValue(exp, 'vllm:num_requests_running', { model_name: 'alias-a' })).toBe(0);
    expect(sampleValue(exp, 'vllm:num_preemptions_total', { model_name: 'alias-a' })).toBe(0);
    expect(sampleValue(exp, 'nimsim_injected_faults_total', { type: 'rate_limit' })).toBe(0);
    const res = await postJson(s, '/v1/chat/completions', {
      model: 'alias-b',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 3,
      ignore_eos: true,
    });
    expect(res.status).toBe(200);
    const after = parseExposition(await (await s.app.request('/metrics')).text());
    expect(sampleValue(after, 'generation_tokens_total', { model_name: 'alias-b' })).toBe(3);
    expect(sampleValue(after, 'generation_tokens_total', { model_name: 'alias-a' })).toBe(0);
  });
});
