/**
 * The local-disk tier below the host tier (Dynamo KVBM's G3; docs/kv-tiers.md): evictions cascade
 * GPU → host → disk, the disk evicts its least recently used block, a hit copies the block to the
 * GPU and the tier keeps its copy, a lookup continues GPU → host → disk, and every change is a KV
 * event under its medium.
 */
import { describe, expect, it } from 'vitest';
import type { KvCacheOptions } from '../../src/engine/kv-cache/kv-cache-manager.js';
import { createKvCacheManager } from '../../src/engine/kv-cache/kv-cache-manager.js';
import type { KvEvent } from '../../src/engine/kv-events.js';

/** Blocks of 2 tokens; a prompt [t, t, 9] is one full block keyed by t, plus one partial block. */
function makeCache(overrides: Partial<KvCacheOptions> = {}) {
  return createKvCacheManager({
    blockSize: 2,
    gpuBlocks: 2,
    hostBlocks: 1,
    diskBlocks: 2,
    eviction: 'lru',
    enableReuse: true,
    modelKey: 'm',
    ...overrides,
  });
}

type Cache = ReturnType<typeof makeCache>;
let nextSeq = 1;

/** Admits, computes the whole prompt and frees: the way a finished request leaves the cache. */
function run(kv: Cache, tokens: number[]) {
  const seqId = nextSeq++;
  const res = kv.admit(seqId, tokens, tokens.length);
  expect(res).not.toBeNull();
  kv.cacheBlocks(seqId, tokens, tokens.length);
  kv.free(seqId);
  return res!;
}

const block = (t: number) => [t, t, 9];
const peek = (kv: Cache, t: number) => kv.peekPrefix(block(t));
const ON_GPU = { gpuTokens: 2, hostTokens: 0, diskTokens: 0 };
const ON_HOST = { gpuTokens: 0, hostTokens: 2, diskTokens: 0 };
const ON_DISK = { gpuTokens: 0, hostTokens: 0, diskTokens: 2 };
const NOWHERE = { gpuTokens: 0, hostTokens: 0, diskTokens: 0 };

describe('the disk tier: cascade and capacity', () => {
  it('takes what the host tier evicts, and evicts its least recently used block when full', () => {
    const kv = makeCache();
    for (let t = 1; t <= 5; t++) run(kv, block(t));
    // Each request evicted its predecessor from the GPU (2 blocks); the host holds one, the disk two.
    expect([1, 2, 3, 4, 5].map((t) => peek(kv, t))).toEqual([NOWHERE, ON_DISK, ON_DISK, ON_HOST, ON_GPU]);
    const s = kv.stats();
    expect([s.evictions, s.hostEvictions, s.diskEvictions]).toEqual([4, 3, 1]);
    expect([s.host, s.disk]).toEqual([
      { total: 1, used: 1 },
      { total: 2, used: 2 },
    ]);
  });

  it('copies a disk hit to the GPU and keeps it on disk, refreshed: the disk evicts another block first', () => {
    const kv = makeCache();
    for (let t = 1; t <= 5; t++) run(kv, block(t)); // disk: 2 (older), 3; host: 4; GPU: 5
    const key2 = kv.cachedBlockKeys().disk![1]!; // least recently used last
    expect(kv.admit(nextSeq++, block(2), 3)).toEqual({ cachedTokens: 2, hostTokens: 0, diskTokens: 2 });
    // Loading it took the GPU's blocks: 5 went to the host, 4 from the host to the disk, which
    // dropped 3 — not 2, refreshed by the hit.
    expect(peek(kv, 2)).toEqual(ON_GPU);
    expect(kv.cachedBlockKeys().disk).toContain(key2);
    expect([3, 4, 5].map((t) => peek(kv, t))).toEqual([NOWHERE, ON_DISK, ON_HOST]);
    const s = kv.stats();
    expect([s.hitTokens, s.hostHitTokens, s.diskHitTokens, s.diskEvictions]).toEqual([2, 0, 2, 2]);
  });

  it('without a host tier, takes GPU evictions directly (KVBM with DYN_KVBM_DISK_CACHE_GB alone)', () => {
    const kv = makeCache({ hostBlocks: 0, diskBlocks: 4 });
    for (let t = 1; t <= 3; t++) run(kv, block(t));
    expect([1, 2, 3].map((t) => peek(kv, t))).toEqual([ON_DISK, ON_DISK, ON_GPU]);
    expect(kv.stats().host).toEqual({ total: 0, used: 0 });
    expect(kv.stats().disk).toEqual({ total: 4, used: 2 });
    expect(run(kv, block(1))).toEqual({ cachedTokens: 2, hostTokens: 0, diskTokens: 2 });
  });

  it('is off at 0 blocks, and with prefix caching off', () => {
    for (const kv of [makeCache({ diskBlocks: 0 }), makeCache({ enableReuse: false })]) {
      for (let t = 1; t <= 5; t++) run(kv, block(t));
      expect(kv.stats().disk).toEqual({ total: 0, used: 0 });
      expect(kv.cachedBlockKeys()).not.toHaveProperty('disk');
    }
  });
});

