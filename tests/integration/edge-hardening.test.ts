/**
 * The HTTP edge holds one request to bounds, through app.request(): a body is read only by the
 * route that wants it, after admission, and no further than the limit; an event stream a client
 * does not read is cut at NIMSIM_STREAM_BUFFER_BYTES; injected delays have a maximum, stop when
 * the client goes away and can be switched off per request; connections dropped by a fault are
 * counted as `dropped`; what a client controls is escaped in the log; the time scale is bounded.
 * The same bounds over a real socket, with memory and liveness watched, are in
 * tests/live/hardening-edge.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { MAX_INJECTED_DELAY_MS } from '../../src/config/settings.js';
import { createLogger } from '../../src/logging.js';
import { createService } from '../../src/server.js';
import { parseExposition, sampleValue } from '../helpers/prom-text.js';
import { postJson, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const CHAT = { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 };
type Json = Record<string, unknown>;

/** A body of `chunks` × `chunkBytes` that counts what the server pulled from it. */
function countingBody(chunks: number, chunkBytes: number) {
  const state = { pulled: 0 };
  const chunk = new TextEncoder().encode('x'.repeat(chunkBytes));
  let sent = 0;
  // highWaterMark 0: nothing is pulled until the server reads.
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent === chunks) return controller.close();
        sent++;
        state.pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { body, state };
}

function streamed(
  service: ReturnType<typeof testService>,
  path: string,
  body: ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
  method = 'POST',
) {
  return service.app.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
}

async function errorOf(res: Response): Promise<Json> {
  return ((await res.json()) as { error: Json }).error;
}

describe('request bodies', () => {
  it('stops reading a chunked body at the limit: 413 naming body', async () => {
    const service = testService({ maxBodyBytes: '4096' });
    const { body, state } = countingBody(256, 1024); // 256 KiB offered
    const res = await streamed(service, '/v1/chat/completions', body);
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toMatchObject({ param: 'body', code: 413 });
    // Read up to the first chunk past the limit, not one more.
    expect(state.pulled).toBe(5 * 1024);
  });

  it('answers a declared length over the limit with 413 without reading a byte', async () => {
    const service = testService({ maxBodyBytes: '4096' });
    const { body, state } = countingBody(8, 1024);
    const res = await streamed(service, '/v1/chat/completions', body, { 'content-length': '8192' });
    expect(res.status).toBe(413);
    expect(state.pulled).toBe(0);
  });

  it('reads no body before the API key, on an unknown route, or under a hidden /admin', async () => {
    const service = testService({ apiKey: 'k' });
    const cases: [string, string, number][] = [
      ['POST', '/v1/chat/completions', 401],
      ['POST', '/tokenize', 401],
      ['POST', '/nope', 404],
      ['PATCH', '/admin/config', 404],
    ];
    for (const [method, path, status] of cases) {
      const { body, state } = countingBody(64, 1024);
      const res = await streamed(service, path, body, {}, method);
      expect(res.status, path).toBe(status);
      expect(state.pulled, path).toBe(0);
    }
    const admin = testService({ adminToken: 'adm' });
    const { body, state } = countingBody(64, 1024);
    expect((await streamed(admin, '/admin/config', body, {}, 'PATCH')).status).toBe(401);
    expect(state.pulled).toBe(0);
  });

  it('bounds the limit itself below the longest string a body can be decoded to', () => {
    expect(loadConfig({}, { maxBodyBytes: String(256 * 1024 * 1024) }).maxBodyBytes).toBe(268_435_456);
    expect(() => loadConfig({}, { maxBodyBytes: String(700 * 1024 * 1024) })).toThrow(/--max-body-bytes/);
  });

  it('refuses a PATCH /admin/config body that is not UTF-8 with 400', async () => {
    const service = testService({ adminToken: 'adm' });
    const res = await service.app.request('/admin/config', {
      method: 'PATCH',
      headers: { authorization: 'Bearer adm', 'content-type': 'application/json' },
      body: new Uint8Array([...new TextEncoder().encode('{"NIMSIM_JITTER": "0.1'), 0xff, 0x22, 0x7d]),
    });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      param: 'body',
      message: 'The request body is not valid UTF-8.',
    });
  });
});

