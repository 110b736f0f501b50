/**
 * GET /ui, the live page, and GET /ui/events, the server-sent events it draws from
 * (docs/ui.md). Open like /metrics, unless NIMSIM_ADMIN_TOKEN is set: then both need it, as a
 * bearer token or as `?token=` (a browser's EventSource cannot send headers, so the page passes on
 * the token it was opened with). NIMSIM_UI=0 registers neither (404).
 */
import type { Context } from 'hono';
import type { Routes } from '../http/routes.js';
import { bearerMatches, tokenMatches } from '../http/auth.js';
import { sseResponse } from '../http/sse.js';
import type { SseFormat } from '../http/sse-frames.js';
import { noteUsage } from '../http/request-log.js';
import { ApiError } from '../../serving/errors.js';
import type { FrameSource } from '../../serving/served.js';
import type { LiveFeed } from '../../ui/live-feed.js';
import { LIVE_PAGE_CSP, livePage } from '../../ui/page.js';

export interface UiDeps {
  readonly feed: LiveFeed;
  readonly adminToken?: string | undefined;
}

/** Frames are JSON text already (serialised once per tick for every page): `data: <json>`. */
const UI_FRAMES: SseFormat = {
  frame: (json) => `data: ${json as string}\n\n`,
  frameJson: (json) => `data: ${json}\n\n`,
  done: '',
};

export function registerUiRoutes(routes: Routes, deps: UiDeps): void {
  const admit = (c: Context) => {
    const token = deps.adminToken;
    if (token === undefined) return;
    if (bearerMatches(c.req.header('authorization'), token) || tokenMatches(c.req.query('token'), token))
      return;
    throw new ApiError(
      401,
      'The live page needs the admin token: Authorization: Bearer <token>, or /ui?token=<token>.',
      null,
      { 'www-authenticate': 'Bearer' },
    );
  };

  routes.get('/ui', (c) => {
    admit(c);
    return c.html(livePage(), 200, {
      'content-security-policy': LIVE_PAGE_CSP,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
  });

  routes.get('/ui/events', (c) => {
    admit(c);
    if (deps.feed.full) {
      throw new ApiError(429, 'Too many live pages are open; close one and retry.', null, {
        'retry-after': '5',
      });
    }
    let unsubscribe: (() => void) | undefined;
    let done = false;
    const ended = () => {
      if (done) return;
      done = true;
      unsubscribe?.();
      unsubscribe = undefined;
      // The access log writes a stream's line when it ends; this one has no tokens to report.
      noteUsage(c, { prompt_tokens: 0, completion_tokens: 0 });
    };
    const frames: FrameSource<string> = {
      start(sink) {
        unsubscribe = deps.feed.subscribe(
          (json) => sink.send(json),
          () => {
            sink.close();
            ended();
          },
        );
      },
      abort: ended,
    };
    return sseResponse(c, frames, { 'cache-control': 'no-store', 'x-accel-buffering': 'no' }, UI_FRAMES);
  });
}
