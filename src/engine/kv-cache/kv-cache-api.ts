/**
 * The KV cache's face: what the scheduler and the engine call (KvCacheManager) and what it answers
 * (admissions, prefix matches, statistics, block keys). The implementation is kv-cache-manager.ts;
 * the tiers below the GPU are offload-tiers.ts.
 */
import type { KvEvent } from '../kv-events.js';
import type { EvictionPolicyName } from './eviction-policy.js';
import type { KvEventLog } from '../kv-event-log.js';
import type { SharedPrefix } from './prefix-stats.js';

export interface KvCacheOptions {
  /** Tokens per block (NIMSIM_KV_BLOCK_SIZE). */
  blockSize: number;
  /** GPU tier capacity in blocks. */
  gpuBlocks: number;
  /** Host tier capacity in blocks (0 = no host tier). */
  hostBlocks: number;
  /** Local-disk tier capacity in blocks, below the host tier (absent or 0 = no disk tier). */
  diskBlocks?: number;
  eviction: EvictionPolicyName;
  /** NIM_ENABLE_KV_CACHE_REUSE: when false nothing is hashed or matched; blocks still count. */
  enableReuse: boolean;
  /** Mixed into the first block's key (the model name). */
  modelKey: string;
}

/** A cached prefix: `gpuTokens` on the GPU, then `hostTokens` more in the host tier, then `diskTokens` on disk. */
export interface PrefixMatch {
  gpuTokens: number;
  hostTokens: number;
  diskTokens: number;
}

/** What an admission found cached: all tiers (`cachedTokens`), and of them the host and disk parts. */
export interface Admission {
  cachedTokens: number;
  hostTokens: number;
  diskTokens: number;
}

export interface KvCacheStats {
  /** In blocks. `inUse` + `reusable` + `free` = `total`; `cached` counts keyed blocks, in use or not. */
  gpu: { total: number; inUse: number; reusable: number; free: number; cached: number };
  /** In blocks. */
  host: { total: number; used: number };
  /** In blocks. */
  disk: { total: number; used: number };
  /**
   * Prompt tokens looked up by successful admissions of new requests (vLLM prefix_cache_queries).
   * A preempted request re-admitted finds its own blocks again: vLLM counts those lookups apart
   * (PrefixCacheStats.preempted_*, vllm/v1/metrics/stats.py) so they do not inflate the hit rate.
   */
  queryTokens: number;
  /** Of those, tokens found in the cache, every tier (vLLM prefix_cache_hits). */
  hitTokens: number;
  /** Of the hits, tokens found in the host tier. */
  hostHitTokens: number;
  /** Of the hits, tokens found in the disk tier. */
  diskHitTokens: number;
  /** Tokens looked up by re-admissions of preempted requests (vLLM preempted_queries). */
  preemptedQueryTokens: number;
  /** Of those, tokens found in the cache, every tier (vLLM preempted_hits). */
  preemptedHitTokens: number;
  /** GPU blocks evicted to make room (their keys go to the host tier, else the disk, when there is one). */
  evictions: number;
  /** Host blocks evicted to make room (their keys go to the disk tier when there is one). */
  hostEvictions: number;
  diskEvictions: number;
}

/** A snapshot of every block, O(total blocks): for tests and debugging only. */
export interface KvCacheInspection {
  refCounts: readonly number[];
  /** Each block's key, or -1. */
  hashes: readonly number[];
  /** Block table of each live sequence. */
  sequences: ReadonlyMap<number, readonly number[]>;
}

/** How an admission looks the prefix up and is counted (vLLM's KVCacheManager.get_computed_blocks). */
export interface AdmitOptions {
  /** A preempted request coming back: its lookup is counted apart (preempted_queries / hits). */
  readonly preempted?: boolean;
  /**
   * Skip the lookup: nothing is found and nothing is counted, as vLLM does for a request that
   * needs prompt logprobs (every prompt token's logits must be computed). Its blocks are still
   * keyed as they fill, for later requests.
   */
  readonly skipLookup?: boolean;
  /**
   * The prompt's block keys, when the request carries them (EngineRequest.promptBlockKeys): the
   * lookup takes them for the blocks they cover instead of hashing those tokens again.
   */
  readonly blockKeys?: readonly number[] | undefined;
  /**
   * The LoRA adapter the sequence runs with: its BlockStored events name it. (Its blocks' keys are
   * told apart by the partition passed as `cacheSalt`, block-hash.ts `cachePartition`.)
   */
  readonly lora?: { readonly id: number; readonly name: string } | undefined;
}

