/**
 * Fault injection on the generation routes (after auth and readiness, so a fault
 * never hides a 401 or a not-ready 503). Status faults answer at once with their error; `timeout`
 * holds the connection for the fault delay and drops it without a response; latency faults run the
 * request and then delay or cut its response (fault-stream.ts). Each injected fault is counted in
 * nimsim_injected_faults_total{type}.
 */
import type { Context, Next } from 'hono';
import { ApiError } from '../../serving/errors.js';
import { sleepUnlessGone as sleep } from '../../util/sleep.js';
import { readJsonValue } from '../http/body.js';
import { clientSignalOf, destroyConnection, hasNodeConnection } from '../http/node-adapter.js';
import { bufferSse } from '../http/sse.js';
import {
  FAULT_DELAY_HEADER,
  FAULT_INJECTED_HEADER,
  faultError,
  isStatusFault,
  type FaultInjector,
  type FaultType,
} from './faults.js';
import { withStreamFault, type DropConnection } from './fault-stream.js';

export interface FaultMiddlewareDeps {
  readonly injector: FaultInjector;
  readonly recordFault: (type: string) => void;
  readonly defaultModel: string;
  readonly maxModelLen: number;
}

function dropperFor(c: Context): DropConnection {
  return (body) => {
    if (!destroyConnection(c)) body?.error(new Error('nimsim: connection dropped (injected fault)'));
  };
}

/**
 * The status label and access-log status of a request whose connection a fault dropped without
 * an answer (`timeout`, and `disconnect` on a JSON reply): no status ever reached the client, so
 * it is counted apart from every real one — not as the 204 the adapter is handed internally.
 */
export const DROPPED_STATUS = 'dropped';

const DROPPED = Symbol('nimsim.connection-dropped');
type WithDropped = Context & { [DROPPED]?: true };

/** Whether a fault dropped this request's connection without answering it. */
export function connectionDropped(c: Context): boolean {
  return (c as WithDropped)[DROPPED] === true;
}

/** A response that never delivers: its body fails at once (the socket is gone when there is one). */
function droppedResponse(c: Context, drop: DropConnection): Response {
  (c as WithDropped)[DROPPED] = true;
  if (hasNodeConnection(c)) {
    drop();
    // The adapter finds the socket destroyed and writes nothing.
    return new Response(null, { status: 204 });
  }
  return new Response(new ReadableStream<Uint8Array>({ start: (controller) => drop(controller) }), {
    status: 200,
    headers: { [FAULT_INJECTED_HEADER]: 'timeout' },
  });
}

async function modelOf(c: Context, fallback: string): Promise<string> {
  try {
    const body = (await readJsonValue(c)) as { model?: unknown } | null;
    return typeof body?.model === 'string' ? body.model : fallback;
  } catch (err) {
    // A body over the limit is answered as such (its connection must close); any other
    // unreadable body just leaves the model unnamed.
    if (err instanceof ApiError && err.status === 413) throw err;
    return fallback;
  }
}

/**
 * Serves one request with the fault `type`, once admission has drawn it (admission.ts): the
 * request pipeline calls it around the route, so a request without a fault costs nothing here.
 */
export async function runFault(
  deps: FaultMiddlewareDeps,
  c: Context,
  next: Next,
  type: FaultType,
): Promise<void> {
  const delayMs = deps.injector.delayMs(c.req.header(FAULT_DELAY_HEADER));
  deps.recordFault(type);
  if (isStatusFault(type)) {
    const model = type === 'model_not_found' ? await modelOf(c, deps.defaultModel) : deps.defaultModel;
    throw faultError(type, { model, maxModelLen: deps.maxModelLen });
  }
  const signal = clientSignalOf(c);
  const drop = dropperFor(c);
  if (type === 'timeout') {
    await sleep(delayMs, signal);
    c.res = droppedResponse(c, drop);
    return;
  }
  // The latency faults below wrap the response body, so the stream must be a web body here.
  bufferSse(c);
  await next();
  const res = c.res;
  if (res.status >= 400) return;
  const isStream = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  if (!isStream || !res.body) {
    // A JSON reply has one "token" moment: its arrival is delayed, or never comes.
    if (type === 'disconnect') {
      await res.body?.cancel();
      c.res = droppedResponse(c, drop);
      return;
    }
    await sleep(delayMs, signal);
    return;
  }
  const headers = new Headers(res.headers);
  headers.set(FAULT_INJECTED_HEADER, type);
  c.res = new Response(withStreamFault(res.body, type, delayMs, drop, signal), {
    status: res.status,
    headers,
  });
}
