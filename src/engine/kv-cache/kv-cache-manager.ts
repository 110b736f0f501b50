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
import { createEvictionPolicy } from './eviction-policy.js';
import { blockRemoved, gpuBlocksStored } from './kv-event-builders.js';
import {
  ALL_CLEARED,
  KvEventLog,
  REMOVED_CPU,
  REMOVED_DISK,
  REMOVED_GPU,
  STORED_GPU,
} from '../kv-event-log.js';
import { createOffloadTiers, IN_DISK, IN_HOST, NOT_FOUND } from './offload-tiers.js';
import { createPrefixStats } from './prefix-stats.js';
import type { Admission, AdmitOptions, KvCacheManager, KvCacheOptions } from './kv-cache-api.js';

export type { EvictionPolicyName } from './eviction-policy.js';
export { EVICTION_POLICY_NAMES } from './eviction-policy.js';
export type { SharedPrefix } from './prefix-stats.js';
export type {
  Admission,
  AdmitOptions,
  CachedBlockKeys,
  KvCacheInspection,
  KvCacheManager,
  KvCacheOptions,
  KvCacheStats,
  PrefixMatch,
} from './kv-cache-api.js';

interface SeqState {
  readonly blocks: number[];
  /** Blocks at the start of `blocks` whose keys are known (all cached). */
  numHashed: number;
  /** Key of block numHashed-1, or the seed. */
  lastHash: number;
  /** The LoRA adapter its BlockStored events name (AdmitOptions.lora). */
  readonly lora: AdmitOptions['lora'];
  /**
   * The prompt's block keys the request carried (AdmitOptions.blockKeys), or none: the blocks they
   * cover are keyed with them as they fill, not hashed again (a conversation's history was hashed
   * once, when its first turn was sent).
   */
  readonly keys: readonly number[];
}

interface Match {
  gpu: number[];
  host: number[];
  disk: number[];
  rootHash: number;
  lastHash: number;
}

const TOP_PREFIX_CAPACITY = 64;
const NO_TOKENS: readonly number[] = [];
const NO_KEYS: readonly number[] = [];

