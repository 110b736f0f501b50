/**
 * The access log's token counts. Routes note a request's usage when they know it; the logging
 * middleware writes the line then — at once for a JSON reply, at the end of the stream for SSE
 * (whose handler returns before any token exists), so every request still gets exactly one line.
 */
import type { Context } from 'hono';

export interface LoggedUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly prompt_tokens_details?: { readonly cached_tokens: number } | null;
  /** The request's routing/session identity (`prompt_cache_key`, else `user`), when it sent one. */
  readonly session?: string | undefined;
}

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
    ...(usage.session !== undefined ? { session: usage.session } : {}),
  };
}
