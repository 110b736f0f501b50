/**
 * A light streaming client for OpenAI-style SSE responses on `node:http`, timestamping every chunk
 * as it arrives. node:http with an Agent of unbounded sockets is used rather than fetch: it holds
 * 500+ concurrent streams with less per-chunk work in the client, whose own lag would otherwise be
 * measured as the server's.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** What one streamed request looked like from the client. Times are `performance.now()` ms. */
export interface StreamResult {
  readonly status: number;
  /** When the request was started (before connecting), as a load tool's TTFT clock starts. */
  readonly sentAtMs: number;
  /**
   * When the response headers arrived: nimsim sends them as soon as the request is admitted to the
   * engine's queue, so this shows how long the server took to accept it.
   */
  readonly headersAtMs: number | undefined;
  /** Arrival time of every chunk whose `choices[0].delta.content` is non-empty, in order. */
  readonly contentChunkMs: readonly number[];
  /** `usage.completion_tokens` of the final usage chunk (needs `stream_options.include_usage`). */
  readonly completionTokens: number | undefined;
  /** `usage.prompt_tokens`: the input sequence length the server actually billed. */
  readonly promptTokens: number | undefined;
  /** `usage.prompt_tokens_details.cached_tokens` (prefix-cache hits); undefined when not reported. */
  readonly cachedTokens: number | undefined;
  /** The streamed reply text (only when `collectText` was set), for multi-turn histories. */
  readonly text: string;
  /** When the response ended (or failed): the request latency's end, e.g. after `data: [DONE]`. */
  readonly endAtMs: number;
  /** Whether `data: [DONE]` arrived. */
  readonly done: boolean;
  /**
   * The replica that served it, from nimsim's `x-nimsim-replica` response header (a fleet started
   * with `--replicas`); undefined when the server sent no such header.
   */
  readonly replica?: number | undefined;
  /** A transport error, a non-200 status or an in-band `{"error":…}` frame. */
  readonly error: string | undefined;
}

export interface StreamRequest {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** The JSON request body, already serialized. */
  readonly body: string;
  /** Shared agent; give it `maxSockets: Infinity` for many concurrent streams. */
  readonly agent: http.Agent;
  /** Gives up (and reports an error) after this many ms. */
  readonly timeoutMs: number;
  /** Extra request headers (e.g. `authorization` for a real NIM). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Keep the reply text in `StreamResult.text` (costs a string concat per chunk). */
  readonly collectText?: boolean;
}

interface ChunkShape {
  choices?: { delta?: { content?: string | null } }[];
  usage?: {
    completion_tokens?: number;
    prompt_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number } | null;
  } | null;
  error?: unknown;
}

/** How much of an error response's body is kept. */
const MAX_ERROR_BODY = 2000;

/**
 * `HTTP <status>: <message>` from an error response: the `error.message` of an OpenAI-shaped body
 * (`{"error": {"message": …}}`), FastAPI's `detail`, a top-level `message`, or the body's first
 * 200 characters.
 */
export function httpErrorText(status: number, body: string): string {
  let message: string | undefined;
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: unknown } | string;
      detail?: unknown;
      message?: unknown;
    };
    const candidate =
      typeof parsed.error === 'object' && parsed.error !== null
        ? parsed.error.message
        : (parsed.error ?? parsed.message ?? parsed.detail);
    if (candidate !== undefined)
      message = typeof candidate === 'string' ? candidate : JSON.stringify(candidate);
  } catch {
    // not JSON: the raw text below
  }
  message ??= body.replace(/\s+/g, ' ').trim().slice(0, 200);
  return message === '' ? `HTTP ${status}` : `HTTP ${status}: ${message}`;
}

/** Plain words for the socket errors a newcomer meets, with Node's own message after them. */
const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused, nothing listens there',
  ECONNRESET: 'connection reset by the server',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
};

/**
 * A transport error as one line: `connection refused (connect ECONNREFUSED 127.0.0.1:9)`. Node
 * reports a name with several addresses (`localhost`) as an AggregateError whose own message is
 * empty; its first inner error says what happened.
 */
