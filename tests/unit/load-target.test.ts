import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../load-tests/lib/child-server.js';
import { aggregate } from '../../load-tests/lib/metrics.js';
import { runChecks } from '../../load-tests/lib/metrics-table.js';
import { httpErrorText, streamRequest, transportErrorText } from '../../load-tests/lib/sse-client.js';
import { checkTarget } from '../../load-tests/lib/target-check.js';
import type { Target } from '../../load-tests/lib/target.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const NOT_FOUND = {
  error: { message: 'The model `foo/bar` does not exist.', type: 'NotFoundError', code: 404 },
};

/** An OpenAI-shaped endpoint: a model list, a key check, and a 404 for an unknown model. */
let server: http.Server;
let port: number;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.url?.startsWith('/keyed/') && req.headers.authorization !== 'Bearer good') {
        return json(401, { error: { message: 'Invalid API key.' } });
      }
      const path = req.url?.replace(/^\/keyed/, '');
      if (path === '/v1/models') return json(200, { object: 'list', data: [{ id: MODEL, object: 'model' }] });
      if (path === '/v1/chat/completions') {
        if ((JSON.parse(body) as { model: string }).model !== MODEL) return json(404, NOT_FOUND);
      }
      if (path === '/broken/v1/models') return json(503, { error: { message: 'Model is still loading.' } });
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`Route ${req.method} ${req.url} not found.`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const target = (over: Partial<Target> = {}): Target => ({
  host: '127.0.0.1',
  port,
  basePath: '',
  model: MODEL,
  apiKey: undefined,
  ...over,
});

describe('--url pre-flight check (GET /v1/models)', () => {
  it('passes a target that serves the model', async () => {
    expect(await checkTarget(target())).toBeUndefined();
    expect(await checkTarget(target({ basePath: '/keyed', apiKey: 'good' }))).toBeUndefined();
  });

  it('stops on a dead port with exit 1 and says "connection refused"', async () => {
    const dead = await freePort();
    const problem = await checkTarget(target({ port: dead }));
    expect(problem?.exitCode).toBe(1);
    expect(problem?.message).toBe(
      `cannot reach http://127.0.0.1:${dead}: GET /v1/models: connection refused, nothing listens there ` +
        `(connect ECONNREFUSED 127.0.0.1:${dead})`,
    );
  });

  it('stops on a model the target does not serve with exit 2, listing what it serves', async () => {
    const problem = await checkTarget(target({ model: 'foo/bar' }));
    expect(problem).toEqual({
      exitCode: 2,
      message: `--model: http://127.0.0.1:${port} does not serve foo/bar; it serves ${MODEL}`,
    });
  });

  it('stops on a missing or refused API key with exit 2 and the server message', async () => {
    const missing = await checkTarget(target({ basePath: '/keyed' }));
    expect(missing?.exitCode).toBe(2);
    expect(missing?.message).toContain('--api-key: ');
    expect(missing?.message).toContain('wants an API key (GET /v1/models: HTTP 401: Invalid API key.)');
    const wrong = await checkTarget(target({ basePath: '/keyed', apiKey: 'bad' }));
    expect(wrong?.message).toContain('refused the API key');
  });

  it('stops on a URL that is not an API root (exit 2) and on a failing server (exit 1)', async () => {
    const root = await checkTarget(target({ basePath: '/api' }));
    expect(root?.exitCode).toBe(2);
    expect(root?.message).toContain('is not an OpenAI-compatible API root');
    expect(root?.message).toContain('HTTP 404: Route GET /api/v1/models not found.');
    const broken = await checkTarget(target({ basePath: '/broken' }));
    expect(broken).toEqual({
      exitCode: 1,
      message: `http://127.0.0.1:${port}/broken is not serving: GET /v1/models: HTTP 503: Model is still loading.`,
    });
  });
});

describe('failed requests keep the first message of each kind', () => {
  const send = (p: number, model: string) =>
    streamRequest({
      host: '127.0.0.1',
      port: p,
      path: '/v1/chat/completions',
      body: JSON.stringify({ model, messages: [], stream: true }),
      agent: new http.Agent(),
      timeoutMs: 5000,
    });

  it("an HTTP error carries the server's own message into the report's check", async () => {
    const records = [await send(port, 'foo/bar'), await send(port, 'foo/bar')];
    expect(records[0]!.error).toBe('HTTP 404: The model `foo/bar` does not exist.');
    const m = aggregate(records);
    expect(m.errorsByStatus).toEqual({ 'HTTP 404': 2 });
    expect(m.firstErrors).toEqual({ 'HTTP 404': 'HTTP 404: The model `foo/bar` does not exist.' });
    const [noErrors, , tokens] = runChecks('closed loop', m, 32);
    expect(noErrors!.detail).toBe(
      '0/2 ok, errors {"HTTP 404":2}; first HTTP 404: The model `foo/bar` does not exist.',
    );
    expect(tokens!.detail).toBe('no request succeeded, so no tokens to count (see the errors)');
  });

  it('a transport error says "connection refused"', async () => {
    const dead = await freePort();
    const m = aggregate([await send(dead, MODEL)]);
    expect(m.firstErrors.transport).toBe(
      `connection refused, nothing listens there (connect ECONNREFUSED 127.0.0.1:${dead})`,
    );
  });

  it('reads OpenAI, FastAPI and plain-text error bodies', () => {
    expect(httpErrorText(404, JSON.stringify(NOT_FOUND))).toBe(
      'HTTP 404: The model `foo/bar` does not exist.',
    );
    expect(httpErrorText(422, '{"detail":"field required"}')).toBe('HTTP 422: field required');
    expect(httpErrorText(502, '<html>\n Bad   Gateway</html>')).toBe('HTTP 502: <html> Bad Gateway</html>');
    expect(httpErrorText(500, '')).toBe('HTTP 500');
  });

  it('unwraps the AggregateError Node gives for a name with several addresses', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED ::1:9'), { code: 'ECONNREFUSED' });
    expect(transportErrorText(new AggregateError([inner], ''))).toBe(
      'connection refused, nothing listens there (connect ECONNREFUSED ::1:9)',
    );
  });
});
