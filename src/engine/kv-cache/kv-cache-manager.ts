/**
 * The block-level prefix KV cache, called by the scheduler the way vLLM v1's scheduler calls its
 * KVCacheManager: admission looks up the cached prefix and allocates slots, decoding grows the
 * allocation, the tokens a planned step fills a block with make it shareable, and
 * finish/abort/preemption frees.
 *
 * Blocks hold `blockSize` tokens. A full block's key chains its parent's key and its token ids
 * (the first block's parent mixes the model and `cache_salt`), so only a block whose whole
 * prefix matches can hit. Generated tokens join the cache as their blocks fill, so turn n+1 of a
 * conversation reuses turn n's prompt and answer. Every call costs O(blocks it touches).
 */
import type { KvEvent } from '../kv-events.js';
import { hashBlockTokens, NO_HASH, prefixSeed } from './block-hash.js';
import { createBlockPool } from './block-pool.js';
import type { EvictionPolicyName } from './eviction-policy.js';
import { createEvictionPolicy } from './eviction-policy.js';
import { createHostTier } from './host-tier.js';
import { blockRemoved, gpuBlocksStored, hostBlockStored } from './kv-event-builders.js';
import type { SharedPrefix } from './prefix-stats.js';
import { createPrefixStats } from './prefix-stats.js';

export type { EvictionPolicyName } from './eviction-policy.js';
export { EVICTION_POLICY_NAMES } from './eviction-policy.js';
export type { SharedPrefix } from './prefix-stats.js';

export interface KvCacheOptions {
  /** Tokens per block (NIMSIM_KV_BLOCK_SIZE). */
  blockSize: number;
  /** GPU tier capacity in blocks. */
  gpuBlocks: number;
  /** Host tier capacity in blocks (0 = no host tier). */
  hostBlocks: number;
  eviction: EvictionPolicyName;
  /** NIM_ENABLE_KV_CACHE_REUSE: when false nothing is hashed or matched; blocks still count. */
  enableReuse: boolean;
  /** Mixed into the first block's key (the model name). */
  modelKey: string;
}

/** A cached prefix: `gpuTokens` on the GPU, then `hostTokens` more in the host tier. */
export interface PrefixMatch {
  gpuTokens: number;
  hostTokens: number;
}

export interface KvCacheStats {
  /** In blocks. `inUse` + `reusable` + `free` = `total`; `cached` counts keyed blocks, in use or not. */
  gpu: { total: number; inUse: number; reusable: number; free: number; cached: number };
  /** In blocks. */
  host: { total: number; used: number };
  /**
   * Prompt tokens looked up by successful admissions of new requests (vLLM prefix_cache_queries).
   * A preempted request re-admitted finds its own blocks again: vLLM counts those lookups apart
   * (PrefixCacheStats.preempted_*, vllm/v1/metrics/stats.py) so they do not inflate the hit rate.
   */
  queryTokens: number;
  /** Of those, tokens found in the cache, GPU and host tiers (vLLM prefix_cache_hits). */
  hitTokens: number;
  /** Of the hits, tokens found in the host tier. */
  hostHitTokens: number;
  /** Tokens looked up by re-admissions of preempted requests (vLLM preempted_queries). */
  preemptedQueryTokens: number;
  /** Of those, tokens found in the cache, both tiers (vLLM preempted_hits). */
  preemptedHitTokens: number;
  /** GPU blocks evicted to make room (their keys go to the host tier when there is one). */
  evictions: number;
  hostEvictions: number;
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
}

export interface KvCacheManager {
  readonly blockSize: number;
  readonly gpuBlocksTotal: number;
  /**
   * Longest cached run of full blocks at the start of tokenIds (GPU tier, then host tier
   * continuing the chain), capped so at least one token is left to compute:
   * at most floor((len-1)/blockSize) × blockSize tokens. Pure: no pinning, no counters.
   */
  peekPrefix(tokenIds: readonly number[], cacheSalt?: string): PrefixMatch;
  /**
   * Admits a sequence: pins its cached prefix blocks (host hits are copied into new GPU blocks)
   * and allocates GPU blocks so it holds max(numTokens, cached) tokens. Returns null and changes
   * nothing when free + evictable blocks are not enough. On success counts one query of
   * tokenIds.length tokens and the hit tokens (see AdmitOptions), and returns them:
   * `cachedTokens` is GPU + host hits, `hostTokens` the host part. Throws if seqId is already
   * admitted.
   */
  admit(
    seqId: number,
    tokenIds: readonly number[],
    numTokens: number,
    cacheSalt?: string,
    options?: AdmitOptions,
  ): { cachedTokens: number; hostTokens: number } | null;
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
  ): { cachedTokens: number; hostTokens: number } | null;
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
  /** Drops every reusable block in both tiers; blocks in use stay (with their keys). Counters stay. */
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
   */
  setEventSink(sink: KvEvent[] | null, withTokens?: boolean): void;
  /**
   * The keys a subscriber to the KV events should hold: one per keyed GPU block (a key two blocks
   * hold appears twice) and one per host block. O(total blocks): for tests and debugging only.
   */
  cachedBlockKeys(): { gpu: number[]; host: number[] };
}

