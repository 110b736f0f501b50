/**
 * The event-stream wire formats both SSE paths write (sse.ts: a web body; node-adapter.ts: straight
 * to the Node response). Chat and completions send `data: <json>\n\n` frames and a final
 * `data: [DONE]`. The Responses API and Anthropic's Messages API send named events,
 * `event: <type>\ndata: <json>\n\n`, the event being the payload's own `type`, and no [DONE]
 * (vLLM's `_convert_stream_to_sse_events`, vllm/entrypoints/openai/responses/api_router.py, as
 * OpenAI's API streams them; https://docs.anthropic.com/en/docs/build-with-claude/streaming and
 * vLLM's vllm/entrypoints/anthropic/serving.py `wrap_data_with_event`, nothing after
 * `message_stop`). The official Anthropic client skips frames without an `event:` line, so the
 * name is not optional there.
 */
import type { ChunkSink } from '../../serving/served.js';

/** The one sink interface of both SSE paths: what a serving layer's stream writes to. */
export type SseWriter = ChunkSink<unknown>;

export const DONE_TEXT = 'data: [DONE]\n\n';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

/** A `data:` frame of a payload already serialized as JSON. */
const dataFrame = (json: string): string => `data: ${json}\n\n`;

export const frameText = (payload: unknown): string => dataFrame(JSON.stringify(payload));

/** How a stream's frames are written, and what ends it. */
export interface SseFormat {
  readonly frame: (payload: unknown) => string;
  /** The frame of a payload given as its JSON text (ChunkSink.sendJson). */
  readonly frameJson: (json: string) => string;
  /** Written when the stream ends normally ('' = nothing). */
  readonly done: string;
}

/** `data:` frames and `data: [DONE]` (chat, completions). */
export const DATA_FRAMES: SseFormat = { frame: frameText, frameJson: dataFrame, done: DONE_TEXT };

/** Named events: each frame is an object whose `type` names its event (the Responses API). */
export const NAMED_EVENTS: SseFormat = {
  frame: (payload) => {
    const type = (payload as { type?: unknown }).type;
    return `event: ${typeof type === 'string' ? type : 'message'}\ndata: ${JSON.stringify(payload)}\n\n`;
  },
  // The event's name is inside the JSON; no named-event stream sends pre-serialized frames.
  frameJson: (json) => NAMED_EVENTS.frame(JSON.parse(json)),
  done: '',
};

/** What starts a stream: `start` gets the writer synchronously; `onCancel` runs if the client leaves first. */
export interface SseStart {
  readonly start: (writer: SseWriter) => void;
  readonly onCancel: () => void;
  readonly headers: Record<string, string>;
  /** Bytes the client may leave unread before the stream is aborted (NIMSIM_STREAM_BUFFER_BYTES). */
  readonly bound: number;
  readonly format: SseFormat;
}
