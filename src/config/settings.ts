/**
 * Every setting nimsim reads, declared once: its environment variable, its flag, its schema (over
 * the raw string) and its default. The CLI's options, the config loader, `GET /admin/config` and
 * the settings table of docs/settings.md are all derived from this table, so a setting cannot exist in one
 * place and be missing in another. Names are a stable interface (docs/interface.md#settings).
 */
import { z } from 'zod';
import { endpointProblem } from '../kv-events/endpoint.js';
import { KV_EVENT_FORMATS } from '../kv-events/wire-format.js';
import { KV_LINK_KEYS } from '../catalog/links.js';

/**
 * What a number setting allows, said the same way whichever check fails (the pattern, the bound):
 * zod's own messages ("Too big: expected number to be <=65535") are for developers.
 */
const range = (kind: 'an integer' | 'a number', min: number, max: number, unbounded: number) =>
  max === unbounded ? `must be ${kind} ≥ ${min}` : `must be ${kind} from ${min} to ${max}`;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const allowed = range('an integer', min, max, Number.MAX_SAFE_INTEGER);
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, allowed)
    .transform(Number)
    .pipe(z.number({ error: allowed }).int(allowed).min(min, allowed).max(max, allowed));
};

const num = (
  min: number,
  max = Number.MAX_VALUE,
  allowed = range('a number', min, max, Number.MAX_VALUE),
) => {
  return z
    .string()
    .trim()
    .regex(/^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i, allowed)
    .transform(Number)
    .pipe(z.number({ error: allowed }).min(min, allowed).max(max, allowed));
};

/** "must be a or b" / "must be one of a, b, c". */
const mustBeOneOf = (values: readonly string[]) =>
  values.length === 2 ? `must be ${values[0]} or ${values[1]}` : `must be one of ${values.join(', ')}`;

const bool = () =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(
      z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], {
        error: 'must be 1 or 0 (or true/false, yes/no, on/off)',
      }),
    )
    .transform((v) => v === '1' || v === 'true' || v === 'yes' || v === 'on');

const str = () => z.string().trim().min(1, 'must not be empty');

const oneOfInts = (values: readonly number[]) =>
  z
    .string()
    .trim()
    .transform(Number)
    .refine((v) => values.includes(v), `must be one of ${values.join(', ')}`);

/** The ranks vLLM's --max-lora-rank accepts (`MaxLoRARanks`, vllm/config/lora.py). */
export const LORA_RANKS = [1, 8, 16, 32, 64, 128, 256, 320, 512] as const;

/** A ZeroMQ endpoint vLLM's KV-event publisher accepts (src/kv-events/endpoint.ts). */
const zmqEndpoint = () =>
  str().superRefine((v, ctx) => {
    const problem = endpointProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(values, { error: mustBeOneOf(values) }));

const list = () =>
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    )
    .pipe(z.array(z.string()).min(1, 'must name at least one value'));

/** Log levels, NIM's (TRACE is nimsim's finer DEBUG). */
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;

/** Injectable faults (docs/interface.md#faults; the latency faults last); see src/api/faults/faults.ts. */
export const FAULT_TYPE_NAMES = [
  'rate_limit',
  'server_error',
  'service_unavailable',
  'context_length',
  'invalid_request',
  'model_not_found',
  'timeout',
  'slow_first_token',
  'stall',
  'disconnect',
] as const;

export type FaultType = (typeof FAULT_TYPE_NAMES)[number];

/**
 * Longest wall delay a fault or a scripted reply may inject (ms): NIMSIM_FAULT_DELAY_MS, the
 * x-nimsim-fault-delay-ms header and a rule's latency_ms. Ten minutes is the openai client's
 * default timeout; a longer hold tests nothing a client can see.
 */
export const MAX_INJECTED_DELAY_MS = 600_000;