interface SeqState {
  readonly blocks: number[];
  /** Blocks at the start of `blocks` whose keys are known (all cached). */
  numHashed: number;
  /** Key of block numHashed-1, or the seed. */
  lastHash: number;
}

interface Match {
  gpu: number[];
  host: number[];
  rootHash: number;
  lastHash: number;
}

const TOP_PREFIX_CAPACITY = 64;
const NO_TOKENS: readonly number[] = [];

/** A cache of `gpuBlocks` blocks, all free. Throws on a non-positive block size or capacity. */
export function createKvCacheManager(opts: KvCacheOptions): KvCacheManager {
  const { blockSize, gpuBlocks, enableReuse } = opts;
  if (!Number.isInteger(blockSize) || blockSize < 1)
    throw new Error(`KV block size must be ≥ 1, got ${blockSize}`);
  if (!Number.isInteger(gpuBlocks) || gpuBlocks < 1)
    throw new Error(`KV GPU blocks must be ≥ 1, got ${gpuBlocks}`);
  /** Where KV events go while someone listens (setEventSink); null: none are built. */
  let sink: KvEvent[] | null = null;
  /** Whether BlockStored events carry the blocks' token ids (setEventSink). */
  let sinkTokens = true;
  const host = createHostTier(enableReuse ? Math.max(0, opts.hostBlocks) : 0, (hash) =>
    sink?.push(blockRemoved(hash, 'CPU')),
  );
  const hostOn = host.capacityBlocks > 0;
  const policy = createEvictionPolicy(opts.eviction, gpuBlocks);
  const pool = createBlockPool({
    numBlocks: gpuBlocks,
    policy,
    // vLLM's BlockPool._maybe_evict_cached_block: one BlockRemoved per evicted block; the host
    // tier then stores the block (the CPU offloading connector's BlockStored, medium CPU).
    onEvict: (hash) => {
      if (sink) {
        sink.push(blockRemoved(hash, 'GPU'));
        if (!hostOn) return;
        // A key the host already holds (it was copied back from there) is only refreshed.
        const isNew = !host.has(hash);
        host.store(hash);
        if (isNew) sink.push(hostBlockStored(hash));
      } else if (hostOn) {
        host.store(hash);
      }
    },
  });
  const prefixes = createPrefixStats(TOP_PREFIX_CAPACITY, blockSize);
  const seqs = new Map<number, SeqState>();
  const modelSeed = prefixSeed(opts.modelKey);
  let queryTokens = 0;
  let hitTokens = 0;
  let hostHitTokens = 0;
  let preemptedQueryTokens = 0;
  let preemptedHitTokens = 0;

  const seedFor = (salt: string | undefined) => (salt ? prefixSeed(opts.modelKey, salt) : modelSeed);
  /** The tokens of a block that spans cacheBlocks's two lists (reused: no array per call). */
  const straddle: number[] = new Array<number>(blockSize).fill(0);
  const blocksFor = (numTokens: number) => ((numTokens + blockSize - 1) / blockSize) | 0;

  function match(
    tokenIds: readonly number[],
    salt: string | undefined,
    skipLookup = false,
    known?: readonly number[],
  ): Match {
    const seed = seedFor(salt);
    const found: Match = { gpu: [], host: [], rootHash: NO_HASH, lastHash: seed };
    if (!enableReuse || skipLookup) return found;
    const maxBlocks = Math.floor((tokenIds.length - 1) / blockSize);
    // Keys the request carries (a fleet's router computed them): the same chain, hashed once.
    const knownBlocks = known ? Math.min(known.length, maxBlocks) : 0;
    let parent = seed;
    for (let i = 0; i < maxBlocks; i++) {
      const hash = i < knownBlocks ? known![i]! : hashBlockTokens(parent, tokenIds, i * blockSize, blockSize);
      const blockId = pool.lookup(hash);
      // The host run continues the GPU run; a GPU block after a host block ends the match.
      if (blockId >= 0 && found.host.length === 0) found.gpu.push(blockId);
      else if (blockId < 0 && host.has(hash)) found.host.push(hash);
      else break;
      if (i === 0) found.rootHash = hash;
      parent = hash;
    }
    found.lastHash = parent;
    return found;
  }

  function stateOf(seqId: number): SeqState {
    const seq = seqs.get(seqId);
    if (!seq) throw new Error(`KV cache: sequence ${seqId} is not admitted`);
    return seq;
  }

  /**
   * Pins the matched prefix and allocates for `numTokens` (see `admit`); null when the blocks for
   * `fitTokens` (≥ numTokens) are short.
   */
  function admitMatched(
    seqId: number,
    tokenIds: readonly number[],
    numTokens: number,
    m: Match,
    options: AdmitOptions | undefined,
    fitTokens = numTokens,
  ): { cachedTokens: number; hostTokens: number } | null {
    if (seqs.has(seqId)) throw new Error(`KV cache: sequence ${seqId} is already admitted`);
    const cachedBlocks = m.gpu.length + m.host.length;
    const newBlocks = Math.max(blocksFor(numTokens), cachedBlocks) - m.gpu.length;
    // Pinning a reusable hit takes it out of the evictable pool.
    let reusableHits = 0;
    for (const blockId of m.gpu) if (pool.refCount(blockId) === 0) reusableHits++;
    const mustFit = Math.max(blocksFor(fitTokens), cachedBlocks) - m.gpu.length;
    if (mustFit > pool.numFree() + pool.numReusable() - reusableHits) return null;

    for (const blockId of m.gpu) pool.touch(blockId);
    for (const hash of m.host) host.touch(hash);
    // The match is this admission's own: its GPU run becomes the block table (no copy).
    const gpuHits = m.gpu.length;
    const blocks = m.gpu;
    for (const hash of m.host) {
      const blockId = pool.allocate();
      pool.cache(blockId, hash);
      blocks.push(blockId);
    }
    // Host hits copied back are GPU blocks that got their keys: vLLM caches the loaded blocks with
    // cache_full_blocks, which publishes them as one GPU BlockStored after the GPU hits.
    if (sink && m.host.length > 0) {
      const parent = gpuHits > 0 ? pool.blockHash(blocks[gpuHits - 1]!) : null;
      const from = gpuHits * blockSize;
      const tokens = sinkTokens ? tokenIds.slice(from, from + m.host.length * blockSize) : NO_TOKENS;
      sink.push(gpuBlocksStored(m.host.slice(), parent, tokens, blockSize));
    }
    while (blocks.length < gpuHits + newBlocks) blocks.push(pool.allocate());
    seqs.set(seqId, { blocks, numHashed: cachedBlocks, lastHash: m.lastHash });

    const cachedTokens = cachedBlocks * blockSize;
    const hostTokens = m.host.length * blockSize;
    // No lookup, nothing counted: vLLM's get_computed_blocks returns before recording the stats
    // when caching is off or the request skips reading the cache.
    if (!enableReuse || options?.skipLookup) return { cachedTokens, hostTokens };
    if (options?.preempted) {
      preemptedQueryTokens += tokenIds.length;
      preemptedHitTokens += cachedTokens;
      return { cachedTokens, hostTokens };
    }
    queryTokens += tokenIds.length;
    hitTokens += cachedTokens;
    hostHitTokens += hostTokens;
    if (cachedBlocks > 0) prefixes.record(m.rootHash, cachedBlocks, tokenIds);
    return { cachedTokens, hostTokens };
  }

  return {
    blockSize,
    gpuBlocksTotal: gpuBlocks,

    peekPrefix(tokenIds, cacheSalt) {
      const m = match(tokenIds, cacheSalt);
      return { gpuTokens: m.gpu.length * blockSize, hostTokens: m.host.length * blockSize };
    },

    admit(seqId, tokenIds, numTokens, cacheSalt, options) {
      const m = match(tokenIds, cacheSalt, options?.skipLookup, options?.blockKeys);
      return admitMatched(seqId, tokenIds, numTokens, m, options);
    },

    admitChunk(seqId, tokenIds, budgetTokens, cacheSalt, options) {
      const m = match(tokenIds, cacheSalt, options?.skipLookup, options?.blockKeys);
      const cached = (m.gpu.length + m.host.length) * blockSize;
      const numTokens = cached + Math.min(tokenIds.length - cached, budgetTokens);
      return admitMatched(seqId, tokenIds, numTokens, m, options, tokenIds.length);
    },

    grow(seqId, numTokens) {
      const seq = stateOf(seqId);
      const needed = blocksFor(numTokens) - seq.blocks.length;
      if (needed <= 0) return true;
      if (needed > pool.numFree() + pool.numReusable()) return false;
      for (let i = 0; i < needed; i++) seq.blocks.push(pool.allocate());
      return true;
    },

    cacheBlocks(seqId, tokenIds, numTokens, moreTokenIds = NO_TOKENS) {
      const seq = stateOf(seqId);
      if (!enableReuse) return;
      const split = tokenIds.length;
      const fullBlocks = Math.min(
        Math.floor(Math.min(numTokens, split + moreTokenIds.length) / blockSize),
        seq.blocks.length,
      );
      const first = seq.numHashed;
      const parent = first === 0 ? null : seq.lastHash;
      for (let i = first; i < fullBlocks; i++) {
        const start = i * blockSize;
        let hash: number;
        if (start + blockSize <= split) {
          hash = hashBlockTokens(seq.lastHash, tokenIds, start, blockSize);
        } else if (start >= split) {
          hash = hashBlockTokens(seq.lastHash, moreTokenIds, start - split, blockSize);
        } else {
          // The block where the two lists meet (the prompt's last tokens, the first generated).
          for (let j = 0; j < blockSize; j++) {
            const k = start + j;
            straddle[j] = k < split ? tokenIds[k]! : moreTokenIds[k - split]!;
          }
          hash = hashBlockTokens(seq.lastHash, straddle, 0, blockSize);
        }
        pool.cache(seq.blocks[i]!, hash);
        seq.lastHash = hash;
      }
      if (fullBlocks > seq.numHashed) seq.numHashed = fullBlocks;
      // One BlockStored per call for the blocks it keyed, as vLLM's BlockPool.cache_full_blocks
      // does: parent None for a prefix's first block, the blocks' tokens (prompt, then output).
      if (sink && fullBlocks > first) {
        const hashes: number[] = [];
        for (let i = first; i < fullBlocks; i++) hashes.push(pool.blockHash(seq.blocks[i]!));
        const tokens = sinkTokens
          ? tokenSpan(tokenIds, moreTokenIds, first * blockSize, fullBlocks * blockSize)
          : NO_TOKENS;
        sink.push(gpuBlocksStored(hashes, parent, tokens, blockSize));
      }
    },

    free(seqId) {
      const seq = seqs.get(seqId);
      if (!seq) return;
      seqs.delete(seqId);
      pool.releaseLastFirst(seq.blocks);
    },

    reset() {
      if (!sink) {
        pool.dropReusable();
        host.clear();
        prefixes.clear();
        return;
      }
      const gpuDropped: number[] = [];
      pool.dropReusable((hash) => gpuDropped.push(hash));
      const hostDropped = host.keys();
      host.clear();
      prefixes.clear();
      // vLLM's reset_prefix_cache publishes AllBlocksCleared, but refuses while blocks are in use;
      // here blocks in use keep their keys, so only when none is left is "all cleared" true.
      if (pool.numCached() === 0) {
        sink.push({ type: 'AllBlocksCleared' });
        return;
      }
      if (gpuDropped.length > 0) sink.push({ type: 'BlockRemoved', blockHashes: gpuDropped, medium: 'GPU' });
      if (hostDropped.length > 0)
        sink.push({ type: 'BlockRemoved', blockHashes: hostDropped, medium: 'CPU' });
    },

    availableBlocks: () => pool.numFree() + pool.numReusable(),

    usage: () => (gpuBlocks - pool.numFree() - pool.numReusable()) / gpuBlocks,

    stats() {
      const free = pool.numFree();
      const reusable = pool.numReusable();
      return {
        gpu: {
          total: gpuBlocks,
          inUse: gpuBlocks - free - reusable,
          reusable,
          free,
          cached: pool.numCached(),
        },
        host: { total: host.capacityBlocks, used: host.size },
        queryTokens,
        hitTokens,
        hostHitTokens,
        preemptedQueryTokens,
        preemptedHitTokens,
        evictions: pool.evictions,
        hostEvictions: host.evictions,
      };
    },

    topPrefixes: (limit) => prefixes.top(limit),

    inspect() {
      const refCounts: number[] = [];
      const hashes: number[] = [];
      for (let i = 0; i < gpuBlocks; i++) {
        refCounts.push(pool.refCount(i));
        hashes.push(pool.blockHash(i));
      }
      const sequences = new Map<number, readonly number[]>();
      for (const [seqId, seq] of seqs) sequences.set(seqId, seq.blocks.slice());
      return { refCounts, hashes, sequences };
    },

    setEventSink(next, withTokens = true) {
      sink = next;
      sinkTokens = withTokens;
    },

    cachedBlockKeys() {
      const gpu: number[] = [];
      for (let i = 0; i < gpuBlocks; i++) {
        const hash = pool.blockHash(i);
        if (hash !== NO_HASH) gpu.push(hash);
      }
      return { gpu, host: host.keys() };
    },
  };
}

/** Tokens [from, to) of `first` followed by `second` (a prompt, then the generated tokens). */
function tokenSpan(first: readonly number[], second: readonly number[], from: number, to: number): number[] {
  const split = first.length;
  if (to <= split) return first.slice(from, to);
  if (from >= split) return second.slice(from - split, to - split);
  return [...first.slice(from), ...second.slice(0, to - split)];
}
