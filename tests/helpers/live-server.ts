/**
 * Starts a real nimsim on 127.0.0.1 and an ephemeral port, for contract tests that need a socket
 * (the official openai client speaks HTTP, not `app.request()`).
 */
import { loadConfig, type RawSettings } from '../../src/config/config.js';
import { createLogger } from '../../src/logging.js';
import { startServer, type Service } from '../../src/server.js';

export interface LiveServer {
  /** e.g. `http://127.0.0.1:43127`, without a trailing slash; the OpenAI base URL is `${baseUrl}/v1`. */
  readonly baseUrl: string;
  readonly port: number;
  readonly service: Service;
  /** Graceful shutdown; running requests get at most `drainTimeoutMs` (wall) before they are aborted. */
  stop(drainTimeoutMs?: number): Promise<void>;
}

/**
 * Settings default to an instant server: port 0, time scale 0 (no waiting), no jitter; `settings`
 * override them by setting key, exactly as command-line flags would.
 */
export async function startLiveServer(settings: RawSettings = {}): Promise<LiveServer> {
  const config = loadConfig({}, { port: '0', host: '127.0.0.1', timeScale: '0', jitter: '0', ...settings });
  const running = await startServer(
    config,
    createLogger('ERROR', false, () => {}),
  );
  return {
    baseUrl: `http://127.0.0.1:${running.port}`,
    port: running.port,
    service: running.service,
    async stop(drainTimeoutMs = 200) {
      // Keep-alive sockets of the test's clients would otherwise hold close() open.
      const closeAll = setTimeout(() => {
        if ('closeAllConnections' in running.server) running.server.closeAllConnections();
      }, drainTimeoutMs);
      try {
        await running.shutdown(drainTimeoutMs);
      } finally {
        clearTimeout(closeAll);
      }
    },
  };
}
