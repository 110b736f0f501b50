/**
 * The admission checks every request passes before its route (src/api/http/admission.ts): a declared
 * body size, then API key and readiness, then the fault draw — in that order, each answered with its status
 * and counted under the route it was meant for.
 */
import { describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from '../helpers/prom-text.js';
import { postJson, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const CHAT = { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 };

describe('admission', () => {
  it('checks a declared body size before the API key, and the API key before faults', async () => {
    const service = testService({ apiKey: 'k', maxBodyBytes: '1024' });
    const big = JSON.stringify({ ...CHAT, messages: [{ role: 'user', content: 'x'.repeat(2000) }] });
    // A declared Content-Length is refused before anything else; a body that does not declare
    // its length is only read (and measured) by a route, after the API key (request-body.ts).
    const declared = { 'content-length': String(Buffer.byteLength(big)) };
    expect((await postJson(service, '/v1/chat/completions', big, declared)).status).toBe(413);
    expect((await postJson(service, '/v1/chat/completions', big)).status).toBe(401);
    const streamed = await postJson(service, '/v1/chat/completions', big, { authorization: 'Bearer k' });
    expect(streamed.status).toBe(413);
    const forced = { 'x-nimsim-fault': 'rate_limit' };
    expect((await postJson(service, '/v1/chat/completions', CHAT, forced)).status).toBe(401);
    const authed = { ...forced, authorization: 'Bearer k' };
    expect((await postJson(service, '/v1/chat/completions', CHAT, authed)).status).toBe(429);
    const ok = await postJson(service, '/v1/chat/completions', CHAT, { authorization: 'Bearer k' });
    expect(ok.status).toBe(200);
  });

  it('counts a request refused before its route under that route', async () => {
    const service = testService({ apiKey: 'k' });
    await postJson(service, '/v1/chat/completions', CHAT);
    await postJson(
      service,
      '/v1/completions',
      { model: MODEL, prompt: 'Hi' },
      {
        authorization: 'Bearer k',
        'x-nimsim-fault': 'service_unavailable',
      },
    );
    await postJson(service, '/v1/nothing-here', CHAT);
    const exp = parseExposition(await (await service.app.request('/metrics')).text());
    const http = (route: string, status: string) =>
      sampleValue(exp, 'nimsim_http_requests_total', { route, method: 'POST', status });
    expect(http('/v1/chat/completions', '401')).toBe(1);
    expect(http('/v1/completions', '503')).toBe(1);
    expect(http('unmatched', '404')).toBe(1);
  });
});
