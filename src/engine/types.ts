/**
 * The engine's vocabulary: what goes in (an EngineRequest), what comes out (EngineEvents) and the
 * snapshot it offers to metrics and /admin (EngineStats). Times are simulated milliseconds on the
 * engine's clock; token counts are tokens of the simulated model's tokenizer.
 */

/** Why a sequence stopped: vLLM's finish reasons. `abort` covers client disconnects and drains. */
export type FinishReason = 'stop' | 'length' | 'abort';

/**
 * The LoRA adapter a request runs with (vLLM's `LoRARequest`): the base model's weights plus the
 * adapter's low-rank matrices, in KV blocks of its own (docs/lora.md).
 */
export interface EngineLora {
  /**
   * The adapter's name, the model id clients send. Mixed into every KV block key, as vLLM puts
   * `lora_name` in each block's hash extra keys (`_gen_lora_extra_hash_keys`,
   * vllm/v1/core/kv_cache_utils.py): no prefix is shared across adapters or with the base model.
   */
  readonly name: string;
  /** vLLM's `lora_int_id` (> 0, unique per load): the `lora_id` of the adapter's BlockStored events. */
  readonly id: number;
  /**
   * Parameters of the adapter over every layer it adapts: rank × Σ (d_in + d_out) of its target
   * modules. Each token computes 2 × this many FLOPs more; each step reads every distinct
   * adapter's weights once (roofline.ts).
   */
  readonly params: number;
}

export interface EngineRequest {
  /** Unique id (the API's `chatcmpl-…` id). */
  readonly id: string;
  /** Token ids of the full prompt, chat template applied. */
  readonly promptTokenIds: readonly number[];
  /**
   * The planned output: which tokens the sequence will generate, in order. The content layer
   * decides *which* tokens; the engine decides *when* they appear. The engine emits exactly these
   * ids unless the request is aborted or preempted-and-aborted.
   */
  readonly outputTokenIds: readonly number[];
  /** Reported when the plan is exhausted: `stop` (EOS or stop string) or `length` (max_tokens). */
  readonly finishReason: 'stop' | 'length';
  /** Mixed into the first KV block's hash (vLLM `cache_salt`): tenants do not share blocks. */
  readonly cacheSalt?: string | undefined;
  /**
   * Do not look the prompt up in the prefix cache (vLLM `skip_reading_prefix_cache`, set when
   * prompt logprobs are requested: every prompt token must be computed). Its blocks are still
   * cached as they fill.
   */
  readonly skipPrefixCacheLookup?: boolean | undefined;
  /**
   * The prompt's block keys (as prompt-blocks.ts chains them under the model and `cacheSalt`), when
   * the submitter already computed them — a fleet's router does: the KV cache looks the prefix up
   * with them instead of hashing the prompt again, as vLLM's Request carries its `block_hashes`.
   */
  readonly promptBlockKeys?: readonly number[] | undefined;
  /**
   * Disaggregated decode: the prompt's first tokens whose KV a prefill replica computed and sends
   * over the KV-transfer link (a multiple of the block size: only full blocks move, as vLLM's
   * NixlConnector sends them). At its first admission the request allocates blocks for them, looks
   * its own prefix cache up first (only the blocks it lacks move) and waits for the transfer before
   * it runs (vLLM's WAITING_FOR_REMOTE_KVS); then it computes only the rest of the prompt. A
   * preempted request recomputes everything, as vLLM does. Absent or 0: an ordinary request.
   */
  readonly remotePrefillTokens?: number | undefined;
  /** Routing/session identity (`prompt_cache_key` or `user`), recorded for multi-replica routing. */
  readonly sessionKey?: string | undefined;
  /** Served model name, carried to events for per-model metrics. */
  readonly modelName: string;
  /** The LoRA adapter the request runs with; absent: the base model. */
  readonly lora?: EngineLora | undefined;
}

/** Timings of a finished request, all in simulated ms since the engine clock's origin. */
export interface RequestTimings {
  readonly arrivalMs: number;
  /** First time the scheduler admitted the request (end of queueing). */
  readonly scheduledMs: number;
  /** When the first output token was delivered. */
  readonly firstTokenMs: number;
  readonly finishedMs: number;
}

export interface RequestUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Prompt tokens served from the prefix cache (any tier) at the final admission. */
  readonly cachedTokens: number;
  /**
   * Of `cachedTokens`, those loaded from the host and the disk tier (the rest were on the GPU);
   * present only when the cache has a tier below the GPU.
   */
  readonly cachedTokensByTier?: { readonly host: number; readonly disk: number };
}

