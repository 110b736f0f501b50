/**
 * Many requests of one prompt, as a server answering the same request over and over sees them:
 * every request computes the same answer, so the blocks its answer fills are copies of blocks
 * that earlier requests cached (vLLM does not de-duplicate them, vllm/v1/core/block_pool.py), and
 * copies pile up until evicted. Checked after every cache call against a plain model of the index,
 * Map<key, block ids in the order they were keyed>: the cache holds exactly the model's blocks, and
 * every lookup finds each key's oldest copy (vLLM's `get_one_block` returns the first).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashBlockTokens, prefixSeed } from '../../src/engine/kv-cache/block-hash.js';
import type { EvictionPolicyName, KvCacheManager } from '../../src/engine/kv-cache/kv-cache-manager.js';
import { createKvCacheManager } from '../../src/engine/kv-cache/kv-cache-manager.js';

const BLOCK_SIZE = 2;
const MODEL_KEY = 'm';
const SEED = prefixSeed(MODEL_KEY);
/** The prompt nearly every request sends, and two others sharing its first block or nothing. */
const PROMPTS = [
  [1, 2, 3, 4, 5],
  [1, 2, 9, 9, 9, 9, 8],
  [7, 7, 7],
];
/** Output token `k` of every request: the same answer each time, so its blocks are copies. */
const outputToken = (k: number) => 1 + ((k * 5) % 3);

type Op =
  | { kind: 'admit'; slot: number; prompt: number; chunk: number }
  | { kind: 'step'; slot: number; tokens: number }
  | { kind: 'free'; slot: number };

const opArb = (slots: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('admit' as const),
        slot: fc.nat(slots - 1),
        prompt: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat(2) }),
        chunk: fc.integer({ min: 1, max: 8 }),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('step' as const),
        slot: fc.nat(slots - 1),
        tokens: fc.integer({ min: 1, max: 4 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('free' as const), slot: fc.nat(slots - 1) }) },
  );

interface Live {
  seqId: number;
  tokens: number[];
  promptLength: number;
  numComputed: number;
}

/**
 * The model: key → blocks holding it, oldest first, kept up to date from the cache's snapshot
 * around each call. One call never gives one key to two blocks (a sequence's keys are chained, so
 * distinct), so the order of the blocks a call keyed does not matter.
 */
class IndexModel {
  readonly byKey = new Map<number, number[]>();
  private hashes: readonly number[];

  constructor(private readonly kv: KvCacheManager) {
    this.hashes = kv.inspect().hashes;
  }

  /** Applies what the last call changed: keys dropped (evictions), then keys given. */
  sync(): void {
    const now = this.kv.inspect().hashes;
    now.forEach((h, b) => {
      const was = this.hashes[b]!;
      if (was === h || was === -1) return;
      const blocks = this.byKey.get(was)!;
      blocks.splice(blocks.indexOf(b), 1);
      if (blocks.length === 0) this.byKey.delete(was);
    });
    now.forEach((h, b) => {
      if (this.hashes[b] === h || h === -1) return;
      this.byKey.set(h, [...(this.byKey.get(h) ?? []), b]);
    });
    this.hashes = now;
  }

  /** The blocks a lookup of `tokens` must find: each block's oldest copy while the chain holds. */
  expectedHits(tokens: readonly number[]): number[] {
    const hits: number[] = [];
    let parent = SEED;
    for (let i = 0; i < Math.floor((tokens.length - 1) / BLOCK_SIZE); i++) {
      parent = hashBlockTokens(parent, tokens, i * BLOCK_SIZE, BLOCK_SIZE);
      const oldest = this.byKey.get(parent)?.[0];
      if (oldest === undefined) break;
      hits.push(oldest);
    }
    return hits;
  }
}

