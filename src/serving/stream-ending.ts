/**
 * How every streamed reply ends, shared by chat and completions: a failure is one in-band error
 * frame, then [DONE], and the other choices are stopped; a normal end sends the usage chunk (with
 * include_usage; it also carries NIM's `stats` when per-request metrics are on, and is sent for
 * them alone otherwise), notes the usage for the access log and closes with [DONE].
 */
import type { ServingContext } from './context.js';
import { errorBody, toErrorInfo } from './errors.js';
import { nimStatsOf } from './nim-stats.js';
import type { ErrorFrame, WireUsage } from './protocol.js';
import type { FinishedEvent, GenerationSink } from './run-generation.js';
import type { ChunkSink, ServingRequest } from './served.js';
import type { PlannedGeneration } from './to-engine.js';
import { reasoningTokensOf } from './reasoning.js';
import { usageOf } from './usage.js';

/** The stream's last chunk: no choices, the usage and/or NIM's stats. */
type UsageFrame<Header> = Header & {
  choices: never[];
  usage?: WireUsage;
  stats?: ReturnType<typeof nimStatsOf>;
};

export interface StreamEndingOptions<Header> {
  readonly request: ServingRequest;
  readonly ctx: ServingContext;
  readonly gen: PlannedGeneration;
  /** id, object, created and model: the fields every chunk repeats. */
  readonly header: Header;
  readonly finished: readonly (FinishedEvent | undefined)[];
  readonly includeUsage: boolean;
  /** The sink, once the response exists. */
  readonly sink: () => ChunkSink<UsageFrame<Header> | ErrorFrame> | undefined;
  /** Stops every choice still running. */
  readonly abort: () => void;
}

export function streamEnding<Header extends object>(
  o: StreamEndingOptions<Header>,
): Pick<GenerationSink, 'onFailed' | 'onDone'> {
  return {
    onFailed(_choice, error) {
      const sink = o.sink();
      sink?.send(errorBody(toErrorInfo(error).info, o.ctx.compat));
      sink?.close();
      o.abort();
    },
    onDone() {
      const usage = usageOf(
        o.gen.promptTokens,
        o.finished,
        o.ctx.cachingOn,
        reasoningTokensOf(o.gen, o.finished),
      );
      o.request.noteUsage({
        ...usage,
        session: o.gen.choices[0]?.request.sessionKey,
        replica: o.gen.replica,
      });
      const sink = o.sink();
      const stats = o.ctx.perRequestStats
        ? nimStatsOf(o.gen.promptTokens, o.finished, o.gen.replica)
        : undefined;
      if ((o.includeUsage || stats) && sink && !sink.closed) {
        sink.send({
          ...o.header,
          choices: [],
          ...(o.includeUsage ? { usage } : {}),
          ...(stats ? { stats } : {}),
        });
      }
      sink?.close();
    },
  };
}