export type EngineEvent =
  /** The engine gave up on the request (e.g. it can never fit the KV cache); `finished` follows. */
  | { readonly type: 'failed'; readonly error: Error }
  | {
      readonly type: 'scheduled';
      readonly atMs: number;
      readonly cachedTokens: number;
      /**
       * A request with `remotePrefillTokens`: the KV blocks it pulls over the link (those its own
       * cache lacked) and when they have all arrived (ms on the engine's clock).
       */
      readonly kvTransfer?: { readonly blocks: number; readonly doneMs: number } | undefined;
    }
  | { readonly type: 'tokens'; readonly ids: readonly number[]; readonly atMs: number }
  | {
      readonly type: 'finished';
      readonly request: EngineRequest;
      readonly reason: FinishReason;
      readonly usage: RequestUsage;
      readonly timings: RequestTimings;
      readonly preemptions: number;
    };

/**
 * The KV cache and its prefix-cache counters, as the engine's snapshot carries them. The counters
 * are running totals since the engine started (a prefix-cache reset keeps them).
 */
export interface KvCacheSnapshot {
  /** Tokens per block. */
  readonly blockSize: number;
  /** In blocks. `inUse` + `reusable` + `free` = `total`; `cached` counts keyed blocks, in use or not. */
  readonly gpu: {
    readonly total: number;
    readonly inUse: number;
    readonly reusable: number;
    readonly free: number;
    readonly cached: number;
  };
  /** Host (CPU) tier, in blocks (`total` 0: no host tier). */
  readonly host: { readonly total: number; readonly used: number };
  /** Local-disk tier below the host tier, in blocks (`total` 0: no disk tier). */
  readonly disk: { readonly total: number; readonly used: number };
  /** Prompt tokens looked up by admissions of new requests (vLLM prefix_cache_queries). */
  readonly queryTokens: number;
  /** Of those, tokens found in the cache, every tier (vLLM prefix_cache_hits). */
  readonly hitTokens: number;
  /** Of the hits, tokens found in the host tier. */
  readonly hostHitTokens: number;
  /** Of the hits, tokens found in the disk tier. */
  readonly diskHitTokens: number;
  /**
   * Tokens looked up by re-admissions of preempted requests, counted apart as vLLM does
   * (PrefixCacheStats.preempted_queries, vllm/v1/metrics/stats.py): they find their own blocks.
   */
  readonly preemptedQueryTokens: number;
  /** Of those, tokens found in the cache (vLLM preempted_hits). */
  readonly preemptedHitTokens: number;
  /** Reusable GPU blocks evicted to make room. */
  readonly evictions: number;
  /** Host-tier blocks evicted to make room (to the disk tier when there is one). */
  readonly hostEvictions: number;
  /** Disk-tier blocks evicted to make room. */
  readonly diskEvictions: number;
}

/** One of the most shared cached prefixes: grouped by its first block, `tokens` = `blocks` × block size. */
export interface SharedPrefixStats {
  /** The longest run of blocks one hit reused. */
  readonly blocks: number;
  readonly tokens: number;
  /** Admissions that hit it (bounded table: may be overstated, see kv-cache/prefix-stats.ts). */
  readonly hits: number;
  /** The prefix's first tokens (at most one block, at most 16), to recognise it. */
  readonly firstTokenIds: readonly number[];
}

/**
 * A snapshot read at scrape time by metrics, /admin and reports: plain data, O(1) to take, so a
 * router in front of several engines can read each one's often.
 */
export interface EngineStats {
  readonly running: number;
  readonly waiting: number;
  readonly maxNumSeqs: number;
  readonly kvBlocksTotal: number;
  readonly kvBlocksInUse: number;
  /** Fraction 0–1 of GPU KV blocks in use (pinned by running sequences). */
  readonly kvUsage: number;
  /** How far the real clock runs behind the simulated schedule, in ms (0 on a virtual clock). */
  readonly stepLagMs: number;
  readonly steps: number;
  readonly kvCache: KvCacheSnapshot;
  /** With LoRA enabled (EngineSettings.maxLoras): the adapters of running and waiting requests. */
  readonly loraAdapters?: LoraAdapterStats | undefined;
}

/**
 * The adapters in use, as vLLM's `vllm:lora_requests_info` reports them (`running_lora_adapters`,
 * `waiting_lora_adapters`, `max_lora`; vllm/v1/metrics/loggers.py): each name once, in the order
 * its first request arrived among those still there.
 */
export interface LoraAdapterStats {
  /** Most distinct adapters one batch may mix (vLLM --max-loras, NIM_MAX_GPU_LORAS). */
  readonly maxLoras: number;
  readonly running: readonly string[];
  readonly waiting: readonly string[];
}
