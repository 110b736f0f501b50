/**
 * The latency faults' transport mechanics, kept outside the routes: a response body is wrapped
 * so that its first frame waits (`slow_first_token`), or the stream pauses (`stall`) or the
 * connection drops (`disconnect`) mid-way. The wrapper works frame by frame on any SSE body (the
 * SSE writer enqueues one frame per chunk), so the chat and completions routes need no hook.
 */
import type { ClientSignal } from '../../util/client-signal.js';
import type { FaultType } from './faults.js';
import { sleepUnlessGone as sleep } from '../../util/sleep.js';

/** Frames passed through before a mid-stream fault: chat's role frame and two tokens. */
export const MID_STREAM_FRAMES = 3;

const DONE_FRAME = 'data: [DONE]\n\n';
/** The last frame of an Anthropic stream (/v1/messages), which has no [DONE]. */
const MESSAGE_STOP_FRAME = 'event: message_stop\n';

/** Wall time given to frames already written before a disconnect fault drops the socket. */
const FLUSH_BEFORE_DROP_MS = 50;
const decoder = new TextDecoder();

/**
 * Drops the client's connection. On a real socket it is destroyed (the client sees a reset); in
 * `app.request()` tests there is none, and the body stream errors instead.
 */
export type DropConnection = (body?: ReadableStreamDefaultController<Uint8Array>) => void;

export type LatencyFault = Extract<FaultType, 'slow_first_token' | 'stall' | 'disconnect'>;

/**
 * Wraps an event-stream body with a latency fault. The mid-stream point is after
 * MID_STREAM_FRAMES frames, or just before [DONE] (an Anthropic stream's message_stop) if the
 * stream is shorter, so the client has always seen the stream start and never sees it end.
 */
export function withStreamFault(
  body: ReadableStream<Uint8Array>,
  type: LatencyFault,
  delayMs: number,
  drop: DropConnection,
  signal: ClientSignal,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let frames = 0;
  let struck = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      if (type === 'slow_first_token' && frames === 0) await sleep(delayMs, signal);
      if (type !== 'slow_first_token' && !struck) {
        const text = decoder.decode(value);
        const isDone = text === DONE_FRAME || text.startsWith(MESSAGE_STOP_FRAME);
        if (frames >= MID_STREAM_FRAMES || isDone) {
          struck = true;
          if (type === 'stall') {
            await sleep(delayMs, signal);
          } else {
            // Stop the generation first: its slot and KV blocks go back at once.
            void reader.cancel('nimsim: disconnect fault').catch(() => {});
            // Let the frames already handed to the adapter reach the socket: destroying it at once
            // can discard them (and even the headers) when the engine produced them in one burst.
            await sleep(FLUSH_BEFORE_DROP_MS);
            drop(controller);
            return;
          }
        }
      }
      frames++;
      controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
