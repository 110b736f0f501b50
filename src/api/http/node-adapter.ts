/**
 * Everything that depends on running under @hono/node-server, in one file (as Hono keeps each
 * runtime's code in its adapter): the Node request and response the adapter hands over as
 * `c.env.incoming` / `c.env.outgoing`. Nowhere else reads them. Each function has a web-standard
 * fallback elsewhere for `app.request()` tests, where there is no Node request or response; here
 * they answer `undefined` (or the web signal) then.
 *
 * Why go below Hono at all: each of these replaced a web-standard path that showed in profiles
 * (a web Request body stream per request, an AbortController per request, a promise and a copy per
 * SSE frame through a web ReadableStream).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { ClientSignal } from '../../util/client-signal.js';
import { SSE_HEADERS, type SseStart } from './sse-frames.js';

/** What a handler returns when it has written the Node response itself (a direct stream). */
export { RESPONSE_ALREADY_SENT };

interface NodeEnv {
  incoming?: unknown;
  outgoing?: unknown;
}

function outgoingOf(c: Context): ServerResponse | undefined {
  const out = (c.env as NodeEnv | undefined)?.outgoing;
  return out && typeof (out as ServerResponse).writeHead === 'function' ? (out as ServerResponse) : undefined;
}

function incomingOf(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as NodeEnv | undefined)?.incoming;
  return incoming && typeof (incoming as IncomingMessage).on === 'function'
    ? (incoming as IncomingMessage)
    : undefined;
}

/** Whether this request has a Node connection under it (false in `app.request()` tests). */
export function hasNodeConnection(c: Context): boolean {
  return outgoingOf(c) !== undefined;
}

/** Closes the request's connection at once (the client sees a reset); false if there is none. */
export function destroyConnection(c: Context): boolean {
  const out = outgoingOf(c);
  out?.destroy();
  return out !== undefined;
}

// ---------------------------------------------------------------------------------------------
// The client went away

/**
 * "The client went away", as cheaply as the adapter allows. Reading `c.req.raw.signal` on
 * @hono/node-server creates an AbortController (and listeners) per request, which showed in
 * profiles; under that adapter the Node response's own `close` event says the same thing. In
 * `app.request()` tests there is no Node response and the web signal is used.
 */
export function clientSignalOf(c: Context): ClientSignal {
  const out = outgoingOf(c);
  return out ? new ResponseCloseSignal(out) : c.req.raw.signal;
}

/**
 * A class rather than closures and a Set: one small object per request. The response closes once,
 * so a plain `on('close')` does (no `once` wrapper); listeners are kept in an array created on
 * first use.
 */
class ResponseCloseSignal implements ClientSignal {
  aborted = false;
  private listeners: (() => void)[] | undefined;

  constructor(out: ServerResponse) {
    out.on('close', () => {
      // A response that was fully written also closes; only an early close is a disconnect.
      if (out.writableFinished || this.aborted) return;
      this.aborted = true;
      const listeners = this.listeners;
      this.listeners = undefined;
      if (listeners) for (const l of listeners) l();
    });
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    if (listeners === undefined) return;
    const at = listeners.indexOf(listener);
    if (at !== -1) listeners.splice(at, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// The request body

/**
 * The body read straight from the Node request, within `maxBytes` (request-body.ts says why and
 * what the limit does); undefined when there is no Node request. `tooLarge` and `notReceived` are
 * the errors to reject with.
 */
export function readNodeBody(
  c: Context,
  maxBytes: number,
  errors: { tooLarge: () => Error; notReceived: () => Error },
): Promise<Uint8Array> | undefined {
  const incoming = incomingOf(c);
  if (incoming === undefined) return undefined;
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
        reject(errors.tooLarge());
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
      reject(errors.notReceived());
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

// ---------------------------------------------------------------------------------------------
// Event streams written straight to the socket

/**
 * Writes an event stream straight to the Node response (sse.ts says why and when); undefined when
 * there is none. The bound is the response's unsent bytes: `writableLength`, what the response and
 * its socket hold that the kernel has not taken.
 */
export function writeSseToNode(c: Context, s: SseStart): Response | undefined {
  const out = outgoingOf(c);
  if (out === undefined) return undefined;
  let closed = false;
  out.writeHead(200, { ...SSE_HEADERS, ...s.headers });
  out.flushHeaders();
  out.once('close', () => {
    if (closed) return;
    closed = true;
    s.onCancel();
  });
  const write = frameWriter(out);
  /** Writes one frame's text; past the bound the stream is cut (see sse.ts). */
  const put = (text: string) => {
    write(text);
    if (out.writableLength > s.bound) {
      closed = true;
      out.destroy();
      // After the engine's current event: send() runs inside it.
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
      if (last !== undefined) for (const payload of last) write(s.format.frame(payload));
      out.end(s.format.done);
    },
    get closed() {
      return closed;
    },
  });
  return RESPONSE_ALREADY_SENT;
}

/**
 * How a stream's frames reach the wire once its headers are sent. A chunked response (HTTP/1.1,
 * no length: every event stream) writes each frame to its socket as the very chunk
 * `ServerResponse.write` would send (`<size in hex>\r\n<data>\r\n`, RFC 9112 §7.1), in one
 * socket write: `res.write` costs four buffered writes and a `nextTick` per response per turn, a
 * sizeable share of the server's CPU at tens of thousands of frames a second.
 * The response's own bookkeeping is unaffected: it has sent its headers, counts the socket's
 * unsent bytes in `writableLength`, and `end()` still writes the last chunk and the terminator.
 * Anything else (an HTTP/1.0 client, a response not yet given its socket) goes through `res.write`.
 *
 * Like `res.write`, a socket is corked from its first frame of a turn to the end of the turn, so
 * the frames one turn gives a stream leave in one system call: the steps a lagging engine runs back
 * to back in one timer callback, a stream's last token with its finish, usage and [DONE] frames.
 * Written one by one they each cost a send, which the kernel charges more than all the JavaScript
 * a frame takes. One `nextTick` per turn uncorks every socket written in it.
 */
function frameWriter(out: ServerResponse): (text: string) => void {
  const socket = out.socket;
  if (!out.chunkedEncoding || !out.headersSent || socket === null) {
    return (text) => {
      out.write(text);
    };
  }
  const state: CorkedSocket = { socket, corked: false };
  return (text) => {
    if (socket.destroyed) return;
    if (!state.corked) {
      state.corked = true;
      socket.cork();
      corkedThisTurn.push(state);
      if (corkedThisTurn.length === 1) process.nextTick(uncorkAll);
    }
    socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
  };
}

interface CorkedSocket {
  readonly socket: Socket;
  corked: boolean;
}

/** The sockets frames were written to this turn, corked until uncorkAll runs at its end. */
let corkedThisTurn: CorkedSocket[] = [];

function uncorkAll(): void {
  const list = corkedThisTurn;
  corkedThisTurn = [];
  for (const s of list) {
    s.corked = false;
    // A response that ended meanwhile was uncorked by end(); uncork() then does nothing.
    s.socket.uncork();
  }
}
