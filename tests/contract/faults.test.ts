/**
 * Faults on demand as the official openai client meets them: its retry logic sees the right
 * status and Retry-After (retries 429/5xx and dropped connections, not 400/404), times out on a
 * held connection, and reports a stream cut mid-way as an error.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../helpers/rejection.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
type ApiErr = InstanceType<typeof OpenAI.APIError>;
const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hello there.' }];

let server: LiveServer;
beforeAll(async () => {
  server = await startLiveServer({ faultDelayMs: '100' });
});
afterAll(() => server.stop());

const clientOf = (fault: string, opts: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) =>
  new OpenAI({
    baseURL: `${server.baseUrl}/v1`,
    apiKey: 'not-used',
    maxRetries: 0,
    defaultHeaders: { 'x-nimsim-fault': fault },
    ...opts,
  });

async function faultCount(type: string): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('nimsim_injected_faults_total{') && l.includes(`type="${type}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const create = (client: OpenAI) => client.chat.completions.create({ model: MODEL, messages, max_tokens: 8 });

describe('status faults through the openai client', () => {
  it('rate_limit: RateLimitError 429, retried after the Retry-After second', async () => {
    const before = await faultCount('rate_limit');
    const start = performance.now();
    const err = (await rejectionOf(create(clientOf('rate_limit', { maxRetries: 1 })))) as ApiErr;
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.headers?.get('retry-after')).toBe('1');
    expect(performance.now() - start).toBeGreaterThanOrEqual(990);
    expect(await faultCount('rate_limit')).toBe(before + 2);
  });

  it('service_unavailable: 503, retried after the Retry-After second', async () => {
    const before = await faultCount('service_unavailable');
    const err = (await rejectionOf(create(clientOf('service_unavailable', { maxRetries: 1 })))) as ApiErr;
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(503);
    expect(err.type).toBe('ServiceUnavailableError');
    expect(await faultCount('service_unavailable')).toBe(before + 2);
  });

  it('server_error: InternalServerError 500, retried with backoff', async () => {
    const before = await faultCount('server_error');
    const err = (await rejectionOf(create(clientOf('server_error', { maxRetries: 2 })))) as ApiErr;
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(500);
    expect(await faultCount('server_error')).toBe(before + 3);
  });

  for (const [fault, cls, status] of [
    ['context_length', OpenAI.BadRequestError, 400],
    ['invalid_request', OpenAI.BadRequestError, 400],
    ['model_not_found', OpenAI.NotFoundError, 404],
  ] as const) {
    it(`${fault}: ${cls.name} ${status}, never retried`, async () => {
      const before = await faultCount(fault);
      const err = (await rejectionOf(create(clientOf(fault, { maxRetries: 2 })))) as ApiErr;
      expect(err).toBeInstanceOf(cls);
      expect(err.status).toBe(status);
      expect(await faultCount(fault)).toBe(before + 1);
    });
  }
});

describe('latency faults through the openai client', () => {
  it('timeout: the held connection is dropped, APIConnectionError after the client retried', async () => {
    const before = await faultCount('timeout');
    const err = await rejectionOf(create(clientOf('timeout', { maxRetries: 1 })));
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(await faultCount('timeout')).toBe(before + 2);
  });

  it('timeout: a client timeout shorter than the hold gives APIConnectionTimeoutError', async () => {
    const client = clientOf('timeout', {
      timeout: 100,
      defaultHeaders: { 'x-nimsim-fault': 'timeout', 'x-nimsim-fault-delay-ms': '5000' },
    });
    const start = performance.now();
    const err = await rejectionOf(create(client));
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(performance.now() - start).toBeLessThan(2000);
  });

  it('slow_first_token: the first chunk arrives after the fault delay, the stream then completes', async () => {
    const start = performance.now();
    const stream = await clientOf('slow_first_token').chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 8,
      ignore_eos: true,
      stream: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let firstMs: number | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      firstMs ??= performance.now() - start;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(firstMs).toBeGreaterThanOrEqual(95);
    expect(finish).toBe('length');
  });

  it('stall: the stream pauses mid-way and still completes', async () => {
    // A longer pause than the suite's 100 ms: the client sees chunk arrival times, which a loaded
    // machine can shift by tens of ms, while the server's pause is exact.
    const STALL_MS = 400;
    const start = performance.now();
    const stream = await clientOf('stall', {
      defaultHeaders: { 'x-nimsim-fault': 'stall', 'x-nimsim-fault-delay-ms': String(STALL_MS) },
    }).chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 8,
      ignore_eos: true,
      stream: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    const times: number[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      times.push(performance.now());
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    // The whole stream cannot end before the server's pause has elapsed.
    expect(times.at(-1)! - start).toBeGreaterThanOrEqual(STALL_MS - 1);
    // The pause falls between two chunks, after the stream has started.
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const longest = Math.max(...gaps);
    expect(longest).toBeGreaterThanOrEqual(STALL_MS - 100);
    expect(gaps.indexOf(longest)).toBeGreaterThan(0);
    expect(finish).toBe('length');
  });

  it('disconnect: the stream breaks after its first chunks and the server frees the request', async () => {
    const stream = await clientOf('disconnect').chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 500,
      ignore_eos: true,
      stream: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let chunks = 0;
    const err = await rejectionOf(
      (async () => {
        for await (const _chunk of stream) chunks++;
      })(),
    );
    expect(err).toBeInstanceOf(Error);
    expect(chunks).toBe(3);
    await new Promise((r) => setTimeout(r, 50));
    const s = server.service.runtime.engine.stats();
    expect([s.running, s.waiting, s.kvBlocksInUse]).toEqual([0, 0, 0]);
  });
});

describe('NIMSIM_FAULT_RATE through the openai client', () => {
  it('a client with retries gets through random 500s, and the same seed fails the same requests', async () => {
    const run = async () => {
      const s = await startLiveServer({ faultRate: '0.5', faultTypes: 'server_error', seed: '11' });
      try {
        const client = new OpenAI({ baseURL: `${s.baseUrl}/v1`, apiKey: 'x', maxRetries: 0 });
        const statuses: number[] = [];
        for (let i = 0; i < 12; i++) {
          const err = await create(client).then(
            () => undefined,
            (e: unknown) => e as ApiErr,
          );
          statuses.push(err?.status ?? 200);
        }
        const retrying = new OpenAI({ baseURL: `${s.baseUrl}/v1`, apiKey: 'x', maxRetries: 6 });
        const ok = await create(retrying);
        return { statuses, ok: ok.choices.length };
      } finally {
        await s.stop();
      }
    };
    const a = await run();
    expect(new Set(a.statuses)).toEqual(new Set([200, 500]));
    expect(a.ok).toBe(1);
    expect((await run()).statuses).toEqual(a.statuses);
  });
});
