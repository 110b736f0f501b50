/**
 * Small requests that asked for gigabytes, against a built nimsim with a small heap
 * (tests/helpers/guarded-server.ts). Before the request bounds, each of these froze or killed the
 * server: the 190-byte logprobs request blocked the event loop for ~56 s and died at the heap
 * limit; 128 prompts × n 128 blocked ~20 s and died; n 128 × 131k tokens blocked ~6 s, then
 * streamed 760 MB; a 40k-token top-20 answer blocked ~5 s and took the process to 811 MB; a
 * streamed echo of a 40k-token prompt's top-20 logprobs blocked 6.5 s building one 24 MB chunk.
 * Now each is refused at once or served with the event loop answering throughout and memory flat.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGuardedServer, type GuardedServer, type LivenessReport } from '../helpers/guarded-server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const messages = [{ role: 'user', content: 'hi' }];

/**
 * The slowest liveness probe allowed, over the slowest probe of the same server idle (measured
 * once, before the tests, for 2 s): the server pauses every 10 ms of planning or body writing
 * (src/serving/pacer.ts), and the probe runs in a worker thread, so reading a 65 MB answer in this
 * process does not delay it. A loaded 2-core test host still delays an idle server's probe (up to
 * 400 ms was seen), hence the idle term. Before the bounds these probes waited 6-56 s.
 */
const PROBE_MS = 100;
let liveWithinMs = Infinity;
/** Resident memory allowed (MiB): an idle server is ~150; the old code reached 490-811 or died. */
const RSS_WITHIN_MB = 400;

interface Answer {
  readonly status: number;
  readonly ms: number;
  readonly bytes: number;
  /** The body's first 8 MiB as text (the rest is counted, not kept). */
  readonly head: string;
  readonly tail: string;
}

/**
 * POSTs over node:http, keeping only the start and the end of the body: reading a 65 MB body
 * through fetch costs this process enough to slow the liveness probe it also runs.
 */
