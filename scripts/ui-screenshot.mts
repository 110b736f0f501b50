/**
 * Makes docs/ui.png: GET /ui of a two-replica nimsim (kv-aware router, a host KV tier, a few
 * injected faults) under ~45 s of multi-tenant streaming chat, captured at 1280×800 in Debian's
 * chromium (puppeteer-core).
 *
 *   npx tsx scripts/ui-screenshot.ts [--out docs/ui.png] [--seconds 45]
 */
import { parseArgs } from 'node:util';
import puppeteer from 'puppeteer-core';
import { startNimsim } from '../src/index.js';
import { findChromium } from '../tests/helpers/browser.js';

const { values } = parseArgs({
  options: { out: { type: 'string', default: 'docs/ui.png' }, seconds: { type: 'string', default: '45' } },
});
const chromium = findChromium();
if (!chromium) throw new Error('chromium is not installed');

const nim = await startNimsim({
  timeScale: 1,
  logLevel: 'WARNING',
  replicas: 2,
  router: 'kv-aware',
  kvCacheBlocks: 1500,
  kvHostCacheBlocks: 1000,
  faultRate: 0.01,
  faultTypes: ['rate_limit', 'server_error'],
});
const tenants = ['a travel agency', 'a bank', 'a GPU vendor'].map((who) =>
  `You are the assistant of ${who}. Answer briefly and politely. `.repeat(30),
);
let stopped = false;
const user = async (u: number) => {
  for (let turn = 0; !stopped; turn++) {
    try {
      const res = await fetch(`${nim.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'meta/llama-3.1-8b-instruct',
          messages: [
            { role: 'system', content: tenants[u % tenants.length] },
            { role: 'user', content: `Customer ${u} asks question ${turn}.` },
          ],
          max_tokens: 40 + ((u * 37 + turn * 53) % 220),
          ignore_eos: true,
          stream: true,
        }),
      });
      await res.text();
    } catch {
      return;
    }
    // Users arrive in waves, so the batch and the cache rise and fall.
    await new Promise((r) => setTimeout(r, ((u + turn) % 7) * 300));
  }
};
const browser = await puppeteer.launch({
  executablePath: chromium,
  args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
  defaultViewport: { width: 1280, height: 800 },
});
const page = await browser.newPage();
await page.goto(`${nim.url}/ui`);
const users = Array.from({ length: 40 }, (_, u) => user(u));
await new Promise((r) => setTimeout(r, Number(values.seconds) * 1000));
await page.screenshot({ path: values.out, type: 'png' });
stopped = true;
await browser.close();
await nim.close(1000);
await Promise.allSettled(users);
console.log(`wrote ${values.out}`);
