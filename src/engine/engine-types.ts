/**
 * The engine's interface: what it is built from (EngineOptions), what a request may ask of it
 * (SubmitOptions), what it reports (FinishedRequest, StepRecord) and who listens (EngineObserver).
 * engine.ts implements it; importers may take these from either file.
 */
import type { Clock } from './clock.js';
import type { KvEventBatch } from './kv-events.js';
import type { CachedBlockKeys, KvCacheManager, KvCacheOptions } from './kv-cache/kv-cache-manager.js';
import type { PerfModel, StepWork } from './perf-model.js';
import type { CapacityPolicy } from './scheduler.js';
import type { EventListener } from './sequence.js';
import type {
  EngineRequest,
  EngineStats,
  FinishReason,
  RequestTimings,
  RequestUsage,
  SharedPrefixStats,
} from './types.js';

export interface FinishedRequest {
  readonly request: EngineRequest;
  readonly reason: FinishReason;
  readonly usage: RequestUsage;
  readonly timings: RequestTimings;
  readonly preemptions: number;
}

export interface StepRecord {
  readonly startMs: number;
  readonly durationMs: number;
  readonly work: StepWork;
  /** Real time the step ended after its ideal end, in simulated ms (0 on a virtual clock). */
  readonly lagMs: number;
  readonly preemptions: number;
  /** Fraction 0–1 of GPU KV blocks in use once the step completed (its finished requests' freed). */
  readonly kvUsage: number;
}

/** Receives engine events for metrics; the engine never calls a metrics library itself. */
export interface EngineObserver {
  onStep?(step: StepRecord): void;
  /**
   * A token was delivered: `sinceLastMs` is the time since the previous token (inter-token latency),
   * or since arrival for the first one (time to first token).
   */
  onToken?(request: EngineRequest, sinceLastMs: number, first: boolean): void;
  /**
   * False when `onToken` has no one listening right now: sequences without token events may then
   * decode lazily (lazy-decode.ts). Absent: `onToken` counts as listening when it is defined.
   */
  observesTokens?(): boolean;
  onFinished?(done: FinishedRequest): void;
  /**
   * The KV cache's block events of one step (kv-events.ts), when there were any. The cache builds
   * them only while `observesKvEvents()` is true, so nobody pays for events no one reads.
   */
  onKvEvents?(batch: KvEventBatch): void;
  observesKvEvents?(): boolean;
  /**
   * False when no KV-event listener needs the blocks' token ids (a router's prefix index keys on
   * the hashes alone): BlockStored then carries none, and the cache copies no tokens. Absent: the
   * tokens are wanted (the ZMQ publisher sends them, as vLLM does).
   */
  observesKvEventTokens?(): boolean;
  /**
   * True when every listener reads only the events' keys: `onKvEvents` may then get them as a flat
   * log (KvEventBatch.log, kv-event-log.ts) instead of event objects. Absent: false.
   */
  observesKvEventLog?(): boolean;
}

/**
 * The engine's settings and its KV cache: given as settings (the engine builds and owns its cache,
 * and only its facade shows it), or as a cache built by the caller (tests that inspect its blocks).
 */
export type EngineOptions = EngineSettings &
  (
    | { readonly kvCache: KvCacheOptions; readonly kv?: never }
    | { readonly kv: KvCacheManager; readonly kvCache?: never }
  );

export interface EngineSettings {
  readonly clock: Clock;
  readonly perf: PerfModel;
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  /** Admission policy (scheduler.ts); default vLLM's. */
  readonly capacityPolicy?: CapacityPolicy | undefined;
  /**
   * LoRA enabled: most distinct adapters one batch mixes (vLLM --max-loras; lora-slots.ts), and
   * stats() reports the adapters in use. Absent: LoRA disabled.
   */
  readonly maxLoras?: number | undefined;
  /** Bound of the waiting queue; a submit beyond it is refused with `queue_full`. */
  readonly maxWaiting: number;
  /**
   * The link remote KV blocks arrive over (a disaggregated decode replica): each block occupies it
   * `msPerBlock`, one transfer after another, and lands `latencyMs` after its last byte left.
   * Absent: a remote transfer takes no time.
   */
  readonly kvTransfer?: KvTransferLink | undefined;
  /** Multiplies each step's duration (mean 1); `() => 1` for none. */
  readonly jitter: () => number;
  readonly observer?: EngineObserver;
}

export interface SubmitOptions {
  /** Deliver a `tokens` event per token (default). `simulate` only needs `finished`, and skips them. */
  readonly tokenEvents?: boolean;
  /**
   * Queue it even when the waiting queue is at its bound: the second leg of a request already
   * accepted (a disaggregated decode after its remote prefill), which a server cannot refuse.
   */
  readonly pastWaitingBound?: boolean;
  /**
   * The prompt's block keys, as EngineRequest.promptBlockKeys (which they take the place of), given
   * beside the request: a fleet that adds them need not copy the request (a copied request object
   * made every engine access to it slower).
   */
  readonly blockKeys?: readonly number[] | undefined;
}

/** See EngineSettings.kvTransfer. */
export interface KvTransferLink {
  readonly msPerBlock: number;
  readonly latencyMs: number;
}

export interface Engine {
  /**
   * Queues a request. `listener` receives its events synchronously, ending with `finished`.
   * Throws EngineError `queue_full` or `draining`. Calling the returned function (or aborting
   * `signal`) ends the request with `abort` and frees its slot and blocks at once; later calls
   * do nothing.
   */
  submit(
    req: EngineRequest,
    listener: EventListener,
    signal?: AbortSignal,
    options?: SubmitOptions,
  ): () => void;
  /** The scheduler's and the KV cache's state: a new plain object, O(1) to take. */
  stats(): EngineStats;
  /**
   * How many more requests `submit` would queue now before refusing with `queue_full` (the bound
   * minus the requests waiting), so a caller can refuse a many-choice request before planning it.
   */
  waitingRoom(): number;
  /**
   * Drops every cached block no request holds, in every tier, and the shared-prefix table; blocks
   * in use keep their keys, and the counters stay. (vLLM's reset_prefix_cache refuses while any
   * block is in use; here running requests are left alone.)
   */
  resetPrefixCache(): void;
  /** The `n` most hit shared prefixes, most hits first. */
  topPrefixes(n: number): readonly SharedPrefixStats[];
  /**
   * The keys of every cached block, per tier (a key two GPU blocks hold appears twice; `disk` only
   * with a disk tier): what a subscriber to the KV events should hold. O(total blocks): for tests
   * and debugging only.
   */
  cachedBlockKeys(): CachedBlockKeys;
  /** Stops admitting; resolves when running and waiting requests are done, aborting the rest after `timeoutMs` (wall). */
  drain(timeoutMs: number): Promise<void>;
}
