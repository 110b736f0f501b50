/**
 * The live page in a real browser: with streams running against a live nimsim, GET /ui shows
 * non-zero running requests and KV usage within 5 s, its KV picture changes as requests finish
 * (blocks in use become cached, reusable ones), and the page logs no error. A screenshot is saved
 * (the path is printed).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer-core';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';
import { BROWSER_SKIP_REASON, collectPageErrors, launchBrowser, screenshotDir } from '../helpers/browser.js';

if (BROWSER_SKIP_REASON) console.warn(`ui-browser.test.ts: ${BROWSER_SKIP_REASON}`);

const SYSTEM = 'You are a helpful assistant who answers questions about GPUs and caches. '.repeat(40);

/** `users` clients, each streaming one chat request after another until stopped. */
function startLoad(server: LiveServer, users: number) {
  let stopped = false;
  const controller = new AbortController();
  let finished = 0;
  const user = async (u: number) => {
    for (let turn = 0; !stopped; turn++) {
      try {
        const res = await fetch(`${server.baseUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'meta/llama-3.1-8b-instruct',
            messages: [
              { role: 'system', content: SYSTEM },
              { role: 'user', content: `User ${u}, question ${turn}: how do prefix caches work?` },
            ],
            max_tokens: 24 + ((u * 37 + turn * 53) % 160),
            ignore_eos: true,
            stream: true,
          }),
          signal: controller.signal,
        });
        await res.text();
        finished++;
      } catch {
        return;
      }
    }
  };
  const all = Array.from({ length: users }, (_, u) => user(u));
  return {
    get finished() {
      return finished;
    },
    async stop() {
      stopped = true;
      controller.abort();
      await Promise.all(all);
    },
  };
}

interface PageState {
  running: number;
  inUse: number;
  reusable: number;
  free: number;
  status: string;
}

/** What the test reads of the page: the tile and the first GPU's KV canvas (its data attributes). */
const READ_PAGE = `(() => {
  const canvas = document.querySelector('#kv-gpu-0');
  return {
    running: Number(document.querySelector('#tile-running .value').textContent),
    inUse: Number(canvas.dataset.inUse ?? 0),
    reusable: Number(canvas.dataset.reusable ?? 0),
    free: Number(canvas.dataset.free ?? 0),
    status: document.querySelector('.status').textContent,
  };
})()`;

describe.skipIf(BROWSER_SKIP_REASON !== undefined)('GET /ui in a browser', () => {
  let server: LiveServer;
  let browser: Browser;

  beforeAll(async () => {
    // A small KV cache with a host tier below it, so the blocks fill, get cached and move.
    server = await startLiveServer({
      timeScale: '1',
      kvCacheBlocks: '1200',
      kvHostCacheBlocks: '800',
      maxModelLen: '8192',
    });
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows running requests and KV usage within 5 s, and the KV picture changes as requests finish', async () => {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${server.baseUrl}/ui`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#kv-gpu-0', { timeout: 15_000 });
    const read = () => page.evaluate(READ_PAGE) as Promise<PageState>;
    const load = startLoad(server, 24);
    try {
      const started = Date.now();
      let seen = await read();
      while (!(seen.running > 0 && seen.inUse > 0) && Date.now() - started < 5_000) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await read();
      }
      expect(seen.running, 'running requests on the page within 5 s').toBeGreaterThan(0);
      expect(seen.inUse, 'KV blocks in use on the page within 5 s').toBeGreaterThan(0);
      expect(seen.status).toBe('live');
      expect(seen.inUse + seen.reusable + seen.free).toBe(1200);

      // As requests finish, their blocks are released: cached (reusable) blocks appear and the
      // picture keeps changing.
      const states = new Set<string>([`${seen.inUse}/${seen.reusable}`]);
      const until = Date.now() + 15_000;
      while (Date.now() < until && !(load.finished > 0 && seen.reusable > 0 && states.size >= 4)) {
        await new Promise((r) => setTimeout(r, 250));
        seen = await read();
        states.add(`${seen.inUse}/${seen.reusable}`);
      }
      expect(load.finished).toBeGreaterThan(0);
      expect(seen.reusable, 'cached blocks of finished requests').toBeGreaterThan(0);
      expect(states.size).toBeGreaterThanOrEqual(4);
      // A few more seconds of history for the screenshot's timelines.
      await new Promise((r) => setTimeout(r, 4_000));
      const file = join(screenshotDir(), 'ui-live.png');
      await page.screenshot({ path: file });
      console.log(`ui-browser.test.ts: screenshot of GET /ui at ${file}`);
    } finally {
      await load.stop();
    }
    await page.close();
    expect(errors).toEqual([]);
  }, 90_000);
});
