/** Builds an in-process nimsim (no socket) for app.request() tests. */
import { loadConfig, type RawSettings } from '../../src/config/config.js';
import { createLogger } from '../../src/logging.js';
import { createService, type Service } from '../../src/server.js';

export function testService(settings: RawSettings = {}, env: NodeJS.ProcessEnv = {}): Service {
  const config = loadConfig(env, { timeScale: '0', jitter: '0', ...settings });
  return createService(
    config,
    createLogger('ERROR', false, () => {}),
    { processMetrics: false },
  );
}

export function postJson(
  service: Service,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return service.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Reads an SSE response into its data payloads: JSON objects, and the literal '[DONE]'. */
export async function readSse(res: Response): Promise<unknown[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => {
      const data = frame.slice('data: '.length);
      return data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as unknown);
    });
}

/** One frame of an event stream with named events (Anthropic's /v1/messages). */
export interface NamedEvent {
  readonly event: string | undefined;
  readonly data: Record<string, unknown>;
}

/** Reads an SSE response into its frames: the `event:` name and the parsed `data:` payload. */
export async function readSseEvents(res: Response): Promise<NamedEvent[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      let event: string | undefined;
      let data = '';
      for (const line of frame.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice('event: '.length);
        else if (line.startsWith('data: ')) data += line.slice('data: '.length);
        else throw new Error(`unexpected SSE line: ${line}`);
      }
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}