export interface KvCacheManager {
  readonly blockSize: number;
  readonly gpuBlocksTotal: number;
  /**
   * Longest cached run of full blocks at the start of tokenIds (GPU tier, then host tier, then
   * disk tier continuing the chain), capped so at least one token is left to compute:
   * at most floor((len-1)/blockSize) × blockSize tokens. Pure: no pinning, no counters.
   */
  peekPrefix(tokenIds: readonly number[], cacheSalt?: string): PrefixMatch;
  /**
   * Admits a sequence: pins its cached prefix blocks (host and disk hits are copied into new GPU
   * blocks) and allocates GPU blocks so it holds max(numTokens, cached) tokens. Returns null and
   * changes nothing when free + evictable blocks are not enough. On success counts one query of
   * tokenIds.length tokens and the hit tokens (see AdmitOptions), and returns them:
   * `cachedTokens` is every tier's hits, `hostTokens` and `diskTokens` the parts the GPU must load.
   * Throws if seqId is already admitted.
   */
  admit(
    seqId: number,
    tokenIds: readonly number[],
    numTokens: number,
    cacheSalt?: string,
    options?: AdmitOptions,
  ): Admission | null;
  /**
   * `admit` for a scheduler with a token budget: allocates for the cached prefix plus at most
   * `budgetTokens` of the tokens after it, so the prefix is matched once (not peeked, then matched
   * again by `admit`). It admits only when blocks for all of `tokenIds` are available, not just for
   * this chunk, as vLLM's scheduler does by default (`scheduler_reserve_full_isl`, passed to
   * `allocate_slots` as `full_sequence_must_fit`): a long prompt is not admitted to be preempted
   * halfway through its prefill.
   */
  admitChunk(
    seqId: number,
    tokenIds: readonly number[],
    budgetTokens: number,
    cacheSalt?: string,
    options?: AdmitOptions,
  ): Admission | null;
  /** Grows an admitted sequence to hold numTokens tokens; false (nothing changed) when blocks are short. */
  grow(seqId: number, numTokens: number): boolean;
  /**
   * Keys the sequence's full blocks among its first `numTokens` tokens: each newly full block gets
   * its key and becomes shareable (and reusable after free). The scheduler calls it when it plans
   * a step, with the tokens computed so far plus the ones this step computes, as vLLM's
   * `allocate_slots` calls `cache_blocks` (vllm/v1/core/kv_cache_manager.py): a block is keyed
   * before its KV is computed, so a request admitted later in the same step already hits it (the
   * step writes every token's KV before any attention reads it). The tokens are `tokenIds` (the
   * prompt) followed by `moreTokenIds` (the generated tokens). A block whose key another block
   * already holds is cached too (vLLM does not de-duplicate); a lookup finds the older one.
   */
  cacheBlocks(
    seqId: number,
    tokenIds: readonly number[],
    numTokens: number,
    moreTokenIds?: readonly number[],
  ): void;
  /**
   * Releases a sequence (finish, abort, preemption), last block first: keyed blocks left unused
   * become reusable, so a request's last block is evicted before its first; others become free.
   * Unknown ids are ignored.
   */
  free(seqId: number): void;
  /** Drops every reusable block in every tier; blocks in use stay (with their keys). Counters stay. */
  reset(): void;
  /** Free + evictable GPU blocks: what admission and growth may take. */
  availableBlocks(): number;
  /** Fraction 0–1 of GPU blocks pinned by sequences. */
  usage(): number;
  stats(): KvCacheStats;
  /** The most hit shared prefixes (see prefix-stats.ts), most hits first. */
  topPrefixes(limit: number): readonly SharedPrefix[];
  /** O(total blocks): a full snapshot for tests. */
  inspect(): KvCacheInspection;
  /**
   * Where the cache appends its KV events (kv-events.ts) from now on, in the order the changes
   * happen; null (the default) builds none, so a cache nobody listens to pays nothing for them.
   * A KvEventLog takes only their keys (kv-event-log.ts), for listeners that read nothing else.
   */
  setEventSink(sink: KvEvent[] | KvEventLog | null, withTokens?: boolean): void;
  /**
   * The keys a subscriber to the KV events should hold: one per keyed GPU block (a key two blocks
   * hold appears twice), one per host block and, with a disk tier, one per disk block. O(total
   * blocks): for tests and debugging only.
   */
  cachedBlockKeys(): CachedBlockKeys;
}

/** Block keys per tier (kv-events.ts medium GPU, CPU, DISK); `disk` only when there is a disk tier. */
export interface CachedBlockKeys {
  gpu: number[];
  host: number[];
  disk?: number[];
}
