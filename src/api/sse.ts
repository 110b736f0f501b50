/**
 * A minimal server-sent-events response: `data: <json>\n\n` frames and a final `data: [DONE]`.
 * Hono's streamSSE is not used because its error path writes plain text, which the openai client
 * reports as malformed JSON (openai-node src/core/streaming.ts; docs/nim-api.md#streaming); an error
 * after the stream started is one JSON `{"error":…}` frame, then [DONE].
 *
 * Under @hono/node-server frames are written straight to the Node response: a web
 * ReadableStream costs a promise round trip and a copy per frame, and with thousands of streams
 * each taking a frame per engine step that was a large share of the server's CPU. Tests that use
 * `app.request()` (no Node response), and requests whose body a fault wraps, get the web stream.
 *
 * A client that stops reading: frames wait in the response's buffers, and the engine keeps
 * producing them. vLLM keeps generating for a slow consumer too, merging the deltas in its output
 * collector (vllm/v1/engine/output_processor.py, RequestOutputCollector), so its memory is bounded
 * by the request's own output; frames here are whole JSON chunks that cannot be merged once
 * formed. So each stream may leave at most NIMSIM_STREAM_BUFFER_BYTES unread (bytes handed to
 * the response that the socket has not taken, or queued in the web body); one frame more and the
 * stream is aborted as a client disconnect is: `onCancel` stops the generation (its slot and KV
 * blocks go back at once) and the connection is closed. Both paths count the same bytes: the
 * Node response's unsent bytes, or the web body's queue (the adapter only pulls from it when
 * the socket drains).
 */
import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { edgeLimitsOf } from './edge-limits.js';

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

function outgoingOf(c: Context): ServerResponse | undefined {
  const out = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  return out && typeof (out as ServerResponse).writeHead === 'function' ? (out as ServerResponse) : undefined;
}

/** The Node response to write frames to directly, unless a middleware needs the web body. */
function nodeResponseOf(c: Context): ServerResponse | undefined {
  return bufferedStreams.has(c) ? undefined : outgoingOf(c);
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
  const bound = edgeLimitsOf(c).streamBufferBytes;
  return out
    ? writeToNode(out, start, onCancel, extraHeaders, bound)
    : webStream(start, onCancel, extraHeaders, bound, outgoingOf(c));
}

/** Why a stream was cut: its client left more than the bound unread. */
export class SlowConsumerError extends Error {
  override readonly name = 'SlowConsumerError';
  constructor(bound: number) {
    super(
      `nimsim: the client left more than ${bound} bytes of the stream unread (NIMSIM_STREAM_BUFFER_BYTES)`,
    );
  }
}

function writeToNode(
  out: ServerResponse,
  start: (writer: SseWriter) => void,
  onCancel: () => void,
  extraHeaders: Record<string, string>,
  bound: number,
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
      if (closed) return;
      out.write(`data: ${JSON.stringify(payload)}\n\n`);
      // writableLength: what the response and its socket hold that the kernel has not taken.
      if (out.writableLength > bound) {
        closed = true;
        out.destroy();
        // After the engine's current event: send() runs inside it.
        queueMicrotask(onCancel);
      }
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
  bound: number,
  /** The Node response under the adapter, closed directly when the bound is passed. */
  out: ServerResponse | undefined,
): Response {
  let closed = false;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        start({
          send(payload) {
            if (closed) return;
            controller.enqueue(encoder.encode(`data: ${JSON.stringify(payload)}\n\n`));
            // desiredSize = bound - bytes queued: below 0, more than the bound waits unread.
            if (controller.desiredSize !== null && controller.desiredSize < 0) {
              closed = true;
              // Under the adapter the socket is closed as the direct path does (an errored body
              // would make the adapter log it and append an error text); in app.request() tests
              // the body errors.
              if (out) out.destroy();
              else controller.error(new SlowConsumerError(bound));
              queueMicrotask(onCancel);
            }
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
        if (closed) return;
        closed = true;
        onCancel();
      },
    },
    // Counts bytes, so desiredSize is the bound less the bytes the client has not taken yet.
    new ByteLengthQueuingStrategy({ highWaterMark: bound }),
  );
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...extraHeaders } });
}
