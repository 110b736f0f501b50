/**
 * Graceful shutdown over a socket: readiness turns 503 at once, new requests are refused, and a
 * stream still running at the drain timeout ends with an in-band 503 error frame and [DONE]
 * (the SIGTERM-during-a-short-stream case, exit 0, is in tests/integration/cli.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging.js';
import { startServer } from '../../src/server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';

describe('graceful shutdown', () => {
  it('refuses new work at once and ends a stream cut by the drain timeout with an error frame', async () => {
    const config = loadConfig({}, { port: '0', host: '127.0.0.1', timeScale: '1', jitter: '0' });
    const running = await startServer(
      config,
      createLogger('ERROR', false, () => {}),
    );
    const base = `http://127.0.0.1:${running.port}`;
    try {
      const res = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          messages: [{ role: 'user', content: 'Write a very long story.' }],
          max_tokens: 20_000,
          ignore_eos: true,
          stream: true,
        }),
      });
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let text = '';
      while (text.split('\n\n').length < 4) text += dec.decode((await reader.read()).value);

      const shutdown = running.shutdown(400);
      const ready = await fetch(`${base}/v1/health/ready`);
      expect(ready.status).toBe(503);
      const refused = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      });
      expect(refused.status).toBe(503);
      await refused.text();

      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += dec.decode(value);
      }
      const frames = text.split('\n\n').filter((f) => f.startsWith('data: '));
      expect(frames.at(-1)).toBe('data: [DONE]');
      const error = JSON.parse(frames.at(-2)!.slice('data: '.length)) as {
        error: { code: number; type: string };
      };
      expect(error.error).toMatchObject({ code: 503, type: 'ServiceUnavailableError' });
      await shutdown;
      const s = running.service.runtime.engine.stats();
      expect([s.running, s.waiting, s.kvBlocksInUse]).toEqual([0, 0, 0]);
    } finally {
      if ('closeAllConnections' in running.server) running.server.closeAllConnections();
      await running.shutdown(0);
    }
  });
});
