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
