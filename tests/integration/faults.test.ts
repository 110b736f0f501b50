/** Faults on demand and PATCH /admin/config through app.request() (no socket). */
import { describe, expect, it } from 'vitest';
import { postJson, readSse, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const chat = (extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  messages: [{ role: 'user', content: 'Tell me a story.' }],
  max_tokens: 12,
  ignore_eos: true,
  ...extra,
});
const admin = { authorization: 'Bearer tok' };

async function faultCount(service: ReturnType<typeof testService>, type: string): Promise<number> {
  const text = await (await service.app.request('/metrics')).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('nimsim_injected_faults_total{') && l.includes(`type="${type}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('status faults', () => {
  const service = testService();
  const cases = [
    ['rate_limit', 429, 'RateLimitError', '1'],
    ['server_error', 500, 'InternalServerError', null],
    ['service_unavailable', 503, 'ServiceUnavailableError', '1'],
    ['context_length', 400, 'BadRequestError', null],
    ['invalid_request', 400, 'BadRequestError', null],
    ['model_not_found', 404, 'NotFoundError', null],
  ] as const;
  for (const [fault, status, type, retryAfter] of cases) {
    it(`x-nimsim-fault: ${fault} answers ${status} ${type} and counts it`, async () => {
      const before = await faultCount(service, fault);
      const res = await postJson(service, '/v1/chat/completions', chat(), { 'x-nimsim-fault': fault });
      expect(res.status).toBe(status);
      expect(res.headers.get('retry-after')).toBe(retryAfter);
      expect(res.headers.get('x-nimsim-fault-injected')).toBe(fault);
      const body = (await res.json()) as { error: { type: string; code: number } };
      expect(body.error.type).toBe(type);
      expect(body.error.code).toBe(status);
      expect(await faultCount(service, fault)).toBe(before + 1);
    });
  }

  it('applies to /v1/completions too, and not to /v1/models or health', async () => {
    const res = await postJson(
      service,
      '/v1/completions',
      { model: MODEL, prompt: 'Hi', max_tokens: 2 },
      { 'x-nimsim-fault': 'server_error' },
    );
    expect(res.status).toBe(500);
    const models = await service.app.request('/v1/models', { headers: { 'x-nimsim-fault': 'server_error' } });
    expect(models.status).toBe(200);
  });

  it('answers an unknown fault name with 400 naming the header', async () => {
    const res = await postJson(service, '/v1/chat/completions', chat(), { 'x-nimsim-fault': 'boom' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('x-nimsim-fault');
  });

  it('names the requested model in model_not_found', async () => {
    const res = await postJson(service, '/v1/chat/completions', chat({ model: 'acme/x' }), {
      'x-nimsim-fault': 'model_not_found',
    });
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'The model `acme/x` does not exist.',
    );
  });
});

describe('latency faults', () => {
  const service = testService();

  it('slow_first_token holds the first frame for the fault delay, then streams normally', async () => {
    const start = performance.now();
    const res = await postJson(service, '/v1/chat/completions', chat({ stream: true }), {
      'x-nimsim-fault': 'slow_first_token',
      'x-nimsim-fault-delay-ms': '150',
    });
    const frames = await readSse(res);
    expect(performance.now() - start).toBeGreaterThanOrEqual(145);
    expect(frames.at(-1)).toBe('[DONE]');
    expect(
      frames.filter((f) => typeof f === 'object' && (f as { choices: unknown[] }).choices.length > 0),
    ).toHaveLength(14);
  });

  it('stall pauses the stream after three frames and then finishes it', async () => {
    const res = await postJson(service, '/v1/chat/completions', chat({ stream: true }), {
      'x-nimsim-fault': 'stall',
      // Long enough that a loaded machine's hiccups (tens of ms) cannot be mistaken for it.
      'x-nimsim-fault-delay-ms': '400',
    });
    const reader = res.body!.getReader();
    const times: number[] = [];
    let text = '';
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      times.push(performance.now());
      text += dec.decode(value);
    }
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[2]).toBeGreaterThanOrEqual(390);
    expect(Math.max(...gaps.filter((_, i) => i !== 2))).toBeLessThan(200);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('disconnect cuts the stream after three frames and frees the slot and KV blocks', async () => {
    const res = await postJson(service, '/v1/chat/completions', chat({ stream: true, max_tokens: 200 }), {
      'x-nimsim-fault': 'disconnect',
    });
    const reader = res.body!.getReader();
    let frames = 0;
    await expect(
      (async () => {
        for (;;) {
          const { done } = await reader.read();
          if (done) return;
          frames++;
        }
      })(),
    ).rejects.toThrow(/connection dropped/);
    expect(frames).toBe(3);
    await new Promise((r) => setTimeout(r, 20));
    const stats = service.runtime.engine.stats();
    expect([stats.running, stats.waiting, stats.kvBlocksInUse]).toEqual([0, 0, 0]);
  });

  it('timeout holds the request for the fault delay and then drops it without a response', async () => {
    const start = performance.now();
    const res = await postJson(service, '/v1/chat/completions', chat(), {
      'x-nimsim-fault': 'timeout',
      'x-nimsim-fault-delay-ms': '120',
    });
    await expect(res.text()).rejects.toThrow(/connection dropped/);
    expect(performance.now() - start).toBeGreaterThanOrEqual(115);
  });

  it('delays a non-streaming reply by the fault delay on slow_first_token', async () => {
    const start = performance.now();
    const res = await postJson(service, '/v1/chat/completions', chat(), {
      'x-nimsim-fault': 'slow_first_token',
      'x-nimsim-fault-delay-ms': '100',
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(12);
    expect(performance.now() - start).toBeGreaterThanOrEqual(95);
  });
});

describe('NIMSIM_FAULT_RATE', () => {
  it('fails every request at rate 1 with the configured types, and none with x-nimsim-fault: none', async () => {
    const service = testService({ faultRate: '1', faultTypes: 'rate_limit,server_error' });
    const statuses = new Set<number>();
    for (let i = 0; i < 20; i++)
      statuses.add((await postJson(service, '/v1/chat/completions', chat())).status);
    expect(statuses).toEqual(new Set([429, 500]));
    const ok = await postJson(service, '/v1/chat/completions', chat(), { 'x-nimsim-fault': 'none' });
    expect(ok.status).toBe(200);
  });

  it('gives the same sequence of statuses for the same seed', async () => {
    const run = async () => {
      const service = testService({ faultRate: '0.5', faultTypes: 'server_error', seed: '3' });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await postJson(service, '/v1/chat/completions', chat())).status);
      return out;
    };
    const a = await run();
    expect(await run()).toEqual(a);
    expect(new Set(a)).toEqual(new Set([200, 500]));
  });
});

describe('PATCH /admin/config', () => {
  const patch = (service: ReturnType<typeof testService>, body: unknown) =>
    service.app.request('/admin/config', {
      method: 'PATCH',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('is 404 without NIMSIM_ADMIN_TOKEN and 401 with a wrong token', async () => {
    expect((await patch(testService(), { NIMSIM_FAULT_RATE: 1 })).status).toBe(404);
    const service = testService({ adminToken: 'other' });
    expect((await patch(service, { NIMSIM_FAULT_RATE: 1 })).status).toBe(401);
  });

  it('turns faults on at run time and GET /admin/config shows the effective values', async () => {
    const service = testService({ adminToken: 'tok' });
    expect((await postJson(service, '/v1/chat/completions', chat())).status).toBe(200);
    const res = await patch(service, {
      NIMSIM_FAULT_RATE: 1,
      NIMSIM_FAULT_TYPES: ['service_unavailable'],
      NIMSIM_FAULT_DELAY_MS: '250',
      NIMSIM_JITTER: 0.1,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { changed: string[] }).changed).toEqual([
      'NIMSIM_FAULT_RATE',
      'NIMSIM_FAULT_TYPES',
      'NIMSIM_FAULT_DELAY_MS',
      'NIMSIM_JITTER',
    ]);
    expect((await postJson(service, '/v1/chat/completions', chat())).status).toBe(503);
    const cfg = (await (await service.app.request('/admin/config', { headers: admin })).json()) as Record<
      string,
      unknown
    >;
    expect(cfg).toMatchObject({
      NIMSIM_FAULT_RATE: 1,
      NIMSIM_FAULT_TYPES: ['service_unavailable'],
      NIMSIM_FAULT_DELAY_MS: 250,
      NIMSIM_JITTER: 0.1,
      NIMSIM_TIME_SCALE: 0,
      NIMSIM_ADMIN_TOKEN: '***',
    });
    expect(service.runtime.jitter.sigma).toBe(0.1);
  });

  it('rejects a bad value or a fixed setting with 400 and changes nothing', async () => {
    const service = testService({ adminToken: 'tok' });
    for (const body of [
      { NIMSIM_FAULT_RATE: 1, NIMSIM_FAULT_TYPES: 'rate_limit,nope' },
      { NIMSIM_FAULT_RATE: 1, NIMSIM_TIME_SCALE: -1 },
      { NIMSIM_FAULT_RATE: 1, NIM_MODEL_NAME: 'x' },
      { NIMSIM_FAULT_RATE: 2 },
      { NIMSIM_FAULT_RATE: { value: 1 } },
      [1],
    ]) {
      const res = await patch(service, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const bad = await service.app.request('/admin/config', {
      method: 'PATCH',
      headers: admin,
      body: '{not json',
    });
    expect(bad.status).toBe(400);
    expect(service.faults.settings.rate).toBe(0);
  });

  it('switches the time scale of a running engine from immediate to real time and back', async () => {
    const service = testService({ adminToken: 'tok' });
    /** Σ simulated end-to-end seconds so far (the e2e histogram's sum, in simulated time). */
    const simulatedE2eS = async () => {
      const text = await (await service.app.request('/metrics')).text();
      const line = text.split('\n').find((l) => l.startsWith('e2e_request_latency_seconds_sum{'));
      return Number(line?.split(' ').pop() ?? 0);
    };
    /**
     * One 200-token request: its wall time and its simulated duration, in ms. Long enough (~1 s
     * simulated) that a stall of a loaded machine cannot reach half of it in immediate mode.
     */
    const timed = async () => {
      const before = await simulatedE2eS();
      const start = performance.now();
      expect((await postJson(service, '/v1/chat/completions', chat({ max_tokens: 200 }))).status).toBe(200);
      const wallMs = performance.now() - start;
      return { wallMs, simulatedMs: ((await simulatedE2eS()) - before) * 1000 };
    };
    await timed(); // warm-up: the first request compiles the whole path
    // Bounds relative to the request's own simulated duration (200 tokens of an 8B model on an
    // H100: about a second), not a fixed wall-clock figure a loaded machine could miss.
    const immediate = await timed();
    expect(immediate.simulatedMs).toBeGreaterThan(500);
    expect(immediate.wallMs).toBeLessThan(immediate.simulatedMs / 2);
    expect((await patch(service, { NIMSIM_TIME_SCALE: 1 })).status).toBe(200);
    const realTime = await timed();
    // At scale 1 the request waits out its simulated duration (timers may only fire late).
    expect(realTime.wallMs).toBeGreaterThanOrEqual(realTime.simulatedMs * 0.95);
    expect((await patch(service, { NIMSIM_TIME_SCALE: '0' })).status).toBe(200);
    const immediateAgain = await timed();
    expect(immediateAgain.wallMs).toBeLessThan(immediateAgain.simulatedMs / 2);
  });
});
