/**
 * How every SSE reply ends, shared by chat and completions: a failure is one in-band error frame,
 * then [DONE], and the other choices are stopped; a normal end sends the usage chunk (with
 * include_usage; it also carries NIM's `stats` when per-request metrics are on, and is sent for
 * them alone otherwise), notes the usage for the access log and closes with [DONE].
 */
import type { Context } from 'hono';
import { errorBody, toErrorInfo } from './errors.js';
import { noteUsage } from './request-log.js';
import type { FinishedEvent, GenerationSink } from './run-generation.js';
import type { ServingContext } from './serving.js';
import type { SseWriter } from './sse.js';
import type { PlannedGeneration } from './to-engine.js';
import { nimStatsOf } from './nim-stats.js';
import { usageOf } from './usage.js';

export interface StreamEndingOptions {
  readonly c: Context;
  readonly ctx: ServingContext;
  readonly gen: PlannedGeneration;
  /** id, object, created and model: the fields every chunk repeats. */
  readonly header: object;
  readonly finished: readonly (FinishedEvent | undefined)[];
  readonly includeUsage: boolean;
  /** The writer, once the response exists. */
  readonly sse: () => SseWriter | undefined;
  /** Stops every choice still running. */
  readonly abort: () => void;
}

export function streamEnding(o: StreamEndingOptions): Pick<GenerationSink, 'onFailed' | 'onDone'> {
  return {
    onFailed(_choice, error) {
      const sse = o.sse();
      sse?.send(errorBody(toErrorInfo(error).info, o.ctx.compat));
      sse?.close();
      o.abort();
    },
    onDone() {
      const usage = usageOf(o.gen.promptTokens, o.finished, o.ctx.cachingOn);
      noteUsage(o.c, { ...usage, session: o.gen.choices[0]?.request.sessionKey });
      const sse = o.sse();
      const stats = o.ctx.perRequestStats ? nimStatsOf(o.gen.promptTokens, o.finished) : undefined;
      if ((o.includeUsage || stats) && sse && !sse.closed) {
        sse.send({
          ...o.header,
          choices: [],
          ...(o.includeUsage ? { usage } : {}),
          ...(stats ? { stats } : {}),
        });
      }
      sse?.close();
    },
  };
}
