/**
 * A minimal server-sent-events response: `data: <json>\n\n` frames and a final `data: [DONE]`
 * (or named events, sse-frames.ts `NAMED_EVENTS`, for /v1/responses and /v1/messages).
 * Hono's streamSSE is not used because its error path writes plain text, which the openai client
 * reports as malformed JSON (openai-node src/core/streaming.ts; docs/nim-api.md#streaming); an error
 * after the stream started is one JSON `{"error":…}` frame, then [DONE].
 *
 * Two paths behind one writer (sse-frames.ts `SseWriter`, the serving layer's ChunkSink): under
 * @hono/node-server frames are written straight to the Node response's socket, each as the HTTP
 * chunk `res.write` would send (node-adapter.ts `frameWriter`): a web ReadableStream costs a
 * promise round trip and a copy per frame, and with thousands of streams each taking a frame per
 * engine step that was a large share of the server's CPU. Tests that use
 * `app.request()` (no Node response), and requests whose body a fault wraps, get the web stream.
 *
 * A client that stops reading: frames wait in the response's buffers, and the engine keeps
 * producing them. vLLM keeps generating for a slow consumer too, merging the deltas in its output
 * collector (vllm/v1/engine/output_processor.py, RequestOutputCollector), so its memory is bounded
 * by the request's own output; frames here are whole JSON chunks that cannot be merged once
 * formed. So each stream may leave at most NIMSIM_STREAM_BUFFER_BYTES unread (bytes handed to
 * the response that the socket has not taken, or queued in the web body); one frame more and the
 * stream is aborted as a client disconnect is: `onCancel` stops the generation (its slot and KV
 * blocks go back at once) and the connection is closed. Frames handed to `close` are exempt: a
 * Responses stream ends with four frames that each repeat the whole answer (responses-stream.ts),
 * which a client reading at any normal pace would otherwise be cut for when the answer is long.
 * Both paths count the same bytes: the
 * Node response's unsent bytes, or the web body's queue (the adapter only pulls from it when
 * the socket drains).
 */
import type { Context } from 'hono';
import type { FrameSource } from '../../serving/served.js';
import { edgeLimitsOf } from './edge-limits.js';
import { destroyConnection, writeSseToNode } from './node-adapter.js';
import { DATA_FRAMES, SSE_HEADERS, type SseFormat, type SseStart } from './sse-frames.js';

const encoder = new TextEncoder();

/** Requests whose stream a middleware must see as a web body (latency faults wrap it). */
const bufferedStreams = new WeakSet<Context>();

/** Makes this request's event stream a web body instead of direct writes to the Node response. */
export function bufferSse(c: Context): void {
  bufferedStreams.add(c);
}

/** Answers a serving layer's stream: it starts writing as soon as the response exists. */
export function sseResponse<Frame>(
  c: Context,
  frames: FrameSource<Frame>,
  headers: Record<string, string> = {},
  format: SseFormat = DATA_FRAMES,
): Response {
  const s: SseStart = {
    start: (writer) => frames.start(writer),
    onCancel: () => frames.abort(),
    headers,
    bound: edgeLimitsOf(c).streamBufferBytes,
    format,
  };
  return (bufferedStreams.has(c) ? undefined : writeSseToNode(c, s)) ?? webStream(c, s);
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

function webStream(c: Context, s: SseStart): Response {
  let closed = false;
  const done = s.format.done === '' ? undefined : encoder.encode(s.format.done);
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        /** Queues one frame's text; past the bound the stream is cut (see the file's comment). */
        const put = (text: string) => {
          if (closed) return;
          controller.enqueue(encoder.encode(text));
          // desiredSize = bound - bytes queued: below 0, more than the bound waits unread.
          if (controller.desiredSize !== null && controller.desiredSize < 0) {
            closed = true;
            // Under the adapter the socket is closed as the direct path does (an errored body
            // would make the adapter log it and append an error text); in app.request() tests
            // the body errors.
            if (!destroyConnection(c)) controller.error(new SlowConsumerError(s.bound));
            queueMicrotask(s.onCancel);
          }
        };
        s.start({
          send(payload) {
            if (!closed) put(s.format.frame(payload));
          },
          sendJson(json) {
            if (!closed) put(s.format.frameJson(json));
          },
          close(last) {
            if (closed) return;
            closed = true;
            if (last !== undefined) {
              for (const payload of last) controller.enqueue(encoder.encode(s.format.frame(payload)));
            }
            if (done !== undefined) controller.enqueue(done);
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
        s.onCancel();
      },
    },
    // Counts bytes, so desiredSize is the bound less the bytes the client has not taken yet.
    new ByteLengthQueuingStrategy({ highWaterMark: s.bound }),
  );
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...s.headers } });
}
