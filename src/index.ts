/**
 * The package's programmatic entry (`import { startNimsim } from 'nimsim'`): a NIM-like endpoint
 * started inside a test process, the same server `nimsim serve` runs (src/server.ts), on a free
 * port by default. The CLI stays the entry of the `nimsim` binary (src/cli.ts).
 */
import { ConfigError, loadConfig, type Config, type RawSettings } from './config/config.js';
import { SETTINGS, flagOf, type SettingKey } from './config/settings.js';
import { createLogger, type Logger } from './logging.js';
import { DRAIN_TIMEOUT_MS, startServer, type RunningServer } from './server.js';

export { ConfigError, SETTINGS, flagOf };
export type { Config, Logger, RawSettings, RunningServer, SettingKey };

/** A setting's value as a test writes it; lists (e.g. servedModelName) may be arrays. */
export type SettingValue = string | number | boolean | readonly string[];

/**
 * Settings by the keys of RawSettings (src/config/config.ts; `port`, `gpu`, `modelName`,
 * `rulesFile`, `timeScale`, ...): each is the CLI flag of that name in camelCase, and
 * docs/settings.md lists them all with their environment variables.
 */
export type NimsimSettings = Partial<Record<SettingKey, SettingValue>>;

export interface StartNimsimOptions {
  /**
   * Environment variables read beneath `settings` (NIM_*, NIMSIM_*), as the CLI reads
   * process.env. Empty by default, so a test's server does not change with the shell it runs in;
   * pass `process.env` to read it.
   */
  readonly env?: NodeJS.ProcessEnv;
  /** Where log lines go; by default stderr at NIM_LOG_LEVEL (the `logLevel` setting). */
  readonly logger?: Logger;
}

export interface Nimsim {
  /** e.g. `http://127.0.0.1:41234`: the server's root (health, metrics, admin). */
  readonly url: string;
  /** `url` + `/v1`: the `baseURL` of an OpenAI client. */
  readonly baseURL: string;
  readonly port: number;
  /** The effective configuration, as GET /admin/config reports it before masking. */
  readonly config: Config;
  /** The running server (runtime, metrics, rules), for tests that look inside. */
  readonly server: RunningServer;
  /**
   * Graceful shutdown as on SIGTERM: readiness turns 503, running requests finish (up to
   * `drainTimeoutMs`, 30 s by default, then streams end aborted), every socket is closed.
   * Resolves once the port is free; calling it again returns the same promise.
   */
  close(drainTimeoutMs?: number): Promise<void>;
}

/** RawSettings from typed values: numbers and booleans as the CLI would read them, lists joined. */
export function toRawSettings(settings: NimsimSettings): RawSettings {
  const raw: RawSettings = {};
  for (const [key, value] of Object.entries(settings) as [SettingKey, SettingValue | undefined][]) {
    if (!(key in SETTINGS)) {
      throw new ConfigError(`unknown setting ${JSON.stringify(key)} (docs/settings.md lists them)`);
    }
    if (value === undefined) continue;
    raw[key] = Array.isArray(value)
      ? value.join(',')
      : typeof value === 'boolean'
        ? value
          ? '1'
          : '0'
        : String(value as string | number);
  }
  return raw;
}

/** The address a client on this machine reaches a server bound to `host` at. */
function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts nimsim in this process. `port` is 0 (any free port) unless given (or set in `env`); a bad setting rejects
 * with a ConfigError whose message names it, as the CLI's exit-2 line does.
 */
export async function startNimsim(
  settings: NimsimSettings = {},
  options: StartNimsimOptions = {},
): Promise<Nimsim> {
  const env = options.env ?? {};
  const raw = toRawSettings(settings);
  if (raw.port === undefined && !env[SETTINGS.port.env]) raw.port = '0';
  const config = loadConfig(env, raw);
  const logger = options.logger ?? createLogger(config.logLevel, config.jsonlLogging);
  const server = await startServer(config, logger);
  const url = `http://${clientHost(config.host)}:${server.port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    port: server.port,
    config,
    server,
    close: (drainTimeoutMs = DRAIN_TIMEOUT_MS) => server.shutdown(drainTimeoutMs),
  };
}
