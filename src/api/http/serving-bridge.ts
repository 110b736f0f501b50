/**
 * Where an HTTP request meets the serving layer (src/serving/served.ts): the request as a serving
 * call sees it, and a serving call's answer as an HTTP response — a JSON body (written in parts
 * when it holds StreamedArrays, json-body.ts) or an event stream (sse.ts).
 */
import type { Context } from 'hono';
import { streamedJsonResponse } from '../../serving/json-body.js';
import type { Served, ServingRequest } from '../../serving/served.js';
import { clientSignalOf } from './node-adapter.js';
import { noteUsage } from './request-log.js';
import { DATA_FRAMES, NAMED_EVENTS, type SseFormat } from './sse-frames.js';
import { sseResponse } from './sse.js';

export function servingRequestOf(c: Context): ServingRequest {
  return {
    signal: clientSignalOf(c),
    header: (name) => c.req.header(name),
    noteUsage: (usage) => noteUsage(c, usage),
  };
}

/** Names the replica that served a request, when several sit behind the endpoint. */
export const REPLICA_HEADER = 'x-nimsim-replica';

/** The stream format a serving call asks for: named events, or OpenAI's `data:` frames. */
const formatOf = (served: { readonly events?: 'named' | undefined }): SseFormat =>
  served.events === 'named' ? NAMED_EVENTS : DATA_FRAMES;

/** A serving call's answer as the response. */
export function respond<Body, Frame>(c: Context, served: Served<Body, Frame>): Response {
  const headers: Record<string, string> =
    served.replica === undefined ? NO_HEADERS : { [REPLICA_HEADER]: String(served.replica) };
  if (served.stream) return sseResponse(c, served.frames, headers, formatOf(served));
  return served.inParts
    ? streamedJsonResponse(served.body, headers)
    : c.json(served.body as object, 200, headers);
}

const NO_HEADERS: Record<string, string> = {};
