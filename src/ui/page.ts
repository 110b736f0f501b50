/**
 * The two pages as single HTML documents, assembled from the files in ./assets (plain JS and CSS,
 * copied beside the compiled code by `npm run build`): the live page (GET /ui) and the
 * `simulate --html` report. Everything is inline — styles, scripts, the report's data — so a page
 * needs no other request, no CDN and no network.
 */
import { readFileSync } from 'node:fs';

const ASSETS = new URL('./assets/', import.meta.url);

const read = (name: string) => readFileSync(new URL(name, ASSETS), 'utf8');

/** Text safe inside <script>: no `</script>` or `<!--` can close or open anything. */
const scriptSafe = (text: string) => text.replace(/<(\/?script|!--)/gi, '\\x3C$1');

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, scripts: readonly string[], data?: unknown): string {
  const json =
    data === undefined
      ? ''
      : `<script type="application/json" id="data">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>\n`;
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">` +
    `<title>${escapeHtml(title)}</title>\n<style>\n${read('ui.css')}</style></head>\n` +
    `<body><div id="app"></div>\n${json}` +
    `<script>\n${scriptSafe(scripts.map(read).join('\n'))}</script>\n</body></html>\n`
  );
}

let live: string | undefined;

/** GET /ui: built on first use, then kept (the assets do not change while the server runs). */
export function livePage(): string {
  return (live ??= page('nimsim · live', ['charts.js', 'views.js', 'live.js']));
}

/** The `simulate --html` report: the same views over `data` (html-report.ts builds it). */
export function reportPage(title: string, data: unknown): string {
  return page(title, ['charts.js', 'views.js', 'report.js'], data);
}

/**
 * What GET /ui is allowed to load: nothing but itself and its own event stream (the scripts and
 * styles are inline), so the page can reach no other host even if one were named in it.
 */
export const LIVE_PAGE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
