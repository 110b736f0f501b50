/**
 * The package's programmatic API (src/index.ts): a real server on a free port in this process,
 * settings as typed values, a graceful close that frees the port.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, startNimsim, toRawSettings } from '../../src/index.js';
import { createLogger } from '../../src/logging.js';

const quiet = createLogger('ERROR', false, () => {});

/** Whether something still listens on the port (a fresh listener there fails with EADDRINUSE). */
const portTaken = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });

describe('startNimsim', () => {
  it('serves on a free port with the settings given, and close() frees it', async () => {
    const nim = await startNimsim(
      { timeScale: 0, servedModelName: ['team/model', 'alias'], enableKvCacheReuse: false },
      { logger: quiet },
    );
    try {
      expect(nim.port).toBeGreaterThan(0);
      expect(nim.url).toBe(`http://127.0.0.1:${nim.port}`);
      expect(nim.baseURL).toBe(`${nim.url}/v1`);
      const models = (await (await fetch(`${nim.baseURL}/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(['team/model', 'alias']);
      const res = await fetch(`${nim.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'alias', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { usage: { completion_tokens: number } };
      expect(body.usage.completion_tokens).toBe(5);
      expect(nim.config.enableKvCacheReuse).toBe(false);
      expect(await portTaken(nim.port)).toBe(true);
    } finally {
      await nim.close();
    }
    expect(await portTaken(nim.port)).toBe(false);
    // A second close is the same shutdown, already done.
    await expect(nim.close()).resolves.toBeUndefined();
  });

  it('lets a running stream finish when closed mid-stream', async () => {
    const nim = await startNimsim({ timeScale: 1, readyDelayMs: 0 }, { logger: quiet });
    const res = await fetch(`${nim.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'meta/llama-3.1-8b-instruct',
        messages: [{ role: 'user', content: 'Tell me a story' }],
        max_tokens: 40,
        stream: true,
      }),
    });
    const closed = nim.close();
    const text = await res.text();
    await closed;
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(text).toContain('"finish_reason":"length"');
  });

  it('reads the environment only when given one', async () => {
    const nim = await startNimsim(
      { timeScale: 0 },
      { logger: quiet, env: { NIM_SERVED_MODEL_NAME: 'from-env' } },
    );
    try {
      expect(nim.config.servedModelName).toEqual(['from-env']);
    } finally {
      await nim.close();
    }
    const plain = await startNimsim({ timeScale: 0 }, { logger: quiet });
    try {
      expect(plain.config.servedModelName).toBeUndefined();
    } finally {
      await plain.close();
    }
  });

  it('rejects a bad value with a ConfigError naming the setting, and an unknown setting', async () => {
    const bad = await startNimsim({ timeScale: -1 }, { logger: quiet }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as Error).message).toBe('--time-scale=-1: must be 0 or a number from 0.001 to 1000000');
    expect(() => toRawSettings({ notASetting: 1 } as never)).toThrow(/unknown setting "notASetting"/);
  });

  it('writes numbers, booleans and lists as the CLI reads them', () => {
    expect(toRawSettings({ port: 0, jsonlLogging: true, servedModelName: ['a', 'b'], gpu: 'b200' })).toEqual({
      port: '0',
      jsonlLogging: '1',
      servedModelName: 'a,b',
      gpu: 'b200',
    });
  });
});