/** A cache of `gpuBlocks` blocks, all free. Throws on a non-positive block size or capacity. */
export function createKvCacheManager(opts: KvCacheOptions): KvCacheManager {
  const { blockSize, gpuBlocks, enableReuse } = opts;
  if (!Number.isInteger(blockSize) || blockSize < 1)
    throw new Error(`KV block size must be ≥ 1, got ${blockSize}`);
  if (!Number.isInteger(gpuBlocks) || gpuBlocks < 1)
    throw new Error(`KV GPU blocks must be ≥ 1, got ${gpuBlocks}`);
  /** Where KV events go while someone listens (setEventSink); null: none are built. */
  let sink: KvEvent[] | null = null;
  /** Or where their keys go, when the listeners take the flat log (kv-event-log.ts). */
  let log: KvEventLog | null = null;
  /** Whether BlockStored events carry the blocks' token ids (setEventSink). */
  let sinkTokens = true;
  const tiers = createOffloadTiers(
    enableReuse ? Math.max(0, opts.hostBlocks) : 0,
    enableReuse ? Math.max(0, opts.diskBlocks ?? 0) : 0,
  );
  const { host, disk } = tiers;
  const diskOn = disk.capacityBlocks > 0;
  const policy = createEvictionPolicy(opts.eviction, gpuBlocks);
  const pool = createBlockPool({
    numBlocks: gpuBlocks,
    policy,
    // vLLM's BlockPool._maybe_evict_cached_block: one BlockRemoved per evicted block; the tiers
    // below then store the block (the CPU offloading connector's BlockStored, medium CPU) and
    // cascade what they evict (offload-tiers.ts). A key a tier already holds is only refreshed.
    onEvict: (hash) => {
      sink?.push(blockRemoved(hash, 'GPU'));
      log?.push(REMOVED_GPU, hash);
      tiers.offload(hash);
    },
  });
  const prefixes = createPrefixStats(TOP_PREFIX_CAPACITY, blockSize);
  const seqs = new Map<number, SeqState>();
  const modelSeed = prefixSeed(opts.modelKey);
  let queryTokens = 0;
  let hitTokens = 0;
  let hostHitTokens = 0;
  let diskHitTokens = 0;
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
    const found: Match = { gpu: [], host: [], disk: [], rootHash: NO_HASH, lastHash: seed };
    if (!enableReuse || skipLookup) return found;
    const maxBlocks = Math.floor((tokenIds.length - 1) / blockSize);
    // Keys the request carries (a fleet's router computed them): the same chain, hashed once.
    const knownBlocks = known ? Math.min(known.length, maxBlocks) : 0;
    let parent = seed;
    for (let i = 0; i < maxBlocks; i++) {
      const hash = i < knownBlocks ? known![i]! : hashBlockTokens(parent, tokenIds, i * blockSize, blockSize);
      const blockId = pool.lookup(hash);
      // A host run continues the GPU run and a disk run the host run; a block back on the GPU
      // after the lower runs began ends the match.
      const lower = found.host.length + found.disk.length > 0;
      if (blockId >= 0) {
        if (lower) break;
        found.gpu.push(blockId);
      } else {
        const tier = tiers.find(hash, found.disk.length > 0 ? IN_DISK : IN_HOST);
        if (tier === NOT_FOUND) break;
        (tier === IN_HOST ? found.host : found.disk).push(hash);
      }
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
  ): Admission | null {
    if (seqs.has(seqId)) throw new Error(`KV cache: sequence ${seqId} is already admitted`);
    const cachedBlocks = m.gpu.length + m.host.length + m.disk.length;
    const newBlocks = Math.max(blocksFor(numTokens), cachedBlocks) - m.gpu.length;
    // Pinning a reusable hit takes it out of the evictable pool.
    let reusableHits = 0;
    for (const blockId of m.gpu) if (pool.refCount(blockId) === 0) reusableHits++;
    const mustFit = Math.max(blocksFor(fitTokens), cachedBlocks) - m.gpu.length;
    if (mustFit > pool.numFree() + pool.numReusable() - reusableHits) return null;

    for (const blockId of m.gpu) pool.touch(blockId);
    for (const hash of m.host) host.touch(hash);
    for (const hash of m.disk) disk.touch(hash);
    // The match is this admission's own: its GPU run becomes the block table (no copy).
    const gpuHits = m.gpu.length;
    const blocks = m.gpu;
    const loaded = m.disk.length > 0 ? [...m.host, ...m.disk] : m.host;
    for (const hash of loaded) {
      const blockId = pool.allocate();
      pool.cache(blockId, hash);
      blocks.push(blockId);
    }
    // Blocks copied in from the host or disk are GPU blocks that got their keys: vLLM caches the
    // loaded blocks with cache_full_blocks, which publishes them as one GPU BlockStored after the
    // GPU hits.
    if (sink && loaded.length > 0) {
      const parent = gpuHits > 0 ? pool.blockHash(blocks[gpuHits - 1]!) : null;
      const from = gpuHits * blockSize;
      const tokens = sinkTokens ? tokenIds.slice(from, from + loaded.length * blockSize) : NO_TOKENS;
      sink.push(gpuBlocksStored(loaded.slice(), parent, tokens, blockSize, options?.lora));
    }
    if (log) for (const hash of loaded) log.push(STORED_GPU, hash);
    while (blocks.length < gpuHits + newBlocks) blocks.push(pool.allocate());
    seqs.set(seqId, {
      blocks,
      numHashed: cachedBlocks,
      lastHash: m.lastHash,
      lora: options?.lora,
      keys: options?.blockKeys ?? NO_KEYS,
    });

    const found: Admission = {
      cachedTokens: cachedBlocks * blockSize,
      hostTokens: m.host.length * blockSize,
      diskTokens: m.disk.length * blockSize,
    };
    // No lookup, nothing counted: vLLM's get_computed_blocks returns before recording the stats
    // when caching is off or the request skips reading the cache.
    if (!enableReuse || options?.skipLookup) return found;
    if (options?.preempted) {
      preemptedQueryTokens += tokenIds.length;
      preemptedHitTokens += found.cachedTokens;
      return found;
    }
    queryTokens += tokenIds.length;
    hitTokens += found.cachedTokens;
    hostHitTokens += found.hostTokens;
    diskHitTokens += found.diskTokens;
    if (cachedBlocks > 0) prefixes.record(m.rootHash, cachedBlocks, tokenIds);
    return found;
  }

  return {
    blockSize,
    gpuBlocksTotal: gpuBlocks,

    peekPrefix(tokenIds, cacheSalt) {
      const m = match(tokenIds, cacheSalt);
      return {
        gpuTokens: m.gpu.length * blockSize,
        hostTokens: m.host.length * blockSize,
        diskTokens: m.disk.length * blockSize,
      };
    },

    admit(seqId, tokenIds, numTokens, cacheSalt, options) {
      const m = match(tokenIds, cacheSalt, options?.skipLookup, options?.blockKeys);
      return admitMatched(seqId, tokenIds, numTokens, m, options);
    },

    admitChunk(seqId, tokenIds, budgetTokens, cacheSalt, options) {
      const m = match(tokenIds, cacheSalt, options?.skipLookup, options?.blockKeys);
      const cached = (m.gpu.length + m.host.length + m.disk.length) * blockSize;
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
      const { keys } = seq;
      for (let i = first; i < fullBlocks; i++) {
        const start = i * blockSize;
        let hash: number;
        if (i < keys.length) {
          // The request carried this prompt block's key: the same chain, hashed once already.
          hash = keys[i]!;
        } else if (start + blockSize <= split) {
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
        log?.push(STORED_GPU, hash);
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
        sink.push(gpuBlocksStored(hashes, parent, tokens, blockSize, seq.lora));
      }
    },

    free(seqId) {
      const seq = seqs.get(seqId);
      if (!seq) return;
      seqs.delete(seqId);
      pool.releaseLastFirst(seq.blocks);
    },

    reset() {
      prefixes.clear();
      if (!sink && !log) {
        pool.dropReusable();
        tiers.clear(false);
        return;
      }
      const gpuDropped: number[] = [];
      pool.dropReusable((hash) => gpuDropped.push(hash));
      const dropped = tiers.clear(true);
      // vLLM's reset_prefix_cache publishes AllBlocksCleared, but refuses while blocks are in use;
      // here blocks in use keep their keys, so only when none is left is "all cleared" true.
      if (log) {
        if (pool.numCached() === 0) log.push(ALL_CLEARED, 0);
        else {
          for (const hash of gpuDropped) log.push(REMOVED_GPU, hash);
          for (const hash of dropped.host) log.push(REMOVED_CPU, hash);
          for (const hash of dropped.disk) log.push(REMOVED_DISK, hash);
        }
        return;
      }
      if (!sink) return;
      if (pool.numCached() === 0) {
        sink.push({ type: 'AllBlocksCleared' });
        return;
      }
      if (gpuDropped.length > 0) sink.push({ type: 'BlockRemoved', blockHashes: gpuDropped, medium: 'GPU' });
      if (dropped.host.length > 0)
        sink.push({ type: 'BlockRemoved', blockHashes: dropped.host, medium: 'CPU' });
      if (dropped.disk.length > 0)
        sink.push({ type: 'BlockRemoved', blockHashes: dropped.disk, medium: 'DISK' });
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
        disk: { total: disk.capacityBlocks, used: disk.size },
        queryTokens,
        hitTokens,
        hostHitTokens,
        diskHitTokens,
        preemptedQueryTokens,
        preemptedHitTokens,
        evictions: pool.evictions,
        hostEvictions: host.evictions,
        diskEvictions: disk.evictions,
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
      sink = next instanceof KvEventLog ? null : next;
      log = next instanceof KvEventLog ? next : null;
      sinkTokens = withTokens;
      tiers.setSink(sink, log);
    },

    cachedBlockKeys() {
      const gpu: number[] = [];
      for (let i = 0; i < gpuBlocks; i++) {
        const hash = pool.blockHash(i);
        if (hash !== NO_HASH) gpu.push(hash);
      }
      return diskOn ? { gpu, host: host.keys(), disk: disk.keys() } : { gpu, host: host.keys() };
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