function run(eviction: EvictionPolicyName, gpuBlocks: number, ops: readonly Op[]) {
  const kv = createKvCacheManager({
    blockSize: BLOCK_SIZE,
    gpuBlocks,
    hostBlocks: 0,
    eviction,
    enableReuse: true,
    modelKey: MODEL_KEY,
  });
  const model = new IndexModel(kv);
  const live = new Map<number, Live>();
  let nextSeqId = 1;
  let mostCopies = 0;

  for (const op of ops) {
    const q = live.get(op.slot);
    if (op.kind === 'admit') {
      if (q) continue;
      const tokens = [...PROMPTS[op.prompt]!];
      const hits = model.expectedHits(tokens);
      expect(kv.peekPrefix(tokens)).toEqual({
        gpuTokens: hits.length * BLOCK_SIZE,
        hostTokens: 0,
        diskTokens: 0,
      });
      const seqId = nextSeqId++;
      const numTokens = Math.min(tokens.length, hits.length * BLOCK_SIZE + op.chunk);
      const res = kv.admit(seqId, tokens, numTokens);
      model.sync();
      if (!res) continue;
      expect(res.cachedTokens).toBe(hits.length * BLOCK_SIZE);
      expect(kv.inspect().sequences.get(seqId)!.slice(0, hits.length)).toEqual(hits);
      live.set(op.slot, { seqId, tokens, promptLength: tokens.length, numComputed: res.cachedTokens });
    } else if (op.kind === 'step') {
      if (!q) continue;
      // Prefill a chunk of the prompt, or decode one token of the common answer.
      const prefill = q.numComputed < q.promptLength;
      const target = prefill ? Math.min(q.promptLength, q.numComputed + op.tokens) : q.tokens.length + 1;
      const grew = kv.grow(q.seqId, target);
      model.sync();
      if (!grew) continue;
      if (!prefill) q.tokens.push(outputToken(q.tokens.length - q.promptLength));
      q.numComputed = prefill ? target : q.tokens.length - 1;
      kv.cacheBlocks(
        q.seqId,
        q.tokens.slice(0, q.promptLength),
        q.numComputed,
        q.tokens.slice(q.promptLength),
      );
      model.sync();
    } else {
      if (!q) continue;
      kv.free(q.seqId);
      live.delete(op.slot);
      model.sync();
    }
    // The cache holds exactly the model's blocks, and its lookups find the oldest copies.
    const s = kv.stats();
    let keyed = 0;
    for (const blocks of model.byKey.values()) {
      keyed += blocks.length;
      mostCopies = Math.max(mostCopies, blocks.length);
    }
    expect(s.gpu.cached).toBe(keyed);
    for (const prompt of PROMPTS) {
      // The prompt followed by the answer so far: a lookup walks its decode blocks' copies too.
      const withAnswer = [...prompt, ...Array.from({ length: 6 }, (_, k) => outputToken(k)), 0];
      expect(kv.peekPrefix(withAnswer).gpuTokens).toBe(model.expectedHits(withAnswer).length * BLOCK_SIZE);
    }
  }
  for (const q of live.values()) kv.free(q.seqId);
  model.sync();
  expect(kv.stats().gpu.inUse).toBe(0);
  return mostCopies;
}

describe('KvCacheManager with many copies of the same blocks', () => {
  it.each(['lru', 'fifo', 'lfu'] as const)(
    '%s: holds exactly the model index, and every hit is the oldest copy of its block',
    (eviction) => {
      let mostCopies = 0;
      fc.assert(
        fc.property(
          fc.array(opArb(8), { minLength: 50, maxLength: 600, size: 'max' }),
          fc.integer({ min: 24, max: 400 }),
          (ops, gpuBlocks) => {
            mostCopies = Math.max(mostCopies, run(eviction, gpuBlocks, ops));
          },
        ),
        { numRuns: 40, seed: 11 },
      );
      // The workload did pile copies up (the answer's blocks, request after request).
      expect(mostCopies).toBeGreaterThanOrEqual(10);
    },
  );
});
