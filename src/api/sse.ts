/**
 * A minimal server-sent-events response: `data: <json>\n\n` frames and a final `data: [DONE]`.
 * Hono's streamSSE is not used because its error path writes plain text, which the openai client
 * reports as malformed JSON (code-anchors.md §3); an error after the stream started is one JSON
 * `{"error":…}` frame, then [DONE].
 */
const encoder = new TextEncoder();
const DONE = encoder.encode('data: [DONE]\n\n');

export interface SseWriter {
  send(payload: unknown): void;
  /** Ends the stream with [DONE]; later calls do nothing. */
  close(): void;
  readonly closed: boolean;
}

export function createSseResponse(
  start: (writer: SseWriter) => void,
  onCancel: () => void,
  extraHeaders: Record<string, string> = {},
): Response {
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const writer: SseWriter = {
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
      };
      start(writer);
    },
    cancel() {
      closed = true;
      onCancel();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...extraHeaders,
    },
  });
}
