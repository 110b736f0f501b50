import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging.js';
import { createService } from '../../src/server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';

function loggedService() {
  const lines: Record<string, unknown>[] = [];
  const config = loadConfig({}, { timeScale: '0', jitter: '0', jsonlLogging: '1', logLevel: 'INFO' });
  const service = createService(
    config,
    createLogger('INFO', true, (l) => lines.push(JSON.parse(l) as Record<string, unknown>)),
    {
      processMetrics: false,
    },
  );
  const post = (body: unknown) =>
    service.app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  return { lines, service, post };
}

describe('access log', () => {
  it('writes one JSON line per request with method, route, status, latency and tokens', async () => {
    const { lines, post } = loggedService();
    const res = await post({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
      ignore_eos: true,
    });
    const usage = ((await res.json()) as { usage: { prompt_tokens: number } }).usage;
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      method: 'POST',
      route: '/v1/chat/completions',
      status: 200,
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: 5,
      cached_tokens: 0,
    });
    expect(typeof lines[0]!['latency_ms']).toBe('number');
  });

  it('logs a stream once, when it has ended, with its tokens', async () => {
    const { lines, post } = loggedService();
    const res = await post({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 6,
      ignore_eos: true,
      stream: true,
    });
    await res.text();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 200, completion_tokens: 6 });
  });

  it('records the session identity (prompt_cache_key, else user) for routing analysis', async () => {
    const { lines, post } = loggedService();
    await post({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, user: 'u-7' });
    await post({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
      user: 'u-7',
      prompt_cache_key: 'conv-42',
    });
    expect(lines.map((l) => l['session'])).toEqual(['u-7', 'conv-42']);
  });

  it('logs errors without tokens', async () => {
    const { lines, post } = loggedService();
    await post({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 404 });
    expect(lines[0]).not.toHaveProperty('completion_tokens');
  });
});
