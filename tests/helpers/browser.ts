/**
 * A headless Chromium for the tests that look at nimsim's pages (tests/integration/ui-*.test.ts):
 * Debian's `chromium` package driven by puppeteer-core (no browser download). CI installs the
 * package (.ci/run); on a machine without it these tests skip and say why, except under CI=true,
 * where a missing browser fails them.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** The browser's path: $CHROMIUM, else the first of chromium / chromium-browser on the PATH. */
export function findChromium(): string | undefined {
  const given = process.env['CHROMIUM'];
  if (given && existsSync(given)) return given;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // not on the PATH
    }
  }
  return undefined;
}

export const CHROMIUM = findChromium();

/** Why the browser tests do not run here (undefined: they run). Under CI a missing browser is a failure, not a skip. */
export const BROWSER_SKIP_REASON =
  CHROMIUM === undefined && process.env['CI'] !== 'true'
    ? 'chromium is not installed (apt-get install --no-install-recommends chromium): the browser tests of /ui and simulate --html are skipped'
    : undefined;

/** The flags a container needs: no sandbox (root, no user namespaces), no GPU, no /dev/shm. */
export async function launchBrowser(): Promise<Browser> {
  if (CHROMIUM === undefined) throw new Error('chromium is not installed, and CI=true requires it');
  return puppeteer.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
    defaultViewport: { width: 1280, height: 800 },
    timeout: 60_000,
  });
}

/** Console errors and uncaught exceptions of a page, collected from now on. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e instanceof Error ? e.message : String(e)}`));
  page.on('requestfailed', (r) => {
    // The event stream is cut when the test closes the page or stops the server.
    if (!r.url().includes('/ui/events')) errors.push(`request failed: ${r.url()}`);
  });
  return errors;
}

/** Where screenshots go: $NIMSIM_SCREENSHOT_DIR, else a folder under the OS temp dir. */
export function screenshotDir(): string {
  const dir = process.env['NIMSIM_SCREENSHOT_DIR'] ?? join(tmpdir(), 'nimsim-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
