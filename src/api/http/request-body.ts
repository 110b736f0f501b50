/**
 * The request body, read only when a route asks for it (so admission — API key, admin token,
 * readiness, routing — has already passed) and counted as it arrives: at NIMSIM_MAX_BODY_BYTES
 * reading stops, what was read is dropped and the request is a 413. A body whose Content-Length
 * is already over the limit is refused before any byte is read (body-limit.ts).
 *
 * After a response to a request whose body was not read to its end, @hono/node-server drains the
 * connection: it discards (never keeps) what still arrives for at most 500 ms or 64 MiB, then
 * closes the connection. That short linger is what lets the client read the 413: closing at once
 * would reset the connection under an upload still being sent, and a TCP reset makes the client's
 * kernel discard the answer it has not read yet (so no `Connection: close` here, which makes Node
 * close at once).
 *
 * Under @hono/node-server the bytes come straight from the Node request (node-adapter.ts): going
 * through `c.req.raw` would build a web Request and stream per request, which costs a small
 * request a large share of its time. `app.request()` tests have no Node request; their web body
 * is read the same way. The body is read once; later callers (a fault's model lookup, then the
 * route) share it.
 */
import type { Context } from 'hono';
import { ApiError } from '../../serving/errors.js';
import { edgeLimitsOf } from './edge-limits.js';
import { readNodeBody } from './node-adapter.js';

/** The 413 of a body over the limit. */
export function bodyTooLarge(maxBytes: number): ApiError {
  return new ApiError(413, `Request body is larger than the limit of ${maxBytes} bytes.`, 'body');
}

/** A client that went away (or broke the chunked encoding) before its body ended. */
const bodyNotReceived = () => new ApiError(400, 'The request body was not received whole.', 'body');

const BODY = Symbol('nimsim.request-body');
type WithBody = Context & { [BODY]?: Promise<Uint8Array> };

/** The request's body bytes, read (once) within the request's body limit. */
export function readRequestBody(c: Context): Promise<Uint8Array> {
  const cached = (c as WithBody)[BODY];
  if (cached !== undefined) return cached;
  const maxBytes = edgeLimitsOf(c).maxBodyBytes;
  const reading =
    readNodeBody(c, maxBytes, { tooLarge: () => bodyTooLarge(maxBytes), notReceived: bodyNotReceived }) ??
    readWebBody(c.req.raw.body, maxBytes);
  (c as WithBody)[BODY] = reading;
  return reading;
}

async function readWebBody(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      void reader.cancel().catch(() => {});
      throw bodyTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