/**
 * Slowest time scale other than 0: a simulated second then takes 1,000 wall seconds. Below it a
 * step's wall delay (simulated ms / scale) leaves what a timer can hold and every request hangs.
 */
export const MIN_TIME_SCALE = 0.001;
const TIME_SCALE_ALLOWED = `must be 0 or a number from ${MIN_TIME_SCALE} to 1000000`;

/** Jitter of `serve` when NIMSIM_JITTER is unset: a little, so latencies look measured (simulate: 0). */
export const SERVE_DEFAULT_JITTER = 0.03;

/** Most engine replicas one process simulates (NIMSIM_REPLICAS). */
export const MAX_REPLICAS = 256;

/** Routing policies of a fleet (src/fleet/router.ts re-exports it). */
export const ROUTER_NAMES = ['round-robin', 'random', 'least-loaded', 'kv-aware', 'session'] as const;

/** Bound of the KV capacity settings (blocks); see kvCacheBlocks. */
const MAX_KV_BLOCKS = 10_000_000;

interface SettingDef<S extends z.ZodType> {
  readonly env: string;
  /** Overrides the flag derived from the env name (docs/interface.md#settings: port, model, profile). */
  readonly flag?: string;
  readonly schema: S;
  /** Raw default, parsed by the schema like any other value; undefined = unset. */
  readonly default?: string;
  /**
   * One phrase for `--help` (shown with the default and the variable; docs/interface.md holds the
   * detail). Not repeated by a refusal, which says what is allowed in its own words.
   */
  readonly help: string;
  /** Masked in GET /admin/config. */
  readonly secret?: boolean;
}

const setting = <const D extends SettingDef<z.ZodType>>(def: D): D => def;

