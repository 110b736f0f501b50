/**
 * The serving layer's boundary with HTTP, in both directions, and nothing more of HTTP than this:
 * what a serving call reads from its request (`ServingRequest`) and what it answers (`Served`).
 *
 * A stream is answered as a `FrameSource` the HTTP layer starts once the response exists, and its
 * frames are pushed into a `ChunkSink` (src/api/http/sse.ts) as the engine produces them — no
 * async iterator between them: with thousands of streams each taking a frame per engine step, a
 * promise per frame was a measurable share of the server's CPU.
 */
import type { ClientSignal } from '../util/client-signal.js';

/** A request's token counts, for the access log. */
export interface LoggedUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly prompt_tokens_details?: { readonly cached_tokens: number } | null;
  /** The request's routing/session identity (`prompt_cache_key`, else `user`), when it sent one. */
  readonly session?: string | undefined;
  /** The replica the request ran on (several replicas only). */
  readonly replica?: number | undefined;
}

/** The HTTP request as a serving call sees it. */
export interface ServingRequest {
  /** The client went away. */
  readonly signal: ClientSignal;
  readonly header: (name: string) => string | undefined;
  /** The request's usage, once known (JSON: before the reply; stream: when it ends). */
  noteUsage(usage: LoggedUsage): void;
}

/** Where a stream's frames go. */
export interface ChunkSink<Frame> {
  send(frame: Frame): void;
  /**
   * A frame already serialized: `json` must be exactly `JSON.stringify(frame)` of the frame it
   * stands for (chunk-template.ts builds such text for the per-token chunks, which differ from one
   * another only in their text). The wire sees the same bytes as `send(frame)` would write.
   */
  sendJson(json: string): void;
  /**
   * Ends the stream ([DONE] where the format has one); later calls do nothing. `last`: frames
   * written just before the end that do not count against the unread bound
   * (NIMSIM_STREAM_BUFFER_BYTES) — a response's closing frames that repeat its whole text, which
   * a client reading normally could otherwise be cut for; they are as bounded as a JSON body.
   */
  close(last?: readonly Frame[]): void;
  readonly closed: boolean;
}

export interface FrameSource<Frame> {
  /** Called once, synchronously, when the response exists (before any engine event arrives). */
  start(sink: ChunkSink<Frame>): void;
  /** The client went away or was cut off: stops every choice still running. */
  abort(): void;
}

/** A serving call's answer: a JSON body, or a stream already accepted by the engine. */
export type Served<Body, Frame> =
  | {
      readonly stream: false;
      readonly body: Body;
      /** The body holds StreamedArrays (json-body.ts): write it in parts. */
      readonly inParts: boolean;
      /** The replica the request ran on (several replicas only): the `x-nimsim-replica` header. */
      readonly replica?: number | undefined;
    }
  | {
      readonly stream: true;
      readonly frames: FrameSource<Frame>;
      /**
       * `named`: each frame is a typed event, sent as `event: <type>` and ending without [DONE]
       * (the Responses API, Anthropic's Messages API); default: `data:` frames and [DONE] (chat, completions).
       */
      readonly events?: 'named' | undefined;
      /** The replica the request was routed to (several replicas only). */
      readonly replica?: number | undefined;
    };