describe('the disk tier: lookups', () => {
  it('continues the GPU run with the host run, then the disk run, of the same chain', () => {
    // A chain of four blocks (9 tokens); the GPU holds 5 blocks.
    const kv = makeCache({ gpuBlocks: 5, hostBlocks: 1, diskBlocks: 8 });
    const chain = [1, 1, 2, 2, 3, 3, 4, 4, 9];
    run(kv, chain);
    // Three blocks for an unrelated prompt: the free one, then the chain's last two (last first):
    // block 4 to the host, then block 3 to the host, pushing block 4 on to the disk.
    run(kv, [7, 7, 8, 8, 9]);
    expect(kv.peekPrefix(chain)).toEqual({ gpuTokens: 4, hostTokens: 2, diskTokens: 2 });
    expect(kv.admit(nextSeq++, chain, chain.length)).toEqual({
      cachedTokens: 8,
      hostTokens: 2,
      diskTokens: 2,
    });
  });

  it('finds a block held by both lower tiers in the host tier, the faster one', () => {
    const kv = makeCache({ hostBlocks: 1, diskBlocks: 4 });
    for (let t = 1; t <= 4; t++) run(kv, block(t)); // 1, 2 on disk; 3 in the host
    expect(run(kv, block(1)).diskTokens).toBe(2); // copied to the GPU, kept on disk
    run(kv, block(6)); // evicts the copy to the host
    const key1 = kv.cachedBlockKeys().host[0]!;
    expect(kv.cachedBlockKeys().disk).toContain(key1);
    expect(peek(kv, 1)).toEqual(ON_HOST);
  });
});

describe('the disk tier: KV events', () => {
  it('publishes each step of the cascade under its medium, evictions before the stores they make room for', () => {
    const kv = makeCache({ hostBlocks: 1, diskBlocks: 1 });
    const sink: KvEvent[] = [];
    kv.setEventSink(sink, false);
    for (let t = 1; t <= 4; t++) run(kv, block(t));
    const [k1, k2] = [1, 2].map((t) => {
      const probe = makeCache({ hostBlocks: 0, diskBlocks: 0, gpuBlocks: 4 });
      run(probe, block(t));
      return probe.cachedBlockKeys().gpu[0]!;
    });
    const offloads = sink
      .filter((e) => e.type !== 'BlockStored' || e.medium !== 'GPU')
      .map((e) => (e.type === 'AllBlocksCleared' ? e.type : `${e.type} ${e.medium} ${e.blockHashes.join()}`));
    expect(offloads.slice(0, 10)).toEqual([
      `BlockRemoved GPU ${k1}`,
      `BlockStored CPU ${k1}`,
      `BlockRemoved GPU ${k2}`,
      `BlockRemoved CPU ${k1}`,
      `BlockStored DISK ${k1}`,
      `BlockStored CPU ${k2}`,
      expect.stringMatching(/^BlockRemoved GPU /),
      `BlockRemoved CPU ${k2}`,
      `BlockRemoved DISK ${k1}`,
      `BlockStored DISK ${k2}`,
    ]);
    // Offloaded blocks carry their key only, as vLLM's offloading connector publishes them.
    const disk = sink.find((e) => e.type === 'BlockStored' && e.medium === 'DISK');
    expect(disk).toEqual({
      type: 'BlockStored',
      blockHashes: [k1],
      parentBlockHash: null,
      tokenIds: [],
      blockSize: 0,
      medium: 'DISK',
    });
  });

  it('a reset drops the disk too: BlockRemoved DISK while blocks are in use, else AllBlocksCleared', () => {
    const kv = makeCache({ gpuBlocks: 3, hostBlocks: 1, diskBlocks: 4 });
    const sink: KvEvent[] = [];
    kv.setEventSink(sink);
    for (let t = 1; t <= 4; t++) run(kv, block(t));
    kv.admit(nextSeq++, block(8), 3); // in use: keeps its key through the reset
    kv.cacheBlocks(nextSeq - 1, block(8), 3);
    const onDisk = kv.cachedBlockKeys().disk!;
    expect(onDisk.length).toBeGreaterThan(0);
    sink.length = 0;
    kv.reset();
    expect(sink).toContainEqual({ type: 'BlockRemoved', blockHashes: onDisk, medium: 'DISK' });
    expect(kv.stats().disk.used).toBe(0);
    kv.free(nextSeq - 1);
    for (let t = 1; t <= 4; t++) run(kv, block(t + 10));
    sink.length = 0;
    kv.reset();
    expect(sink).toEqual([{ type: 'AllBlocksCleared' }]);
    expect(kv.cachedBlockKeys()).toEqual({ gpu: [], host: [], disk: [] });
  });
});
