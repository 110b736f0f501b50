/**
 * The access log's token counts. The serving layer notes a request's usage when it knows it; the logging
 * middleware writes the line then — at once for a JSON reply, at the end of the stream for SSE
 * (whose handler returns before any token exists), so every request still gets exactly one line.
 */
import type { Context } from 'hono';
import type { LoggedUsage } from '../../serving/served.js';

export type { LoggedUsage };

interface Entry {
  usage?: LoggedUsage;
  /** Set by the middleware for a stream: writes the line once the usage is known. */
  flush?: (usage: LoggedUsage | undefined) => void;
}

/**
 * The entry lives on the request's Context under a private symbol: a WeakMap (an ephemeron table
 * the collector must walk) cost more per request than the property.
 */
const ENTRY = Symbol('nimsim.request-log');
type WithEntry = Context & { [ENTRY]?: Entry };

/** Records a request's final usage (non-streaming: before the reply; streaming: when it ends). */
export function noteUsage(c: Context, usage: LoggedUsage): void {
  const entry = (c as WithEntry)[ENTRY];
  if (entry === undefined) {
    (c as WithEntry)[ENTRY] = { usage };
    return;
  }
  if (entry.flush) {
    const flush = entry.flush;
    entry.flush = undefined;
    flush(usage);
    return;
  }
  entry.usage = usage;
}

export function usageNoted(c: Context): LoggedUsage | undefined {
  return (c as WithEntry)[ENTRY]?.usage;
}

/** Defers the log line of a stream until its usage is noted (or `ended` fires first). */
export function deferUntilUsage(c: Context, flush: (usage: LoggedUsage | undefined) => void): void {
  const entry = (c as WithEntry)[ENTRY];
  if (entry === undefined) (c as WithEntry)[ENTRY] = { flush };
  else entry.flush = flush;
}

/** Log fields for a usage: prompt, completion and cached tokens. */
export function usageFields(usage: LoggedUsage | undefined): Record<string, number | string> {
  if (!usage) return {};
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    ...(usage.prompt_tokens_details ? { cached_tokens: usage.prompt_tokens_details.cached_tokens } : {}),
    // The client chose it: escaped like the path.
    ...(usage.session !== undefined ? { session: escapeForLog(usage.session) } : {}),
    ...(usage.replica !== undefined ? { replica: usage.replica } : {}),
  };
}

/**
 * What could end a log line, fake one or hide in one: C0 controls (CR, LF, ESC…), DEL, C1 controls
 * (NEL), the Unicode line and paragraph separators — and the backslash, so an escape in the log
 * always means an escaped character.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\\\u007f-\u009f\u2028\u2029]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

const hex = (code: number, width: number) => code.toString(16).padStart(width, '0');

/** `text` with every unsafe character written as an escape (`\x0a`, `\u2028`, `\\`). */
export function escapeForLog(text: string): string {
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE_ALL, (ch) => {
    if (ch === '\\') return '\\\\';
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
}

/**
 * The request's path for the log: as the client sent it, still percent-encoded (Hono's `c.req.path`
 * is decoded, so `%0a` would become a line break), with anything unsafe left escaped.
 */
export function loggedPath(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start === -1) return '/';
  const query = url.indexOf('?', start);
  return escapeForLog(query === -1 ? url.slice(start) : url.slice(start, query));
}
