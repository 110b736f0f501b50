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
 * Under @hono/node-server the bytes come straight from the Node request (`c.env.incoming`): going
 * through `c.req.raw` would build a web Request and stream per request, which costs a small
 * request a large share of its time. `app.request()` tests have no Node request; their web body
 * is read the same way. The body is read once; later callers (a fault's model lookup, then the
 * route) share it.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { edgeLimitsOf } from './edge-limits.js';
import { ApiError } from './errors.js';

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
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const reading =
    incoming !== undefined && typeof incoming.on === 'function'
      ? readIncoming(incoming, maxBytes)
      : readWebBody(c.req.raw.body, maxBytes);
  (c as WithBody)[BODY] = reading;
  return reading;
}

function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  if (incoming.readableDidRead) {
    return Promise.reject(new Error('nimsim: the request body was read outside readRequestBody'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop here: what was read is dropped and nothing more is kept.
        cleanup();
        incoming.pause();
        chunks.length = 0;
        reject(bodyTooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = () => {
      cleanup();
      reject(bodyNotReceived());
    };
    const onClose = () => {
      if (incoming.readableEnded) return onEnd();
      onError();
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
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
