/**
 * The `simulate --html` report in a real browser, opened from its file (file://): it draws the run
 * (running requests and KV blocks at the moment of peak KV use, per replica), its slider moves the
 * KV picture through the run, and it logs no error and loads nothing from anywhere. A screenshot is
 * saved (the path is printed).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer-core';
import { loadConfig } from '../../src/config/config.js';
import { runSimulation } from '../../src/simulate/simulate.js';
import { createTimelineRecorder } from '../../src/simulate/html-timeline.js';
import { renderHtmlReport } from '../../src/simulate/html-report.js';
import { BROWSER_SKIP_REASON, collectPageErrors, launchBrowser, screenshotDir } from '../helpers/browser.js';

if (BROWSER_SKIP_REASON) console.warn(`ui-report-browser.test.ts: ${BROWSER_SKIP_REASON}`);

interface ReportState {
  running: number;
  inUse: number[];
  reusable: number[];
  moment: string;
  replicas: number;
  requests: number;
}

const READ_REPORT = `(() => {
  const canvases = [...document.querySelectorAll('canvas[id^="kv-gpu-"]')];
  return {
    running: Number(document.querySelector('#tile-running .value').textContent),
    inUse: canvases.map((c) => Number(c.dataset.inUse)),
    reusable: canvases.map((c) => Number(c.dataset.reusable)),
    moment: document.querySelector('#moment').value,
    replicas: canvases.length,
    requests: performance.getEntriesByType('resource').length,
  };
})()`;

/** A two-replica multi-turn run with a small cache, written as the CLI writes it. */
function writeReport(): string {
  const config = loadConfig(
    {},
    { replicas: '2', router: 'kv-aware', kvCacheBlocks: '2000', kvHostCacheBlocks: '1000' },
  );
  const timeline = createTimelineRecorder();
  const report = runSimulation(
    config,
    {
      concurrency: 1,
      requestRate: 20,
      requests: 1500,
      inputTokens: 300,
      outputTokens: 150,
      inputTokensStddev: 50,
      outputTokensStddev: 50,
      sharedPrefixTokens: 800,
      turns: 3,
      thinkTimeMs: 1500,
    },
    { watch: (runtime) => timeline.attach(runtime) },
  );
  const file = join(mkdtempSync(join(tmpdir(), 'nimsim-report-')), 'report.html');
  writeFileSync(file, renderHtmlReport(timeline.result(), report, { command: 'nimsim simulate (test)' }));
  return file;
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)('simulate --html in a browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('draws the run per replica, and its slider moves the KV picture through it', async () => {
    const file = writeReport();
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForSelector('#kv-gpu-1', { timeout: 15_000 });
    const first = (await page.evaluate(READ_REPORT)) as ReportState;
    expect(first.replicas).toBe(2);
    expect(first.running).toBeGreaterThan(0);
    expect(Math.max(...first.inUse)).toBeGreaterThan(0);
    // Self-contained: the page fetched nothing.
    expect(first.requests).toBe(0);
    const file1 = join(screenshotDir(), 'simulate-report.png');
    await page.screenshot({ path: file1, fullPage: true });
    console.log(`ui-report-browser.test.ts: screenshot of the simulate --html report at ${file1}`);

    // The last moment: every request has finished, nothing is in use, the blocks stay cached.
    await page.evaluate(`(() => {
      const input = document.querySelector('#moment');
      input.value = input.max;
      input.dispatchEvent(new Event('input'));
    })()`);
    const last = (await page.evaluate(READ_REPORT)) as ReportState;
    expect(last.moment).not.toBe(first.moment);
    expect(last.inUse).toEqual([0, 0]);
    expect(Math.min(...last.reusable)).toBeGreaterThan(0);
    await page.close();
    expect(errors).toEqual([]);
  }, 90_000);
});