function post(server: GuardedServer, path: string, body: unknown): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${server.baseUrl}${path}`,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const kept: Buffer[] = [];
        let keptBytes = 0;
        let bytes = 0;
        let last: Buffer = Buffer.alloc(0);
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (keptBytes < 8 * 2 ** 20) {
            kept.push(chunk);
            keptBytes += chunk.length;
          }
          last = chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ms: performance.now() - started,
            bytes,
            head: Buffer.concat(kept).toString('utf8'),
            tail: last.toString('utf8').slice(-200),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/**
 * Sends `body` while the liveness probe and RSS sampling run. A slow probe is measured once more:
 * a server that blocks does so every time, while a busy test host (other test files, other
 * processes on the same 2 cores) stalls the probe only now and then.
 */
async function watched(server: GuardedServer, path: string, body: unknown) {
  const once = async () => {
    const watch = server.watch();
    const answer = await post(server, path, body);
    return { answer, report: await watch.stop() };
  };
  const first = await once();
  return first.report.maxProbeMs < liveWithinMs || !server.alive() ? first : once();
}

function expectHealthy(server: GuardedServer, report: LivenessReport): void {
  expect(server.alive()).toBe(true);
  expect(report.failures).toBe(0);
  expect(report.maxProbeMs).toBeLessThan(liveWithinMs);
  expect(report.peakRssMb).toBeLessThan(RSS_WITHIN_MB);
}

describe('request bounds on a live small-heap server', () => {
  let server: GuardedServer;
  beforeAll(async () => {
    server = await startGuardedServer();
    // The first request loads the tokenizer (~0.4 s, once per process): not what is measured here.
    expect(
      (await post(server, '/v1/chat/completions', { model: MODEL, messages, max_tokens: 2 })).status,
    ).toBe(200);
    const idle = server.watch();
    await new Promise((r) => setTimeout(r, 2_000));
    liveWithinMs = PROBE_MS + (await idle.stop()).maxProbeMs;
  }, 60_000);
  afterAll(() => server.stop());

  it('refuses n 4 × 131,000 tokens × top_logprobs 20 (190 bytes) with 400 at once', async () => {
    const body = {
      model: MODEL,
      messages,
      max_tokens: 131_000,
      ignore_eos: true,
      n: 4,
      logprobs: true,
      top_logprobs: 20,
    };
    const { answer, report } = await watched(server, '/v1/chat/completions', body);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.head)).toMatchObject({ error: { param: 'top_logprobs', code: 400 } });
    expect(answer.ms).toBeLessThan(2000);
    expectHealthy(server, report);
  });

  it('refuses 128 prompts × n 128 × max_tokens 8000 with 429 at once', async () => {
    const body = { model: MODEL, prompt: Array(128).fill('a'), n: 128, max_tokens: 8000 };
    const { answer, report } = await watched(server, '/v1/completions', body);
    expect(answer.status).toBe(429);
    expect(JSON.parse(answer.head)).toMatchObject({ error: { type: 'RateLimitError', code: 429 } });
    expect(answer.ms).toBeLessThan(2000);
    expectHealthy(server, report);
  });

  it('refuses n 128 × 131,000 tokens with ignore_eos, streaming, with 400 at once', async () => {
    const body = { model: MODEL, messages, n: 128, max_tokens: 131_000, ignore_eos: true, stream: true };
    const { answer, report } = await watched(server, '/v1/chat/completions', body);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.head)).toMatchObject({ error: { param: 'max_tokens', code: 400 } });
    expect(answer.ms).toBeLessThan(2000);
    expectHealthy(server, report);
  });

  it("refuses a streamed echo of a 40,000-token prompt's logprobs (one 24 MB chunk) with 400 at once", async () => {
    const prompt = [Array.from({ length: 40_000 }, (_, i) => 1000 + (i % 5000))];
    const body = { model: MODEL, prompt, echo: true, logprobs: 20, max_tokens: 1, stream: true };
    const { answer, report } = await watched(server, '/v1/completions', body);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.head)).toMatchObject({ error: { param: 'logprobs', code: 400 } });
    expect(answer.ms).toBeLessThan(2000);
    expectHealthy(server, report);
  });

  it('streams n 128 × max_tokens 131,000 whose answers end on their own, all 128 to the end', async () => {
    const body = { model: MODEL, messages, n: 128, max_tokens: 131_000, stream: true };
    const { answer, report } = await watched(server, '/v1/chat/completions', body);
    expect(answer.status).toBe(200);
    expect(answer.head.match(/"finish_reason":"stop"/g)).toHaveLength(128);
    expect(answer.tail.endsWith('data: [DONE]\n\n')).toBe(true);
    expectHealthy(server, report);
  });

  it('serves n 4 × 131,000 tokens with ignore_eos (524,000 tokens, within the default bound)', async () => {
    const body = { model: MODEL, messages, n: 4, max_tokens: 131_000, ignore_eos: true };
    const { answer, report } = await watched(server, '/v1/chat/completions', body);
    expect(answer.status).toBe(200);
    const reply = JSON.parse(answer.head) as {
      usage: { completion_tokens: number };
      choices: { finish_reason: string }[];
    };
    expect(reply.usage.completion_tokens).toBe(4 * 131_000);
    expect(reply.choices.map((c) => c.finish_reason)).toEqual(['length', 'length', 'length', 'length']);
    expectHealthy(server, report);
  });

  it('writes a 33 MB logprobs body (20,000 tokens × 21 entries) in parts, memory flat', async () => {
    const body = {
      model: MODEL,
      messages,
      max_tokens: 20_000,
      ignore_eos: true,
      logprobs: true,
      top_logprobs: 20,
    };
    const { answer, report } = await watched(server, '/v1/chat/completions', body);
    expect(answer.status).toBe(200);
    expect(answer.bytes).toBeGreaterThan(30 * 2 ** 20);
    expect(answer.tail).toMatch(/"kv_transfer_params":null}$/);
    expectHealthy(server, report);
  });
});