describe('event streams a client does not read', () => {
  it('are cut once more than NIMSIM_STREAM_BUFFER_BYTES waits unread, freeing slot and KV', async () => {
    const bound = 16_384;
    const service = testService({ streamBufferBytes: String(bound) });
    const res = await postJson(service, '/v1/chat/completions', {
      ...CHAT,
      max_tokens: 4000,
      ignore_eos: true,
      stream: true,
    });
    expect(res.status).toBe(200);
    // Nobody reads: the frames queue in the response body until the bound is passed, then the
    // generation is aborted — after a few hundred frames, not the 4,000 asked for.
    await new Promise((r) => setTimeout(r, 300));
    const stats = service.runtime.engine.stats();
    expect(stats.running).toBe(0);
    expect(stats.kvBlocksInUse).toBe(0);
    expect(stats.steps).toBeGreaterThan(10);
    expect(stats.steps).toBeLessThan(500);
    // The body errors (what was queued is dropped), with no [DONE].
    const failure = await res.text().then(
      () => undefined,
      (err: Error) => err,
    );
    expect(failure?.message).toContain('NIMSIM_STREAM_BUFFER_BYTES');
  });
});

describe('injected delays', () => {
  it(`allow at most ${MAX_INJECTED_DELAY_MS} ms: beyond it 400 naming the header or setting`, async () => {
    const service = testService({ adminToken: 'adm' });
    const res = await postJson(service, '/v1/chat/completions', CHAT, {
      'x-nimsim-fault': 'timeout',
      'x-nimsim-fault-delay-ms': String(MAX_INJECTED_DELAY_MS + 1),
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res))['param']).toBe('x-nimsim-fault-delay-ms');
    expect(() => loadConfig({}, { faultDelayMs: String(MAX_INJECTED_DELAY_MS + 1) })).toThrow(
      /NIMSIM_FAULT_DELAY_MS|--fault-delay-ms/,
    );
    const patch = (body: Json) =>
      service.app.request('/admin/config', {
        method: 'PATCH',
        headers: { authorization: 'Bearer adm', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await patch({ NIMSIM_FAULT_DELAY_MS: MAX_INJECTED_DELAY_MS + 1 });
    expect(refused.status).toBe(400);
    expect((await errorOf(refused))['param']).toBe('NIMSIM_FAULT_DELAY_MS');
    // A rule's latency_ms has the same maximum.
    const rule = await patch({
      rules: [{ match: { user_contains: 'x' }, reply: { latency_ms: MAX_INJECTED_DELAY_MS + 1 } }],
    });
    expect(rule.status).toBe(400);
    expect((await errorOf(rule))['message']).toContain('latency_ms');
    const atMax = await patch({
      rules: [{ match: { user_contains: 'x' }, reply: { latency_ms: MAX_INJECTED_DELAY_MS } }],
    });
    expect(atMax.status).toBe(200);
  });

  it('ignores the per-request fault headers with NIMSIM_FAULT_HEADERS=0', async () => {
    const off = testService({ faultHeaders: '0' });
    const forced = { 'x-nimsim-fault': 'rate_limit', 'x-nimsim-fault-delay-ms': 'junk' };
    const res = await postJson(off, '/v1/chat/completions', CHAT, forced);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-nimsim-fault-injected')).toBeNull();
    // The rate still draws faults, at the configured delay.
    const drawn = testService({ faultHeaders: '0', faultRate: '1', faultTypes: 'rate_limit' });
    expect((await postJson(drawn, '/v1/chat/completions', CHAT, { 'x-nimsim-fault': 'none' })).status).toBe(
      429,
    );
    // On by default.
    const on = await postJson(testService(), '/v1/chat/completions', CHAT, {
      'x-nimsim-fault': 'rate_limit',
    });
    expect(on.status).toBe(429);
  });

  for (const [route, body] of [
    ['/v1/chat/completions', { ...CHAT, messages: [{ role: 'user', content: 'wait for it' }] }],
    ['/v1/completions', { model: MODEL, prompt: 'wait for it', max_tokens: 2 }],
  ] as const) {
    it(`stop a rule's latency_ms on ${route} when the client goes away`, async () => {
      const service = testService({ adminToken: 'adm' });
      const rules = [
        { match: { user_contains: 'wait for it' }, reply: { latency_ms: MAX_INJECTED_DELAY_MS } },
      ];
      const set = await service.app.request('/admin/config', {
        method: 'PATCH',
        headers: { authorization: 'Bearer adm', 'content-type': 'application/json' },
        body: JSON.stringify({ rules }),
      });
      expect(set.status).toBe(200);
      const client = new AbortController();
      const start = performance.now();
      const answered = Promise.resolve(
        service.app.request(route, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: client.signal,
        }),
      ).then(
        () => performance.now() - start,
        () => performance.now() - start,
      );
      setTimeout(() => client.abort(), 50);
      const settled = await Promise.race([
        answered,
        new Promise<number>((r) => setTimeout(() => r(Infinity), 3_000)),
      ]);
      expect(settled).toBeLessThan(2_000);
      expect(service.runtime.engine.stats().running).toBe(0);
    });
  }
});

describe('connections dropped by a fault', () => {
  it('are counted and logged as status "dropped", not as a status no client saw', async () => {
    const lines: Json[] = [];
    const config = loadConfig({}, { timeScale: '0', jitter: '0' });
    const service = createService(
      config,
      createLogger('INFO', true, (l) => lines.push(JSON.parse(l) as Json)),
      { processMetrics: false },
    );
    for (const fault of ['timeout', 'disconnect']) {
      const res = await postJson(service, '/v1/chat/completions', CHAT, {
        'x-nimsim-fault': fault,
        'x-nimsim-fault-delay-ms': '0',
      });
      await res.text().catch(() => undefined);
    }
    const exp = parseExposition(await (await service.app.request('/metrics')).text());
    const labels = { route: '/v1/chat/completions', method: 'POST' };
    expect(sampleValue(exp, 'nimsim_http_requests_total', { ...labels, status: 'dropped' })).toBe(2);
    const statuses = exp.samples
      .filter((s) => s.name === 'nimsim_http_requests_total' && s.labels['route'] === labels.route)
      .map((s) => s.labels['status']);
    expect(statuses).toEqual(['dropped']);
    const logged = lines.filter((l) => l['route'] === '/v1/chat/completions');
    expect(logged.map((l) => l['status'])).toEqual(['dropped', 'dropped']);
  });
});

describe('the access log', () => {
  const FORGED = '/v1/%0a2026-01-01T00:00:00.000Z%20INFO%20%20%20%20nimsim:%20GET%20/admin%20200%0d%1b[2J';

  it('writes what a client controls escaped, one line per request, in text mode', async () => {
    const lines: string[] = [];
    const service = createService(
      loadConfig({}, { timeScale: '0', jitter: '0' }),
      createLogger('INFO', false, (l) => lines.push(l)),
      { processMetrics: false },
    );
    await service.app.request(FORGED);
    await postJson(service, '/v1/chat/completions', { ...CHAT, user: 'bob\nINFO forged\u2028' });
    expect(lines).toHaveLength(2);
    // eslint-disable-next-line no-control-regex -- no control character may reach a log line
    for (const line of lines) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(lines[0]).toContain(`GET ${FORGED} 404`);
    expect(lines[1]).toContain('session=bob\\x0aINFO forged\\u2028');
  });

  it('writes the path as sent, not decoded, in JSONL mode', async () => {
    const lines: Json[] = [];
    const service = createService(
      loadConfig({}, { timeScale: '0', jitter: '0' }),
      createLogger('INFO', true, (l) => lines.push(JSON.parse(l) as Json)),
      { processMetrics: false },
    );
    await service.app.request(FORGED);
    expect(lines[0]).toMatchObject({ path: FORGED, message: `GET ${FORGED} 404`, status: 404 });
  });
});

describe('the time scale', () => {
  it('is 0 or at least 0.001, at start-up and through PATCH /admin/config', async () => {
    expect(() => loadConfig({ NIMSIM_TIME_SCALE: '1e-300' })).toThrow(/NIMSIM_TIME_SCALE.*0\.001/);
    expect(() => loadConfig({}, { timeScale: '0.0009' })).toThrow(/--time-scale/);
    expect(loadConfig({ NIMSIM_TIME_SCALE: '0.001' }).timeScale).toBe(0.001);
    const service = testService({ adminToken: 'adm' });
    const patch = (value: unknown) =>
      service.app.request('/admin/config', {
        method: 'PATCH',
        headers: { authorization: 'Bearer adm', 'content-type': 'application/json' },
        body: JSON.stringify({ NIMSIM_TIME_SCALE: value }),
      });
    const refused = await patch(1e-300);
    expect(refused.status).toBe(400);
    expect((await errorOf(refused))['param']).toBe('NIMSIM_TIME_SCALE');
    expect(service.runtime.engine.stats().running).toBe(0);
    expect((await patch(0.001)).status).toBe(200);
    expect((await patch(0)).status).toBe(200);
  });
});