export function transportErrorText(err: unknown): string {
  const inner = err instanceof AggregateError && err.errors.length > 0 ? (err.errors[0] as unknown) : err;
  const e = inner as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(inner);
  const plain = typeof e.code === 'string' ? SOCKET_ERRORS[e.code] : undefined;
  return plain === undefined ? message : `${plain} (${message})`;
}

/** nimsim's response header naming the replica that served a request (when it runs a fleet). */
export const REPLICA_HEADER = 'x-nimsim-replica';

/** The replica index of an `x-nimsim-replica` value, or undefined when absent or not an index. */
export function replicaHeader(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return undefined;
  return Number(text);
}

/** Sends one streaming POST and resolves once the stream ends; never rejects. */
export function streamRequest(req: StreamRequest): Promise<StreamResult> {
  return new Promise((resolve) => {
    const contentChunkMs: number[] = [];
    let completionTokens: number | undefined;
    let promptTokens: number | undefined;
    let cachedTokens: number | undefined;
    let text = '';
    let done = false;
    let error: string | undefined;
    let status = 0;
    let headersAtMs: number | undefined;
    let replica: number | undefined;
    const sentAtMs = performance.now();
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        status,
        sentAtMs,
        headersAtMs,
        contentChunkMs,
        completionTokens,
        promptTokens,
        cachedTokens,
        text,
        endAtMs: performance.now(),
        done,
        error,
        replica,
      });
    };

    // One SSE event: `data: <payload>` lines ending with a blank line.
    const onEvent = (event: string, atMs: number) => {
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const payload = line.slice(5).trim();
        if (payload === '[DONE]') {
          done = true;
          continue;
        }
        let chunk: ChunkShape;
        try {
          chunk = JSON.parse(payload) as ChunkShape;
        } catch {
          error ??= `malformed SSE data: ${payload.slice(0, 80)}`;
          continue;
        }
        if (chunk.error !== undefined) error ??= `in-band error: ${JSON.stringify(chunk.error)}`;
        const content = chunk.choices?.[0]?.delta?.content;
        if (typeof content === 'string' && content !== '') {
          contentChunkMs.push(atMs);
          if (req.collectText === true) text += content;
        }
        const usage = chunk.usage;
        if (usage) {
          if (typeof usage.completion_tokens === 'number') completionTokens = usage.completion_tokens;
          if (typeof usage.prompt_tokens === 'number') promptTokens = usage.prompt_tokens;
          const cached = usage.prompt_tokens_details?.cached_tokens;
          if (typeof cached === 'number') cachedTokens = cached;
        }
      }
    };

    const httpReq = http.request(
      {
        host: req.host,
        port: req.port,
        path: req.path,
        method: 'POST',
        agent: req.agent,
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          'content-length': Buffer.byteLength(req.body),
          ...req.headers,
        },
      },
      (res) => {
        headersAtMs = performance.now();
        status = res.statusCode ?? 0;
        replica = replicaHeader(res.headers[REPLICA_HEADER]);
        res.setEncoding('utf8');
        if (status !== 200) {
          // Keep what the server said: a newcomer needs "model x does not exist", not just "404".
          let body = '';
          res.on('data', (text: string) => {
            if (body.length < MAX_ERROR_BODY) body += text;
          });
          res.on('end', () => {
            error ??= httpErrorText(status, body);
            finish();
          });
          res.on('error', (err) => {
            error ??= httpErrorText(status, body || err.message);
            finish();
          });
          return;
        }
        let buffered = '';
        res.on('data', (text: string) => {
          // Every event in this read arrived together: one timestamp for all of them.
          const atMs = performance.now();
          buffered += text;
          let end = buffered.indexOf('\n\n');
          while (end >= 0) {
            onEvent(buffered.slice(0, end), atMs);
            buffered = buffered.slice(end + 2);
            end = buffered.indexOf('\n\n');
          }
        });
        res.on('end', finish);
        res.on('error', (err) => {
          error ??= err.message;
          finish();
        });
      },
    );
    const timer = setTimeout(() => {
      error ??= `timed out after ${req.timeoutMs} ms`;
      httpReq.destroy();
      finish();
    }, req.timeoutMs);
    httpReq.on('error', (err) => {
      error ??= transportErrorText(err);
      finish();
    });
    httpReq.end(req.body);
  });
}
