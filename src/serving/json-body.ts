/**
 * A JSON response body written in parts, for the replies that can be large: a non-streaming
 * answer with logprobs carries one entry per token and per top alternative (~80 bytes each, so
 * up to ~80 MB within NIMSIM_MAX_LOGPROBS_PER_REQUEST). Building that as objects and passing it
 * to one `JSON.stringify` held the whole graph and the whole string at once and blocked the event
 * loop for the time of both.
 *
 * Here the large arrays are `StreamedArray`s whose items are computed only when the writer
 * reaches them, and the body is a stream that produces about CHUNK_CHARS characters each time the
 * connection asks for more: memory stays at one chunk, and the work is paced by how fast the
 * client reads and spread over turns of the event loop (pacer.ts). The bytes are exactly those of `JSON.stringify`
 * on the same value with every StreamedArray written out as an array.
 */
import { Pacer } from './pacer.js';

/** An array whose items are made on demand, in order, as the body is written. */
export class StreamedArray {
  constructor(
    readonly items: () => Iterable<unknown>,
    /** The items are already JSON text (strings written as they are), not values to stringify. */
    readonly itemsAreJson = false,
  ) {}
}

/** Characters gathered before a chunk is handed to the connection. */
const CHUNK_CHARS = 64 * 1024;

/**
 * `value` as JSON text, in parts. Plain objects and arrays are walked so that StreamedArrays can
 * be written item by item; an item of a StreamedArray, and anything else, is one JSON.stringify.
 */
export function* jsonParts(value: unknown): Generator<string, void, void> {
  if (value instanceof StreamedArray) {
    yield '[';
    let first = true;
    const json = value.itemsAreJson;
    for (const item of value.items()) {
      yield (first ? '' : ',') + (json ? (item as string) : (JSON.stringify(item) ?? 'null'));
      first = false;
    }
    yield ']';
  } else if (Array.isArray(value)) {
    yield '[';
    const items = value as unknown[];
    for (let i = 0; i < items.length; i++) {
      if (i > 0) yield ',';
      const item = items[i];
      if (omitted(item)) yield 'null';
      else yield* jsonParts(item);
    }
    yield ']';
  } else if (isPlainObject(value)) {
    yield '{';
    let first = true;
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (omitted(item)) continue;
      yield (first ? '' : ',') + JSON.stringify(key) + ':';
      first = false;
      yield* jsonParts(item);
    }
    yield '}';
  } else {
    yield JSON.stringify(value) ?? 'null';
  }
}

/** Values JSON.stringify leaves out of objects (and writes as null in arrays). */
function omitted(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A 200 `application/json` response whose body is `value` written in parts: each time the
 * connection pulls, about CHUNK_CHARS characters are produced; a client that goes away cancels
 * the rest.
 */
export function streamedJsonResponse(value: unknown, headers: Record<string, string> = {}): Response {
  const encoder = new TextEncoder();
  const parts = jsonParts(value);
  const pacer = new Pacer();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (pacer.due()) await pacer.pause();
        let chunk = '';
        while (chunk.length < CHUNK_CHARS) {
          const part = parts.next();
          if (part.done === true) {
            if (chunk !== '') controller.enqueue(encoder.encode(chunk));
            controller.close();
            return;
          }
          chunk += part.value;
        }
        controller.enqueue(encoder.encode(chunk));
      },
      cancel() {
        parts.return();
      },
    },
    // Nothing is made ahead of the connection's demand.
    { highWaterMark: 0 },
  );
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json', ...headers } });
}
