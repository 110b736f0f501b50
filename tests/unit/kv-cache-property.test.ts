/**
 * Random interleavings of admit / compute / grow / free / abort / reset, checked after every
 * operation against the manager's own snapshot and a shadow record of what each cached block
 * holds: no block leaks, ref counts equal the block tables that hold them, blocks in use are
 * never evicted or re-keyed, every hit block holds exactly the requested tokens, and the hit
 * counter equals the tokens found.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KvCacheManager, KvCacheOptions } from '../../src/engine/kv-cache/kv-cache-manager.js';
import { createKvCacheManager } from '../../src/engine/kv-cache/kv-cache-manager.js';

const BLOCK_SIZE = 2;
const SALTS = [undefined, 'tenant-b'] as const;

type Op =
  | { kind: 'admit'; slot: number; prefix: number; tail: number[]; salt: number; chunk: number }
  | { kind: 'step'; slot: number; tokens: number }
  | { kind: 'free'; slot: number }
  | { kind: 'finish'; slot: number }
  | { kind: 'reset' };

/** Prompts share one of three prefixes, so hits, duplicates and shared blocks are common. */
const PREFIXES = [[], [1, 2, 3, 4], [1, 2, 3, 4, 5, 6, 7, 8]];

/** Operations on `slots` sequence slots (a slot holds at most one live sequence). */
const opArb = (slots: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('admit' as const),
        slot: fc.integer({ min: 0, max: slots - 1 }),
        prefix: fc.integer({ min: 0, max: 2 }),
        tail: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 1, maxLength: 5 }),
        salt: fc.integer({ min: 0, max: 1 }),
        chunk: fc.integer({ min: 0, max: 12 }),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('step' as const),
        slot: fc.integer({ min: 0, max: slots - 1 }),
        tokens: fc.integer({ min: 1, max: 6 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('free' as const),
        slot: fc.integer({ min: 0, max: slots - 1 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('finish' as const),
        slot: fc.integer({ min: 0, max: slots - 1 }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
  );

interface LiveSeq {
  seqId: number;
  tokens: number[];
  numComputed: number;
  /** Planned output tokens, appended one per decode step. */
  generated: number;
  salt: string | undefined;
}

const contentKey = (salt: string | undefined, tokens: readonly number[], block: number) =>
  `${salt ?? ''}|${tokens.slice(0, (block + 1) * BLOCK_SIZE).join(',')}`;

function checkInvariants(
  kv: KvCacheManager,
  live: Map<number, LiveSeq>,
  contentOfHash: Map<number, string>,
  pinned: Map<number, { table: readonly number[]; hashes: number[] }>,
) {
  const snap = kv.inspect();
  const holders = new Array<number>(kv.gpuBlocksTotal).fill(0);
  for (const table of snap.sequences.values()) for (const b of table) holders[b]!++;
  const inUse = holders.filter((n) => n > 0).length;
  const reusable = snap.refCounts.filter((n, b) => n === 0 && snap.hashes[b] !== -1).length;
  // Blocks in use keep their place and their key: nothing evicted or re-keyed them.
  const keptTables: string[] = [];
  for (const [seqId, before] of pinned) {
    const table = snap.sequences.get(seqId)!;
    const now = before.table.map((b, i) => (before.hashes[i] === -1 ? -1 : snap.hashes[b]!));
    if (
      table.slice(0, before.table.length).join() !== before.table.join() ||
      now.join() !== before.hashes.join()
    )
      keptTables.push(`sequence ${seqId}: ${before.table.join()} → ${table.join()}`);
  }
  // Each keyed block holds what its key says: a hash seen once always names the same tokens.
  const wrongContent: string[] = [];
  for (const q of live.values()) {
    snap.sequences.get(q.seqId)!.forEach((b, i) => {
      const h = snap.hashes[b]!;
      if (h === -1 || (i + 1) * BLOCK_SIZE > q.numComputed) return;
      const want = contentKey(q.salt, q.tokens, i);
      if (contentOfHash.get(h) !== want) wrongContent.push(`block ${b}: ${contentOfHash.get(h)} ≠ ${want}`);
    });
  }
  const s = kv.stats();
  expect({
    refCounts: snap.refCounts,
    gpu: s.gpu,
    available: kv.availableBlocks(),
    seqIds: [...snap.sequences.keys()].sort(),
    keptTables,
    wrongContent,
  }).toEqual({
    refCounts: holders,
    gpu: {
      total: kv.gpuBlocksTotal,
      inUse,
      reusable,
      free: kv.gpuBlocksTotal - inUse - reusable,
      cached: snap.hashes.filter((h) => h !== -1).length,
    },
    available: kv.gpuBlocksTotal - inUse,
    seqIds: [...live.values()].map((q) => q.seqId).sort(),
    keptTables: [],
    wrongContent: [],
  });
}

function runScenario(opts: KvCacheOptions, ops: Op[], exact: boolean) {
  const kv = createKvCacheManager(opts);
  const live = new Map<number, LiveSeq>();
  const contentOfHash = new Map<number, string>();
  /** Content of every full block ever computed since the last reset (the exact oracle's cache). */
  const computed = new Set<string>();
  let nextSeqId = 1;
  let queried = 0;
  let found = 0;
  let foundInHost = 0;

  const recordKeys = () => {
    const snap = kv.inspect();
    for (const q of live.values()) {
      snap.sequences.get(q.seqId)!.forEach((b, i) => {
        if ((i + 1) * BLOCK_SIZE > q.numComputed) return;
        const key = contentKey(q.salt, q.tokens, i);
        computed.add(key);
        const h = snap.hashes[b]!;
        if (h !== -1 && !contentOfHash.has(h)) contentOfHash.set(h, key);
      });
    }
  };
  const snapshotPinned = () => {
    const snap = kv.inspect();
    const pinned = new Map<number, { table: readonly number[]; hashes: number[] }>();
    for (const [seqId, table] of snap.sequences)
      pinned.set(seqId, { table, hashes: table.map((b) => snap.hashes[b]!) });
    return pinned;
  };

  for (const op of ops) {
    const pinned = snapshotPinned();
    if (op.kind === 'admit') {
      if (live.has(op.slot)) continue;
      const salt = SALTS[op.salt];
      const tokens = [...PREFIXES[op.prefix]!, ...op.tail];
      const peek = kv.peekPrefix(tokens, salt);
      const cached = peek.gpuTokens + peek.hostTokens;
      expect(cached % BLOCK_SIZE).toBe(0);
      expect(cached).toBeLessThanOrEqual(Math.floor((tokens.length - 1) / BLOCK_SIZE) * BLOCK_SIZE);
      if (exact) {
        let expected = 0;
        while (
          expected + BLOCK_SIZE <= tokens.length - 1 &&
          computed.has(contentKey(salt, tokens, expected / BLOCK_SIZE))
        )
          expected += BLOCK_SIZE;
        expect(cached).toBe(expected);
      }
      const numTokens = Math.min(cached + op.chunk, tokens.length);
      const beforeStats = kv.stats();
      const beforeSnap = kv.inspect();
      const seqId = nextSeqId++;
      const res = kv.admit(seqId, tokens, numTokens, salt);
      if (res === null) {
        expect(kv.stats()).toEqual(beforeStats);
        expect(kv.inspect()).toEqual(beforeSnap);
        continue;
      }
      expect(res).toEqual({ cachedTokens: cached, hostTokens: peek.hostTokens, diskTokens: 0 });
      // With caching off nothing is looked up, so nothing is counted (vLLM get_computed_blocks).
      if (opts.enableReuse) queried += tokens.length;
      found += res.cachedTokens;
      foundInHost += res.hostTokens;
      const q: LiveSeq = { seqId, tokens, numComputed: res.cachedTokens, generated: 0, salt };
      live.set(op.slot, q);
      // Every hit block, GPU or host, holds exactly the requested tokens.
      const snap = kv.inspect();
      const table = snap.sequences.get(seqId)!;
      expect(table.length).toBe(Math.max(Math.ceil(numTokens / BLOCK_SIZE), res.cachedTokens / BLOCK_SIZE));
      const hitBlocks = table.slice(0, res.cachedTokens / BLOCK_SIZE);
      expect(hitBlocks.map((b) => contentOfHash.get(snap.hashes[b]!))).toEqual(
        hitBlocks.map((_, i) => contentKey(salt, tokens, i)),
      );
    } else if (op.kind === 'step') {
      const q = live.get(op.slot);
      if (!q) continue;
      // Prefill the rest of the prompt in a chunk, or decode one token (the scheduler's two moves).
      const prefill = q.numComputed < q.tokens.length;
      const target = prefill ? Math.min(q.tokens.length, q.numComputed + op.tokens) : q.tokens.length + 1;
      const beforeSnap = kv.inspect();
      if (!kv.grow(q.seqId, target)) {
        expect(kv.inspect()).toEqual(beforeSnap);
        continue;
      }
      if (!prefill) q.tokens.push(1 + ((q.generated++ + op.tokens) % 2));
      q.numComputed = prefill ? target : q.tokens.length - 1;
      kv.cacheBlocks(q.seqId, q.tokens, q.numComputed);
      recordKeys();
    } else if (op.kind === 'free' || op.kind === 'finish') {
      const q = live.get(op.slot);
      if (!q) continue;
      // finish: the rest of the prompt and two output tokens, then free; free alone is an abort.
      if (op.kind === 'finish' && kv.grow(q.seqId, q.tokens.length + 2)) {
        q.tokens.push(2, 1);
        q.numComputed = q.tokens.length - 1;
        kv.cacheBlocks(q.seqId, q.tokens, q.numComputed);
        recordKeys();
        checkInvariants(kv, live, contentOfHash, pinned);
      }
      kv.free(q.seqId);
      live.delete(op.slot);
      pinned.delete(q.seqId);
    } else {
      kv.reset();
      computed.clear();
      recordKeys(); // blocks in use keep their keys
    }
    checkInvariants(kv, live, contentOfHash, pinned);
    const { queryTokens, hitTokens, hostHitTokens } = kv.stats();
    expect({ queryTokens, hitTokens, hostHitTokens }).toEqual({
      queryTokens: queried,
      hitTokens: found,
      hostHitTokens: foundInHost,
    });
  }

  for (const q of live.values()) kv.free(q.seqId);
  const end = kv.stats();
  expect(end.gpu.inUse).toBe(0);
  expect(end.gpu.free + end.gpu.reusable).toBe(opts.gpuBlocks);
  if (!opts.enableReuse) expect(end.hitTokens).toBe(0);
  if (exact) expect(end.evictions).toBe(0);
}

const base = { blockSize: BLOCK_SIZE, enableReuse: true, modelKey: 'm' } as const;

describe('KvCacheManager under random interleavings', () => {
  it.each(['lru', 'fifo', 'lfu'] as const)(
    '%s: never leaks or evicts a block in use, and counts exactly the hits found (tight cache)',
    (eviction) => {
      fc.assert(
        fc.property(
          fc.array(opArb(4), { minLength: 20, maxLength: 80 }),
          fc.integer({ min: 6, max: 12 }),
          fc.constantFrom(0, 6),
          (ops, gpuBlocks, hostBlocks) => {
            runScenario({ ...base, eviction, gpuBlocks, hostBlocks }, ops, false);
          },
        ),
        { numRuns: 150, seed: 42 },
      );
    },
  );

  it.each(['lru', 'fifo', 'lfu'] as const)(
    '%s: serves host-tier hits with exactly the requested tokens (GPU tier smaller than the working set)',
    (eviction) => {
      fc.assert(
        fc.property(
          fc.array(opArb(2), { minLength: 20, maxLength: 80 }),
          fc.integer({ min: 4, max: 7 }),
          (ops, gpuBlocks) => {
            runScenario({ ...base, eviction, gpuBlocks, hostBlocks: 8 }, ops, false);
          },
        ),
        { numRuns: 100, seed: 45 },
      );
    },
  );

  it('finds every computed prefix when nothing was evicted (roomy cache)', () => {
    fc.assert(
      fc.property(
        fc.array(
          opArb(4).filter((op) => op.kind !== 'reset'),
          { minLength: 20, maxLength: 80 },
        ),
        (ops) => {
          runScenario({ ...base, eviction: 'lru', gpuBlocks: 256, hostBlocks: 0 }, ops, true);
        },
      ),
      { numRuns: 150, seed: 43 },
    );
  });

  it('hits nothing with reuse off but keeps the same block accounting', () => {
    fc.assert(
      fc.property(fc.array(opArb(4), { minLength: 20, maxLength: 80 }), (ops) => {
        runScenario(
          { ...base, enableReuse: false, eviction: 'lru', gpuBlocks: 10, hostBlocks: 4 },
          ops,
          false,
        );
      }),
      { numRuns: 100, seed: 44 },
    );
  });
});
