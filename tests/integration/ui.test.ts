/**
 * GET /ui and GET /ui/events through app.request(): the page is one self-contained document that
 * loads nothing from anywhere, the event stream carries counts and never a prompt or reply, and
 * access follows the settings (open by default, the admin token when set, off with NIMSIM_UI=0).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/server.js';
import { postJson, testService } from '../helpers/service.js';

const services: Service[] = [];
const service = (settings: Parameters<typeof testService>[0] = {}) => {
  const s = testService(settings);
  services.push(s);
  return s;
};
afterEach(() => {
  for (const s of services.splice(0)) s.liveFeed?.close();
});

/** Reads an event stream's frames until `enough` says stop (or 5 s pass), then cancels it. */
async function frames(res: Response, enough: (f: Record<string, unknown>[]) => boolean) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const out: Record<string, unknown>[] = [];
  let text = '';
  const deadline = Date.now() + 5000;
  while (!enough(out) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const frame = text.slice(0, end);
      text = text.slice(end + 2);
      if (frame.startsWith('data: ')) out.push(JSON.parse(frame.slice(6)) as Record<string, unknown>);
    }
  }
  await reader.cancel();
  return { frames: out, raw: text };
}

describe('GET /ui', () => {
  it('is one HTML page with its scripts and styles inline, loading nothing from any host', async () => {
    const res = await service().app.request('/ui');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).toContain('<script>');
    expect(html).toContain("new EventSource('ui/events'");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="(?!data:)|@import|url\(http/i);
    expect(html).not.toMatch(/cdn|unpkg|jsdelivr|googleapis/i);
    // The SVG namespace is the only absolute URL in it, and nothing is fetched from it.
    expect(html.match(/https?:\/\/[^\s'"`)]+/g) ?? []).toEqual(['http://www.w3.org/2000/svg']);
  });

  it('is 404 with NIMSIM_UI=0, both the page and its stream', async () => {
    const s = service({ ui: '0' });
    expect((await s.app.request('/ui')).status).toBe(404);
    expect((await s.app.request('/ui/events')).status).toBe(404);
    expect(s.liveFeed).toBeUndefined();
  });

  it('needs the admin token when NIMSIM_ADMIN_TOKEN is set: bearer or ?token=', async () => {
    const s = service({ adminToken: 's3cret' });
    const denied = await s.app.request('/ui');
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await denied.json()) as { error: { message: string } }).error.message).toContain('admin token');
    expect((await s.app.request('/ui?token=wrong')).status).toBe(401);
    expect((await s.app.request('/ui/events')).status).toBe(401);
    expect((await s.app.request('/ui', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await s.app.request('/ui?token=s3cret')).status).toBe(200);
    const events = await s.app.request('/ui/events?token=s3cret');
    expect(events.status).toBe(200);
    await events.body!.cancel();
  });
});

describe('GET /ui/events', () => {
  it('sends a hello, then ticks of counts, and never a prompt or a reply', async () => {
    const s = service({ timeScale: '1', kvCacheBlocks: '4000' });
    const res = await s.app.request('/ui/events');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const secret = 'zebra-unicorn-password-42';
    const chats = Array.from({ length: 4 }, async () => {
      const reply = await postJson(s, '/v1/chat/completions', {
        model: 'meta/llama-3.1-8b-instruct',
        messages: [{ role: 'user', content: `Remember ${secret}. `.repeat(30) }],
        max_tokens: 300,
        ignore_eos: true,
      });
      return reply.text();
    });
    const busy = (f: Record<string, unknown>) =>
      f['type'] === 'tick' && (f['replicas'] as { running: number }[])[0]!.running > 0;
    const got = await frames(res, (fs) => fs.filter(busy).length >= 2);
    const replies = await Promise.all(chats);
    const [hello, ...ticks] = got.frames;
    expect(hello!['type']).toBe('hello');
    expect(hello!['tickMs']).toBe(250);
    expect(hello!['tiers']).toEqual([{ gpu: 4000, host: 0, disk: 0 }]);
    expect(ticks.every((t) => t['type'] === 'tick')).toBe(true);
    const running = ticks.filter(busy);
    expect(running.length).toBeGreaterThanOrEqual(2);
    const r = (running[0]!['replicas'] as Record<string, unknown>[])[0]!;
    const gpu = r['gpu'] as number[];
    expect(gpu[0]).toBeGreaterThan(0);
    expect(gpu[0]! + gpu[1]! + gpu[2]!).toBe(4000);
    expect(ticks.some((t) => ((t['replicas'] as { steps: number }[])[0]!.steps ?? 0) > 0)).toBe(true);
    // Counts only: the prompt's words and the replies' text appear nowhere in the stream.
    const wire = JSON.stringify(got.frames) + got.raw;
    expect(wire).not.toContain('zebra');
    for (const reply of replies) {
      const content = (JSON.parse(reply) as { choices: { message: { content: string } }[] }).choices[0]!
        .message.content;
      expect(wire).not.toContain(content.slice(0, 30));
    }
    // The page closed: no listener left, the timer stopped.
    await new Promise((done) => setTimeout(done, 50));
    expect(s.liveFeed!.clients).toBe(0);
  });

  it('ends every open stream when the server drains', async () => {
    const s = service();
    const res = await s.app.request('/ui/events');
    expect(s.liveFeed!.clients).toBe(1);
    await s.drain(1000);
    expect(s.liveFeed!.clients).toBe(0);
    const text = await res.text();
    expect(text.startsWith('data: {"type":"hello"')).toBe(true);
  });
});
