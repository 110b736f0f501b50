/**
 * The event-stream wire format both SSE paths write (sse.ts: a web body; node-adapter.ts: straight
 * to the Node response): `data: <json>\n\n` frames and a final `data: [DONE]`.
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

/** What starts a stream: `start` gets the writer synchronously; `onCancel` runs if the client leaves first. */
export interface SseStart {
  readonly start: (writer: SseWriter) => void;
  readonly onCancel: () => void;
  readonly headers: Record<string, string>;
  /** Bytes the client may leave unread before the stream is aborted (NIMSIM_STREAM_BUFFER_BYTES). */
  readonly bound: number;
}
