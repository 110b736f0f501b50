/**
 * Before any load: is the `--url` target there, does it speak the OpenAI API, and does it serve
 * `--model`? One `GET /v1/models` answers all three, so a dead port or a wrong model stops the run
 * with one line instead of a report full of failed requests.
 */
import http from 'node:http';
import { httpErrorText, transportErrorText } from './sse-client.js';
import type { Target } from './target.js';

/** Why the run cannot start: exit 1 for a target that is not reachable, 2 for a bad argument. */
export interface TargetProblem {
  readonly exitCode: 1 | 2;
  readonly message: string;
}

/** The base URL of `t` as the user would type it, e.g. `http://127.0.0.1:8000`. */
export function targetUrl(t: Target): string {
  return `http://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}${t.basePath}`;
}

/**
 * `GET path` on the target with node:http (fetch refuses some ports outright, e.g. 9, which would
 * hide what the socket says); rejects on a transport error or after `timeoutMs`.
 */
function get(t: Target, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: t.host,
        port: t.port,
        path: `${t.basePath}${path}`,
        headers: t.apiKey === undefined ? {} : { authorization: `Bearer ${t.apiKey}` },
        timeout: timeoutMs,
      },
      (res) => {
        res.setEncoding('utf8');
        let body = '';
        res.on('data', (text: string) => {
          if (body.length < 1_000_000) body += text;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
  });
}

/** Checks `t` with `GET /v1/models`; undefined when the model is served. */
export async function checkTarget(t: Target, timeoutMs = 10_000): Promise<TargetProblem | undefined> {
  const url = targetUrl(t);
  let res: { status: number; body: string };
  try {
    res = await get(t, '/v1/models', timeoutMs);
  } catch (err) {
    return { exitCode: 1, message: `cannot reach ${url}: GET /v1/models: ${transportErrorText(err)}` };
  }
  const body = res.body;
  if (res.status === 401 || res.status === 403) {
    return {
      exitCode: 2,
      message:
        `--api-key: ${url} ${t.apiKey === undefined ? 'wants an API key' : 'refused the API key'} ` +
        `(GET /v1/models: ${httpErrorText(res.status, body)})`,
    };
  }
  if (res.status >= 500) {
    return {
      exitCode: 1,
      message: `${url} is not serving: GET /v1/models: ${httpErrorText(res.status, body)}`,
    };
  }
  let ids: string[] | undefined;
  try {
    const parsed = JSON.parse(body) as { data?: { id?: unknown }[] };
    if (res.status === 200 && Array.isArray(parsed.data)) {
      ids = parsed.data.map((m) => m.id).filter((id): id is string => typeof id === 'string');
    }
  } catch {
    // not JSON: not an OpenAI-compatible API root
  }
  if (ids === undefined) {
    return {
      exitCode: 2,
      message:
        `--url: ${url} is not an OpenAI-compatible API root: GET /v1/models answered ` +
        `${res.status === 200 ? 'no model list' : httpErrorText(res.status, body)}`,
    };
  }
  if (!ids.includes(t.model)) {
    return {
      exitCode: 2,
      message: `--model: ${url} does not serve ${t.model}; it serves ${ids.length === 0 ? 'no model' : ids.join(', ')}`,
    };
  }
  return undefined;
}