export const SETTINGS = {
  port: setting({
    env: 'NIM_SERVER_PORT',
    flag: 'port',
    schema: int(0, 65535),
    default: '8000',
    help: 'listen port (0 = any free port; the chosen port is logged)',
  }),
  host: setting({
    env: 'NIMSIM_HOST',
    schema: str(),
    default: '127.0.0.1',
    help: 'bind address (the container image sets 0.0.0.0)',
  }),
  modelName: setting({
    env: 'NIM_MODEL_NAME',
    flag: 'model',
    schema: str(),
    default: 'meta/llama-3.1-8b-instruct',
    help: 'catalog model simulated',
  }),
  servedModelName: setting({
    env: 'NIM_SERVED_MODEL_NAME',
    schema: list(),
    help: 'name(s) the API serves, comma-separated',
  }),
  profile: setting({
    env: 'NIM_MODEL_PROFILE',
    flag: 'profile',
    schema: str(),
    help: 'profile name or 64-hex id; sets precision and TP',
  }),
  precision: setting({
    env: 'NIMSIM_PRECISION',
    schema: oneOf(['bf16', 'fp16', 'fp8', 'nvfp4', 'int4_awq']),
    help: 'profile precision: bf16, fp16, fp8, nvfp4, int4_awq',
  }),
  tp: setting({
    env: 'NIMSIM_TP',
    schema: int(1, 64),
    help: 'profile tensor-parallel size',
  }),
  gpu: setting({
    env: 'NIMSIM_GPU',
    schema: str(),
    default: 'h100-sxm',
    help: 'simulated GPU: a100-80gb, l40s, h100-sxm, h200, b200, gb200',
  }),
  gpus: setting({
    env: 'NIMSIM_GPUS',
    schema: int(1, 64),
    default: '1',
    help: 'number of GPUs in the simulated system',
  }),
  gpuMemoryUtilization: setting({
    env: 'NIMSIM_GPU_MEMORY_UTILIZATION',
    schema: num(0.05, 1),
    default: '0.9',
    help: 'fraction of GPU memory for weights and KV cache (tensorrt_llm: for KV, of what weights leave)',
  }),
  frontend: setting({
    env: 'NIMSIM_FRONTEND',
    schema: oneOf(['nim', 'none']),
    default: 'nim',
    help: "nim: NIM's HTTP front end (streaming overlaps each step; request intake before queueing); none: in-process (trtllm-bench)",
  }),
  maxModelLen: setting({
    env: 'NIM_MAX_MODEL_LEN',
    schema: int(16),
    help: 'context length',
  }),
  enableKvCacheReuse: setting({
    env: 'NIM_ENABLE_KV_CACHE_REUSE',
    schema: bool(),
    default: '1',
    help: 'prefix caching on (1) or off (0)',
  }),
  kvBlockSize: setting({
    env: 'NIMSIM_KV_BLOCK_SIZE',
    schema: int(1, 1024),
    default: '16',
    help: 'tokens per KV block',
  }),
  kvCacheBlocks: setting({
    env: 'NIMSIM_KV_CACHE_BLOCKS',
    // Per-block state is preallocated; 10M blocks (160M tokens at 16) is far beyond any real GPU.
    schema: int(1, MAX_KV_BLOCKS),
    help: 'GPU KV capacity in blocks',
  }),
  kvEviction: setting({
    env: 'NIMSIM_KV_EVICTION',
    schema: oneOf(['lru', 'fifo', 'lfu']),
    default: 'lru',
    help: "policy for cached blocks no request holds: lru (vLLM's), fifo, lfu",
  }),
  kvHostCacheBlocks: setting({
    env: 'NIMSIM_KV_HOST_CACHE_BLOCKS',
    schema: int(0, MAX_KV_BLOCKS),
    default: '0',
    help: 'host (CPU) KV tier in blocks; GPU evictions land there (0 = off)',
  }),
  kvDiskCacheBlocks: setting({
    env: 'NIMSIM_KV_DISK_CACHE_BLOCKS',
    schema: int(0, MAX_KV_BLOCKS),
    default: '0',
    help: 'local-disk (NVMe) KV tier in blocks, below the host tier (0 = off)',
  }),
  kvDisk: setting({
    env: 'NIMSIM_KV_DISK',
    schema: str(),
    default: 'micron-9550',
    help: "the disk tier's NVMe drive: micron-9550 (Gen5), kioxia-cm6 (Gen4), micron-9200 (Gen3)",
  }),
  maxNumSeqs: setting({
    env: 'NIMSIM_MAX_NUM_SEQS',
    schema: int(1, 100_000),
    default: '256',
    help: 'most sequences running at once',
  }),
  maxNumBatchedTokens: setting({
    env: 'NIMSIM_MAX_NUM_BATCHED_TOKENS',
    schema: int(1),
    default: '8192',
    help: 'token budget of one engine step (vLLM --max-num-batched-tokens)',
  }),
  maxWaiting: setting({
    env: 'NIMSIM_MAX_WAITING',
    schema: int(0),
    default: '1024',
    help: 'bound of the waiting queue; beyond it 429',
  }),
  maxTokensPerRequest: setting({
    env: 'NIMSIM_MAX_TOKENS_PER_REQUEST',
    schema: int(1),
    default: String(2 ** 20),
    help: 'most tokens per request, prompt and output of all choices; beyond: 400',
  }),
  maxLogprobsPerRequest: setting({
    env: 'NIMSIM_MAX_LOGPROBS_PER_REQUEST',
    schema: int(0),
    default: String(2 ** 20),
    help: 'most logprob entries per response; beyond: 400',
  }),
  peftSource: setting({
    env: 'NIM_PEFT_SOURCE',
    schema: str(),
    help: 'directory of LoRA adapters, one folder each, named as its model id',
  }),
  peftRefreshInterval: setting({
    env: 'NIM_PEFT_REFRESH_INTERVAL',
    schema: int(1, 86_400),
    help: 'seconds between rescans of --peft-source for added or removed adapters',
  }),
  maxGpuLoras: setting({
    env: 'NIM_MAX_GPU_LORAS',
    schema: int(1, 1024),
    default: '8',
    help: 'most distinct LoRA adapters one batch mixes (vLLM --max-loras)',
  }),
  maxLoraRank: setting({
    env: 'NIM_MAX_LORA_RANK',
    schema: oneOfInts(LORA_RANKS),
    default: '32',
    help: `highest LoRA rank loaded: ${LORA_RANKS.join(', ')} (vLLM --max-lora-rank)`,
  }),
  replicas: setting({
    env: 'NIMSIM_REPLICAS',
    schema: int(1, MAX_REPLICAS),
    default: '1',
    help: `engine replicas behind one router, each a whole engine (at most ${MAX_REPLICAS})`,
  }),
  router: setting({
    env: 'NIMSIM_ROUTER',
    schema: oneOf(ROUTER_NAMES),
    help: 'replica choice: round-robin, random, least-loaded, kv-aware, session',
  }),
  kvOverlapScoreWeight: setting({
    env: 'NIMSIM_KV_OVERLAP_SCORE_WEIGHT',
    schema: num(0, 1e6),
    default: '1',
    help: 'kv-aware router: weight of prefill cost vs decode cost (as in Dynamo)',
  }),
  routerTemperature: setting({
    env: 'NIMSIM_ROUTER_TEMPERATURE',
    schema: num(0, 100),
    default: '0',
    help: 'kv-aware router: softmax temperature (as in Dynamo; 0 = the cheapest)',
  }),
  prefillReplicas: setting({
    env: 'NIMSIM_PREFILL_REPLICAS',
    schema: int(0, MAX_REPLICAS),
    default: '0',
    help: 'prefill replicas of disaggregated serving (with --decode-replicas; not with --replicas)',
  }),
  decodeReplicas: setting({
    env: 'NIMSIM_DECODE_REPLICAS',
    schema: int(0, MAX_REPLICAS),
    default: '0',
    help: 'decode replicas of disaggregated serving (with --prefill-replicas)',
  }),
  kvTransferLink: setting({
    env: 'NIMSIM_KV_TRANSFER_LINK',
    schema: oneOf(KV_LINK_KEYS),
    help: `link from prefill to decode replicas: ${KV_LINK_KEYS.join(', ')}`,
  }),
  prefillTp: setting({
    env: 'NIMSIM_PREFILL_TP',
    schema: int(1, 64),
    help: 'tensor-parallel size (and GPUs) of each prefill replica',
  }),
  decodeTp: setting({
    env: 'NIMSIM_DECODE_TP',
    schema: int(1, 64),
    help: 'tensor-parallel size (and GPUs) of each decode replica',
  }),
  maxLocalPrefillLength: setting({
    env: 'NIMSIM_MAX_LOCAL_PREFILL_LENGTH',
    schema: int(0),
    default: '1000',
    help: "prompts with at most this many uncached tokens are prefilled on their decode replica (Dynamo's max_local_prefill_length)",
  }),
  prefillMaxWaiting: setting({
    env: 'NIMSIM_PREFILL_MAX_WAITING',
    schema: int(0),
    help: "bound of each prefill replica's waiting queue; beyond: 429",
  }),
  decodeMaxWaiting: setting({
    env: 'NIMSIM_DECODE_MAX_WAITING',
    schema: int(0),
    help: "bound of each decode replica's waiting queue; beyond: 429",
  }),
  timeScale: setting({
    env: 'NIMSIM_TIME_SCALE',
    schema: num(0, 1e6, TIME_SCALE_ALLOWED).refine((v) => v === 0 || v >= MIN_TIME_SCALE, {
      message: TIME_SCALE_ALLOWED,
    }),
    default: '1',
    help: `1 = real time, 10 = ten times faster, 0 = no waiting (else at least ${MIN_TIME_SCALE})`,
  }),
  jitter: setting({
    env: 'NIMSIM_JITTER',
    schema: num(0, 2),
    help: 'sigma of the lognormal step-time jitter',
  }),
  seed: setting({
    env: 'NIMSIM_SEED',
    schema: int(0, 2 ** 32 - 1),
    default: '0',
    help: 'seed of every random choice (content, jitter, faults)',
  }),
  content: setting({
    env: 'NIMSIM_CONTENT',
    schema: oneOf(['generate', 'echo']),
    default: 'generate',
    help: 'unscripted replies: generate (seeded prose) or echo (the last user message)',
  }),
  meanOutputTokens: setting({
    env: 'NIMSIM_MEAN_OUTPUT_TOKENS',
    schema: int(1),
    default: '150',
    help: 'median natural reply length in tokens when ignore_eos is off',
  }),
  meanReasoningTokens: setting({
    env: 'NIMSIM_MEAN_REASONING_TOKENS',
    schema: int(1),
    default: '1000',
    help: "median reasoning tokens of a reasoning model's reply",
  }),
  readyDelayMs: setting({
    env: 'NIMSIM_READY_DELAY_MS',
    schema: int(0),
    default: '0',
    help: 'simulated model load: /v1/health/ready is 503 until it passes',
  }),
  apiKey: setting({
    env: 'NIMSIM_API_KEY',
    schema: str(),
    secret: true,
    help: 'when set, /v1 inference routes need this Bearer key',
  }),
  adminToken: setting({
    env: 'NIMSIM_ADMIN_TOKEN',
    schema: str(),
    secret: true,
    help: 'when set, /admin/* is on, behind this Bearer token',
  }),
  ui: setting({
    env: 'NIMSIM_UI',
    schema: bool(),
    default: '1',
    help: 'the live page GET /ui and its events GET /ui/events (1), or 404 (0)',
  }),
  faultRate: setting({
    env: 'NIMSIM_FAULT_RATE',
    schema: num(0, 1),
    default: '0',
    help: 'fraction 0-1 of inference requests that fail with an injected error',
  }),
  faultTypes: setting({
    env: 'NIMSIM_FAULT_TYPES',
    schema: z
      .string()
      .transform((v) =>
        v.trim().toLowerCase() === 'all'
          ? [...FAULT_TYPE_NAMES]
          : v
              .split(',')
              .map((s) => s.trim().toLowerCase())
              .filter((s) => s.length > 0),
      )
      .superRefine((types, ctx) => {
        const unknown = types.find((t) => !(FAULT_TYPE_NAMES as readonly string[]).includes(t));
        if (types.length === 0 || unknown !== undefined)
          ctx.addIssue({
            code: 'custom',
            message:
              (unknown === undefined
                ? 'must name at least one fault type'
                : `unknown fault type ${unknown}`) +
              `; allowed: all, or a comma-separated list of the ${FAULT_TYPE_NAMES.length} types --help lists`,
          });
      })
      .pipe(z.array(z.enum(FAULT_TYPE_NAMES))),
    default: 'all',
    help: `fault types drawn, comma-separated: all, or ${FAULT_TYPE_NAMES.join(', ')}`,
  }),
  faultDelayMs: setting({
    env: 'NIMSIM_FAULT_DELAY_MS',
    schema: int(0, MAX_INJECTED_DELAY_MS),
    default: '10000',
    help: `wall time of latency faults (slow first token, stall, timeout), ≤ ${MAX_INJECTED_DELAY_MS}`,
  }),
  faultHeaders: setting({
    env: 'NIMSIM_FAULT_HEADERS',
    schema: bool(),
    default: '1',
    help: 'honour the x-nimsim-fault(-delay-ms) request headers (1) or not (0)',
  }),
  rulesFile: setting({
    env: 'NIMSIM_RULES_FILE',
    schema: str(),
    help: 'YAML or JSON of scripted responses',
  }),
  apiCompat: setting({
    env: 'NIMSIM_API_COMPAT',
    schema: oneOf(['1', '2']).transform(Number),
    default: '2',
    help: 'error body: 2 = {"error":{…}} (NIM 2.x), 1 = flat (NIM 1.x)',
  }),
  perReqMetricsEnable: setting({
    env: 'NIM_PER_REQ_METRICS_ENABLE',
    schema: bool(),
    default: '0',
    help: "responses carry NIM's per-request `stats` (tokens, queue time, TTFT…)",
  }),
  responsesStoreSize: setting({
    env: 'NIMSIM_RESPONSES_STORE_SIZE',
    schema: int(0, 1_000_000),
    default: '1000',
    help: 'responses kept for previous_response_id, least recently used out (0 = none)',
  }),
  maxBodyBytes: setting({
    env: 'NIMSIM_MAX_BODY_BYTES',
    // A body is held whole and decoded to one string: 256 MiB stays far below V8's longest
    // string (~512 MiB, beyond which decoding fails) and within a small pod's memory.
    schema: int(1024, 256 * 1024 * 1024),
    default: String(16 * 1024 * 1024),
    help: 'largest request body accepted; larger gets 413',
  }),
  streamBufferBytes: setting({
    env: 'NIMSIM_STREAM_BUFFER_BYTES',
    schema: int(16 * 1024, 1024 * 1024 * 1024),
    default: String(1024 * 1024),
    help: 'bytes held for a client that does not read; beyond, the stream is aborted',
  }),
  maxHeaderBytes: setting({
    env: 'NIMSIM_MAX_HEADER_BYTES',
    schema: int(1024, 1024 * 1024),
    default: '16384',
    help: 'largest request head (request line and headers) accepted; larger gets 431',
  }),
  requestTimeoutMs: setting({
    env: 'NIMSIM_REQUEST_TIMEOUT_MS',
    schema: int(1000),
    default: '30000',
    help: 'time allowed to receive a whole request; slower clients get 408',
  }),
  logLevel: setting({
    env: 'NIM_LOG_LEVEL',
    schema: z
      .string()
      .trim()
      .toUpperCase()
      .pipe(z.enum(LOG_LEVELS, { error: mustBeOneOf(LOG_LEVELS) })),
    default: 'INFO',
    help: 'TRACE, DEBUG, INFO, WARNING, ERROR or CRITICAL',
  }),
  jsonlLogging: setting({
    env: 'NIM_JSONL_LOGGING',
    schema: bool(),
    default: '0',
    help: 'log JSON lines instead of text',
  }),
  kvEventsEndpoint: setting({
    env: 'NIMSIM_KV_EVENTS_ENDPOINT',
    schema: zmqEndpoint(),
    help: "publish vLLM's KV events on this ZeroMQ endpoint (tcp://*:PORT binds)",
  }),
  kvEventsTopic: setting({
    env: 'NIMSIM_KV_EVENTS_TOPIC',
    schema: str(),
    default: 'kv-events',
    help: 'topic frame of each KV-event message (subscribers filter on it)',
  }),
  kvEventsReplayEndpoint: setting({
    env: 'NIMSIM_KV_EVENTS_REPLAY_ENDPOINT',
    schema: zmqEndpoint(),
    help: "ZeroMQ endpoint answering replays of the last 10000 batches (vLLM's)",
  }),
  kvEventsFormat: setting({
    env: 'NIMSIM_KV_EVENTS_FORMAT',
    schema: oneOf(KV_EVENT_FORMATS),
    default: 'array',
    help: "msgpack shape: array (what vLLM's KV routers decode) or map (newer vLLM)",
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;

/** The flag of a setting: the env name without NIMSIM_/NIM_, kebab-case (docs/interface.md#settings). */
export function flagOf(key: SettingKey): string {
  const def: SettingDef<z.ZodType> = SETTINGS[key];
  return (
    def.flag ??
    def.env
      .replace(/^NIMSIM_|^NIM_/, '')
      .toLowerCase()
      .replace(/_/g, '-')
  );
}
