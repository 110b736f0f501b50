/** Settings of the HTTP server: where it listens, what it serves, who may call it, how it answers. */
import { bool, int, list, num, oneOf, str } from './value-schemas.js';
import { settingGroup } from './define.js';

/**
 * Slowest time scale other than 0: a simulated second then takes 1,000 wall seconds. Below it a
 * step's wall delay (simulated ms / scale) leaves what a timer can hold and every request hangs.
 */
export const MIN_TIME_SCALE = 0.001;
const TIME_SCALE_ALLOWED = `must be 0 or a number from ${MIN_TIME_SCALE} to 1000000`;

export const SERVER_SETTINGS = settingGroup('server', {
  port: {
    env: 'NIM_SERVER_PORT',
    flag: 'port',
    schema: int(0, 65535),
    default: '8000',
    help: 'listen port (0 = any free port; the chosen port is logged)',
    arg: '<n>',
    serveOnly: true,
  },
  host: {
    env: 'NIMSIM_HOST',
    schema: str(),
    default: '127.0.0.1',
    help: 'bind address (the container image sets 0.0.0.0)',
    arg: '<addr>',
    serveOnly: true,
  },
  servedModelName: {
    env: 'NIM_SERVED_MODEL_NAME',
    schema: list(),
    unsetMeans: 'the model name',
    help: 'name(s) the API serves, comma-separated',
    arg: '<names>',
    serveOnly: true,
  },
  timeScale: {
    env: 'NIMSIM_TIME_SCALE',
    schema: num(0, 1e6, TIME_SCALE_ALLOWED).refine((v) => v === 0 || v >= MIN_TIME_SCALE, {
      message: TIME_SCALE_ALLOWED,
    }),
    default: '1',
    help: `1 = real time, 10 = ten times faster, 0 = no waiting (else at least ${MIN_TIME_SCALE})`,
    arg: '<x>',
    serveOnly: true,
  },
  readyDelayMs: {
    env: 'NIMSIM_READY_DELAY_MS',
    schema: int(0),
    default: '0',
    help: 'simulated model load: /v1/health/ready is 503 until it passes',
    arg: '<ms>',
    serveOnly: true,
  },
  apiKey: {
    env: 'NIMSIM_API_KEY',
    schema: str(),
    secret: true,
    unsetMeans: 'none, open',
    help: 'when set, /v1 inference routes need this Bearer key',
    arg: '<key>',
    serveOnly: true,
  },
  adminToken: {
    env: 'NIMSIM_ADMIN_TOKEN',
    schema: str(),
    secret: true,
    unsetMeans: 'none, /admin off',
    help: 'when set, /admin/* is on, behind this Bearer token',
    arg: '<token>',
    serveOnly: true,
  },
  ui: {
    env: 'NIMSIM_UI',
    schema: bool(),
    default: '1',
    help: 'the live page GET /ui and its events GET /ui/events (1), or 404 (0)',
    arg: '<0|1>',
    serveOnly: true,
  },
  apiCompat: {
    env: 'NIMSIM_API_COMPAT',
    schema: oneOf(['1', '2']).transform(Number),
    default: '2',
    help: 'error body: 2 = {"error":{…}} (NIM 2.x), 1 = flat (NIM 1.x)',
    arg: '<1|2>',
    serveOnly: true,
  },
  perReqMetricsEnable: {
    env: 'NIM_PER_REQ_METRICS_ENABLE',
    schema: bool(),
    default: '0',
    help: "responses carry NIM's per-request `stats` (tokens, queue time, TTFT…)",
    arg: '<0|1>',
    serveOnly: true,
  },
  responsesStoreSize: {
    env: 'NIMSIM_RESPONSES_STORE_SIZE',
    schema: int(0, 1_000_000),
    default: '1000',
    help: 'responses kept for previous_response_id, least recently used out (0 = none)',
    arg: '<n>',
    serveOnly: true,
  },
});
