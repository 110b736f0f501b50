/**
 * The event-stream wire formats both SSE paths write (sse.ts: a web body; node-adapter.ts: straight
 * to the Node response). OpenAI's (chat, completions): `data: <json>\n\n` frames and a final
 * `data: [DONE]`. Anthropic's (/v1/messages): each frame names its event, `event: <type>\ndata:
 * <json>\n\n`, the event being the payload's own `type`, and nothing after `message_stop`
 * (https://docs.anthropic.com/en/docs/build-with-claude/streaming; vLLM's
 * vllm/entrypoints/anthropic/serving.py `wrap_data_with_event`). The official Anthropic client
 * skips frames without an `event:` line, so the name is not optional there.
 */
import type { ChunkSink } from '../../serving/served.js';

/** The one sink interface of both SSE paths: what a serving layer's stream writes to. */
export type SseWriter = ChunkSink<unknown>;

export const DONE_TEXT = 'data: [DONE]\n\n';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

export const frameText = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;

/** How a stream's frames and its end are written. */
export interface SseFormat {
  readonly frame: (payload: unknown) => string;
  /** Written when the stream ends normally ('' for none). */
  readonly end: string;
}

/** OpenAI's stream: data-only frames, then `data: [DONE]`. */
export const OPENAI_SSE: SseFormat = { frame: frameText, end: DONE_TEXT };

/** Anthropic's stream: every frame an event named by the payload's `type`; no end marker. */
export const TYPED_EVENT_SSE: SseFormat = {
  frame: (payload) => `event: ${(payload as { type: string }).type}\ndata: ${JSON.stringify(payload)}\n\n`,
  end: '',
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
