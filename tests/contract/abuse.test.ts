/**
 * Abuse over a real socket: thousands of malformed requests (bad HTTP, bad headers, bad bodies)
 * get only 4xx JSON errors and the server stays up; an oversized head is 431 and a slow request
 * 408, both JSON; hundreds of streams aborted mid-way (running or still queued) leave no running
 * request and no KV block in use.
 */
import fc from 'fast-check';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';

/** Sends raw bytes; resolves with everything the server wrote before closing (or after `waitMs`). */
function rawRequest(port: number, data: string | Buffer, waitMs = 2_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (d) => {
      out += d.toString('latin1');
      // One full response is enough: keep-alive would otherwise hold the socket open.
      const m = /\r\ncontent-length: (\d+)\r\n/i.exec(out);
      const head = out.indexOf('\r\n\r\n');
      if (m && head >= 0 && out.length >= head + 4 + Number(m[1])) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(data);
  });
}

function parseResponse(raw: string): { status: number; body: string; headers: string } {
  const head = raw.indexOf('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
  return { status, headers: raw.slice(0, head), body: raw.slice(head + 4) };
}

function expectJsonError(raw: string, allowed?: number[]): number {
  const { status, body, headers } = parseResponse(raw);
  expect(status, raw.slice(0, 200)).toBeGreaterThanOrEqual(400);
  expect(status, raw.slice(0, 200)).toBeLessThan(500);
  if (allowed) expect(allowed).toContain(status);
  expect(headers.toLowerCase()).toContain('content-type: application/json');
  const parsed = JSON.parse(body) as { error: { code: number; message: string } };
  expect(parsed.error.code).toBe(status);
  expect(parsed.error.message).toEqual(expect.any(String));
  return status;
}

describe('malformed requests over a socket', () => {
  let server: LiveServer;
  const prototypeNamesBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  beforeAll(async () => {
    server = await startLiveServer({ apiKey: 'k', requestTimeoutMs: '1000', maxHeaderBytes: '8192' });
  });
  afterAll(() => server.stop());

  it('answers broken HTTP with a 400 JSON body', async () => {
    const broken = [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'GET / HTTP/1.1\r\nBad Header Name: v\r\n\r\n',
      'GET / HTTP/1.1\r\nX: a\u0000b\r\n\r\n',
    ];
    for (const req of broken) expectJsonError(await rawRequest(server.port, req), [400]);
  });

  it('answers a head over NIMSIM_MAX_HEADER_BYTES with 431 JSON', async () => {
    const raw = await rawRequest(
      server.port,
      `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`,
    );
    expectJsonError(raw, [431]);
  });

  it('answers a request not received within NIMSIM_REQUEST_TIMEOUT_MS with 408 JSON', async () => {
    const start = performance.now();
    const raw = await rawRequest(
      server.port,
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"mod',
      4_000,
    );
    expectJsonError(raw, [408]);
    expect(performance.now() - start).toBeGreaterThanOrEqual(900);
  });

  it('answers 2,000 fuzzed requests with 4xx JSON errors only, and stays up', async () => {
    const routes = [
      '/v1/chat/completions',
      '/v1/completions',
      '/tokenize',
      '/detokenize',
      '/v1/models',
      '/admin/config',
      '/v1/health/ready',
      '/nope',
    ];
    const junk = fc.string({ maxLength: 40 }).map((s) => `zz${s}`);
    const headerValue = fc.oneof(
      junk,
      fc.constantFrom(
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=utf-8',
      ),
    );
    const body = fc.oneof(
      fc.json(),
      fc.string({ maxLength: 200 }),
      fc.constant(
        '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"model":"x","messages":[]}',
      ),
      fc
        .record({
          model: fc.oneof(fc.constant(MODEL), fc.string()),
          messages: fc.anything(),
          max_tokens: fc.oneof(fc.integer(), fc.double(), fc.string()),
          n: fc.oneof(fc.integer(), fc.constant(1_000_000)),
          stream: fc.anything(),
        })
        .map((o) => JSON.stringify(o)),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
      route: fc.constantFrom(...routes),
      contentType: headerValue,
      auth: fc.oneof(fc.constant('Bearer k'), fc.constant('Bearer wrong'), junk),
      fault: fc.oneof(fc.constant(undefined), junk),
      delay: fc.oneof(fc.constant(undefined), junk),
      body,
    });
    const samples = fc.sample(request, { numRuns: 2_000, seed: 42 });
    const statuses = new Map<number, number>();
    for (let i = 0; i < samples.length; i += 25) {
      await Promise.all(
        samples.slice(i, i + 25).map(async (r) => {
          const headers: Record<string, string> = { 'content-type': r.contentType, authorization: r.auth };
          if (r.fault !== undefined) headers['x-nimsim-fault'] = r.fault;
          if (r.delay !== undefined) headers['x-nimsim-fault-delay-ms'] = r.delay;
          const res = await fetch(`${server.baseUrl}${r.route}`, {
            method: r.method,
            headers,
            ...(r.method === 'GET' ? {} : { body: r.body }),
          });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, `${r.method} ${r.route} ${r.body.slice(0, 100)}`).toBeLessThan(500);
          if (res.status >= 400) {
            const parsed = JSON.parse(text) as { error: { code: number } };
            expect(parsed.error.code).toBe(res.status);
          }
        }),
      );
    }
    // Most of them are refused (bad auth, bad fault header, bad body) — and some got through.
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNamesBefore);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const live = await fetch(`${server.baseUrl}/v1/health/live`);
    expect(live.status).toBe(200);
    const s = server.service.runtime.engine.stats();
    expect([s.running, s.waiting]).toEqual([0, 0]);
  }, 30_000);
});

describe('mass disconnects', () => {
  let server: LiveServer;
  beforeAll(async () => {
    // Real time, and fewer slots than streams, so some are aborted running and some queued.
    server = await startLiveServer({ timeScale: '1', maxNumSeqs: '128' });
  });
  afterAll(() => server.stop());

  it('frees every slot and KV block when 300 streams are aborted mid-way', async () => {
    const streams = Array.from({ length: 300 }, async (_, i) => {
      const controller = new AbortController();
      const res = await fetch(`${server.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          messages: [{ role: 'user', content: `Story number ${i}: ${'once upon a time '.repeat(20)}` }],
          max_tokens: 2_000,
          ignore_eos: true,
          stream: true,
        }),
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      // Read a few frames if it is running; the queued ones are aborted before their first token.
      const frames = i < 200 ? 3 : 0;
      for (let f = 0; f < frames; f++) await reader.read();
      controller.abort();
      return frames;
    });
    await Promise.all(streams);
    const deadline = Date.now() + 3_000;
    let s = server.service.runtime.engine.stats();
    while ((s.running > 0 || s.waiting > 0 || s.kvBlocksInUse > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      s = server.service.runtime.engine.stats();
    }
    expect([s.running, s.waiting, s.kvBlocksInUse]).toEqual([0, 0, 0]);
    // The server still serves.
    const ok = await fetch(`${server.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    expect(ok.status).toBe(200);
  }, 30_000);
});
