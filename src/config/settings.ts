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

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, `must be an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const num = (min: number, max = Number.MAX_VALUE) =>
  z
    .string()
    .trim()
    .regex(/^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i, `must be a number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min).max(max));

const bool = () =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off']))
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
  z.string().trim().toLowerCase().pipe(z.enum(values));

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
    help: 'catalog model simulated (architecture, tokenizer, context length)',
  }),
  servedModelName: setting({
    env: 'NIM_SERVED_MODEL_NAME',
    schema: list(),
    help: 'name(s) served in the API, comma-separated (default: the model name)',
  }),
  profile: setting({
    env: 'NIM_MODEL_PROFILE',
    flag: 'profile',
    schema: str(),
    help: 'model profile name or 64-hex id (default: best compatible); sets precision and TP',
  }),
  precision: setting({
    env: 'NIMSIM_PRECISION',
    schema: oneOf(['bf16', 'fp16', 'fp8', 'nvfp4', 'int4_awq']),
    help: 'pick the compatible profile with this precision',
  }),
  tp: setting({
    env: 'NIMSIM_TP',
    schema: int(1, 64),
    help: 'pick the compatible profile with this tensor-parallel size',
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
    help: 'fraction of GPU memory for weights, activations and KV cache (vLLM --gpu-memory-utilization); for tensorrt_llm profiles, the fraction of the memory left after weights that the KV cache takes (kv_cache_free_gpu_mem_fraction)',
  }),
  frontend: setting({
    env: 'NIMSIM_FRONTEND',
    schema: oneOf(['nim', 'none']),
    default: 'nim',
    help: "serving front end whose per-sequence CPU time overlaps each step: nim (NIM's HTTP streaming) or none (the engine driven in-process, as trtllm-bench does)",
  }),
  maxModelLen: setting({
    env: 'NIM_MAX_MODEL_LEN',
    schema: int(16),
    help: "context length (default: the model's)",
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
    help: 'GPU KV capacity in blocks (default: from GPU memory)',
  }),
  kvEviction: setting({
    env: 'NIMSIM_KV_EVICTION',
    schema: oneOf(['lru', 'fifo', 'lfu']),
    default: 'lru',
    help:
      "eviction policy of the cached GPU KV blocks no request uses: lru (vLLM's: least recently released first), " +
      'fifo, lfu; empty blocks are always used before a cached one is evicted',
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
    help: 'local-disk (NVMe) KV tier in blocks, below the host tier: host evictions land there, or GPU evictions with no host tier (0 = off)',
  }),
  kvDisk: setting({
    env: 'NIMSIM_KV_DISK',
    schema: str(),
    default: 'micron-9550',
    help: "the disk tier's NVMe drive, whose read bandwidth and latency a disk hit costs: micron-9550 (PCIe Gen5), kioxia-cm6 (Gen4), micron-9200 (Gen3)",
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
    help: 'token budget of one engine step (chunked prefill; vLLM --max-num-batched-tokens)',
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
    help: 'most tokens one request may take over all its choices (n, times each prompt of a batch), prompt plus output; beyond it 400 (never less than the context length; the default takes 8 full 131k contexts)',
  }),
  maxLogprobsPerRequest: setting({
    env: 'NIMSIM_MAX_LOGPROBS_PER_REQUEST',
    schema: int(0),
    default: String(2 ** 20),
    help: 'most logprob entries one response may carry (tokens × (1 + top_logprobs), over its choices); beyond it 400',
  }),
  peftSource: setting({
    env: 'NIM_PEFT_SOURCE',
    schema: str(),
    help: 'directory of LoRA adapters, one folder per adapter whose name is its model id (adapter_config.json with adapter_model.safetensors or .bin, or one .nemo file); enables LoRA (unset: off)',
  }),
  peftRefreshInterval: setting({
    env: 'NIM_PEFT_REFRESH_INTERVAL',
    schema: int(1, 86_400),
    help: 'seconds between rescans of NIM_PEFT_SOURCE for adapters added or removed (unset: read once at start)',
  }),
  maxGpuLoras: setting({
    env: 'NIM_MAX_GPU_LORAS',
    schema: int(1, 1024),
    default: '8',
    help: "most distinct LoRA adapters one batch mixes (vLLM --max-loras); other adapters' requests wait",
  }),
  maxLoraRank: setting({
    env: 'NIM_MAX_LORA_RANK',
    schema: oneOfInts(LORA_RANKS),
    default: '32',
    help: `highest LoRA rank accepted (vLLM --max-lora-rank: ${LORA_RANKS.join(', ')}); an adapter of a higher rank is not loaded`,
  }),
  replicas: setting({
    env: 'NIMSIM_REPLICAS',
    schema: int(1, MAX_REPLICAS),
    default: '1',
    help: `engine replicas behind one router, each with its own batch, KV cache and GPUs of the profile (at most ${MAX_REPLICAS})`,
  }),
  router: setting({
    env: 'NIMSIM_ROUTER',
    schema: oneOf(ROUTER_NAMES),
    help: 'how requests are spread over NIMSIM_REPLICAS: round-robin, random, least-loaded, kv-aware or session (default kv-aware)',
  }),
  kvOverlapScoreWeight: setting({
    env: 'NIMSIM_KV_OVERLAP_SCORE_WEIGHT',
    schema: num(0, 1e6),
    default: '1',
    help: "kv-aware router: weight of a replica's prefill cost (blocks it lacks) against its decode cost (blocks in use), as Dynamo's --kv-overlap-score-weight",
  }),
  routerTemperature: setting({
    env: 'NIMSIM_ROUTER_TEMPERATURE',
    schema: num(0, 100),
    default: '0',
    help: "kv-aware router: softmax temperature over the replicas' costs, as Dynamo's --router-temperature (0 = always the cheapest)",
  }),
  prefillReplicas: setting({
    env: 'NIMSIM_PREFILL_REPLICAS',
    schema: int(0, MAX_REPLICAS),
    default: '0',
    help: 'disaggregated serving (with NIMSIM_DECODE_REPLICAS, both > 0; not with NIMSIM_REPLICAS): prefill replicas, each prefilling prompts and sending their KV blocks to a decode replica',
  }),
  decodeReplicas: setting({
    env: 'NIMSIM_DECODE_REPLICAS',
    schema: int(0, MAX_REPLICAS),
    default: '0',
    help: 'disaggregated serving (with NIMSIM_PREFILL_REPLICAS, both > 0): decode replicas, each receiving prompts KV blocks and generating the answers',
  }),
  kvTransferLink: setting({
    env: 'NIMSIM_KV_TRANSFER_LINK',
    schema: oneOf(KV_LINK_KEYS),
    help: `link carrying KV blocks from prefill to decode replicas: ${KV_LINK_KEYS.join(', ')} (default: the GPU's NVLink)`,
  }),
  prefillTp: setting({
    env: 'NIMSIM_PREFILL_TP',
    schema: int(1, 64),
    help: "disaggregated: tensor-parallel size of each prefill replica, which then has that many GPUs (default: the profile's)",
  }),
  decodeTp: setting({
    env: 'NIMSIM_DECODE_TP',
    schema: int(1, 64),
    help: "disaggregated: tensor-parallel size of each decode replica, which then has that many GPUs (default: the profile's)",
  }),
  maxLocalPrefillLength: setting({
    env: 'NIMSIM_MAX_LOCAL_PREFILL_LENGTH',
    schema: int(0),
    default: '1000',
    help: "disaggregated: a prompt whose tokens not cached on its decode replica are at most this many is prefilled there, not remotely (Dynamo's max_local_prefill_length; 0 = always remote)",
  }),
  prefillMaxWaiting: setting({
    env: 'NIMSIM_PREFILL_MAX_WAITING',
    schema: int(0),
    help: "disaggregated: bound of each prefill replica's waiting queue; beyond it 429 (default NIMSIM_MAX_WAITING)",
  }),
  decodeMaxWaiting: setting({
    env: 'NIMSIM_DECODE_MAX_WAITING',
    schema: int(0),
    help: "disaggregated: bound of each decode replica's waiting queue for new requests; beyond it 429 (default NIMSIM_MAX_WAITING)",
  }),
  timeScale: setting({
    env: 'NIMSIM_TIME_SCALE',
    schema: num(0, 1e6).refine((v) => v === 0 || v >= MIN_TIME_SCALE, {
      message: `must be 0 or a number from ${MIN_TIME_SCALE} to 1000000`,
    }),
    default: '1',
    help: `1 = real time; 10 = ten times faster; 0 = no waiting at all; otherwise at least ${MIN_TIME_SCALE}`,
  }),
  jitter: setting({
    env: 'NIMSIM_JITTER',
    schema: num(0, 2),
    help: 'sigma of the lognormal step-time jitter (default 0.03 for serve, 0 for simulate)',
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
    help: "median reasoning length in tokens of a reasoning model's reply (gpt-oss: at reasoning_effort medium)",
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
    help: 'when set, /v1 inference routes need Authorization: Bearer <key>',
  }),
  adminToken: setting({
    env: 'NIMSIM_ADMIN_TOKEN',
    schema: str(),
    secret: true,
    help: 'when set, enables /admin/* behind Authorization: Bearer <token> (404 otherwise)',
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
      .pipe(z.array(z.enum(FAULT_TYPE_NAMES)).min(1, 'must name at least one fault type')),
    default: 'all',
    help: `fault types NIMSIM_FAULT_RATE draws from, comma-separated: all, or ${FAULT_TYPE_NAMES.join(', ')}`,
  }),
  faultDelayMs: setting({
    env: 'NIMSIM_FAULT_DELAY_MS',
    schema: int(0, MAX_INJECTED_DELAY_MS),
    default: '10000',
    help: `wall time of latency faults: the slow first token, the mid-stream stall, the hold before a timeout drops (at most ${MAX_INJECTED_DELAY_MS})`,
  }),
  faultHeaders: setting({
    env: 'NIMSIM_FAULT_HEADERS',
    schema: bool(),
    default: '1',
    help: 'honour the per-request x-nimsim-fault and x-nimsim-fault-delay-ms headers (1); 0 ignores them, so on a shared deployment no client can stall or drop requests on demand (NIMSIM_FAULT_RATE still applies)',
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
    help: 'error body shape: 2 = {"error":{...}} (NIM 2.x), 1 = flat {"object":"error",...} (NIM 1.x)',
  }),
  perReqMetricsEnable: setting({
    env: 'NIM_PER_REQ_METRICS_ENABLE',
    schema: bool(),
    default: '0',
    help: "NIM's per-request metrics: chat and completion responses carry a `stats` object (token counts, queue time, TTFT, inter-token time, tokens/s)",
  }),
  responsesStoreSize: setting({
    env: 'NIMSIM_RESPONSES_STORE_SIZE',
    schema: int(0, 1_000_000),
    default: '1000',
    help: 'responses kept in memory for previous_response_id, least recently used out (0 = none kept); all of them together hold at most 128 Mi characters of JSON',
  }),
  maxBodyBytes: setting({
    env: 'NIMSIM_MAX_BODY_BYTES',
    // A body is held whole and decoded to one string: 256 MiB stays far below V8's longest
    // string (~512 MiB, beyond which decoding fails) and within a small pod's memory.
    schema: int(1024, 256 * 1024 * 1024),
    default: String(16 * 1024 * 1024),
    help: 'largest request body accepted; larger gets 413 and the connection closes, the rest unread',
  }),
  streamBufferBytes: setting({
    env: 'NIMSIM_STREAM_BUFFER_BYTES',
    schema: int(16 * 1024, 1024 * 1024 * 1024),
    default: String(1024 * 1024),
    help: 'most bytes of one event stream held for a client that does not read; beyond it the stream is aborted (its slot and KV blocks freed) and the connection closed',
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
    help: 'time allowed to receive a whole request (head and body); slower clients get 408',
  }),
  logLevel: setting({
    env: 'NIM_LOG_LEVEL',
    schema: z
      .string()
      .trim()
      .toUpperCase()
      .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'])),
    default: 'INFO',
    help: 'DEBUG, INFO, WARNING, ERROR, CRITICAL',
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
    help: "publish vLLM's KV cache events (BlockStored, BlockRemoved, AllBlocksCleared) on this ZeroMQ PUB endpoint: tcp://*:PORT binds, tcp://HOST:PORT connects to a collector (off when unset)",
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
    help: "ZeroMQ ROUTER endpoint (bound) answering replay requests for the last 10000 KV-event batches, as vLLM's replay_endpoint",
  }),
  kvEventsFormat: setting({
    env: 'NIMSIM_KV_EVENTS_FORMAT',
    schema: oneOf(KV_EVENT_FORMATS),
    default: 'array',
    help: "msgpack encoding of the events: array (msgspec array_like tagged arrays, what vLLM's KV-event routers decode) or map (tagged maps, as newer vLLM releases publish)",
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
