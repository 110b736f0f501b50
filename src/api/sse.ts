/**
 * A minimal server-sent-events response: `data: <json>\n\n` frames and a final `data: [DONE]`.
 * Hono's streamSSE is not used because its error path writes plain text, which the openai client
 * reports as malformed JSON (code-anchors.md §3); an error after the stream started is one JSON
 * `{"error":…}` frame, then [DONE].
 *
 * Under @hono/node-server frames are written straight to the Node response: a web
 * ReadableStream costs a promise round trip and a copy per frame, and with thousands of streams
 * each taking a frame per engine step that was a large share of the server's CPU. Tests that use
 * `app.request()` (no Node response), and requests whose body a fault wraps, get the web stream.
 */
import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';

const encoder = new TextEncoder();
const DONE_TEXT = 'data: [DONE]\n\n';
const DONE = encoder.encode(DONE_TEXT);

/** Requests whose stream a middleware must see as a web body (latency faults wrap it). */
const bufferedStreams = new WeakSet<Context>();

/** Makes this request's event stream a web body instead of direct writes to the Node response. */
export function bufferSse(c: Context): void {
  bufferedStreams.add(c);
}

export interface SseWriter {
  send(payload: unknown): void;
  /** Ends the stream with [DONE]; later calls do nothing. */
  close(): void;
  readonly closed: boolean;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

function nodeResponseOf(c: Context): ServerResponse | undefined {
  if (bufferedStreams.has(c)) return undefined;
  const out = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  return out && typeof (out as ServerResponse).writeHead === 'function' ? (out as ServerResponse) : undefined;
}

/**
 * Starts an event stream: `start` receives the writer synchronously (before any engine event can
 * arrive); `onCancel` runs when the client goes away before the stream ended.
 */
export function createSseResponse(
  c: Context,
  start: (writer: SseWriter) => void,
  onCancel: () => void,
  extraHeaders: Record<string, string> = {},
): Response {
  const out = nodeResponseOf(c);
  return out ? writeToNode(out, start, onCancel, extraHeaders) : webStream(start, onCancel, extraHeaders);
}

function writeToNode(
  out: ServerResponse,
  start: (writer: SseWriter) => void,
  onCancel: () => void,
  extraHeaders: Record<string, string>,
): Response {
  let closed = false;
  out.writeHead(200, { ...SSE_HEADERS, ...extraHeaders });
  out.flushHeaders();
  out.once('close', () => {
    if (closed) return;
    closed = true;
    onCancel();
  });
  start({
    send(payload) {
      if (!closed) out.write(`data: ${JSON.stringify(payload)}\n\n`);
    },
    close() {
      if (closed) return;
      closed = true;
      out.end(DONE_TEXT);
    },
    get closed() {
      return closed;
    },
  });
  return RESPONSE_ALREADY_SENT;
}

function webStream(
  start: (writer: SseWriter) => void,
  onCancel: () => void,
  extraHeaders: Record<string, string>,
): Response {
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      start({
        send(payload) {
          if (closed) return;
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(payload)}\n\n`));
        },
        close() {
          if (closed) return;
          closed = true;
          controller.enqueue(DONE);
          controller.close();
        },
        get closed() {
          return closed;
        },
      });
    },
    cancel() {
      closed = true;
      onCancel();
    },
  });
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...extraHeaders } });
}
