/**
 * Each routing policy of src/fleet/routers/, alone: round robin, seeded random, vLLM's least-loaded
 * score, Dynamo's kv-aware cost and softmax, and sticky sessions with their fallback.
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/util/random.js';
import type { EngineRequest, EngineStats } from '../../src/engine/types.js';
import { ActiveSequences } from '../../src/fleet/active-sequences.js';
import { PrefixIndex } from '../../src/fleet/prefix-index.js';
import type { ReplicaLoad, RouteQuery, Router, RoutingState } from '../../src/fleet/router.js';
import { createKvAwareRouter, softmaxSample } from '../../src/fleet/routers/kv-aware.js';
import { createLeastLoadedRouter } from '../../src/fleet/routers/least-loaded.js';
import { createRandomRouter } from '../../src/fleet/routers/random.js';
import { createRoundRobinRouter } from '../../src/fleet/routers/round-robin.js';
import { createSessionRouter } from '../../src/fleet/routers/session.js';

const BS = 4;

function request(prompt: number, sessionKey?: string): EngineRequest {
  return {
    id: 'r',
    promptTokenIds: Array.from({ length: prompt }, (_, i) => i),
    outputTokenIds: [1],
    finishReason: 'length',
    modelName: 'm',
    ...(sessionKey ? { sessionKey } : {}),
  };
}

/** A query whose block keys are 1…n (as many as the prompt's matchable blocks) and overlaps from `index`. */
function query(req: EngineRequest, index: PrefixIndex): RouteQuery {
  const keys = Array.from({ length: Math.floor((req.promptTokenIds.length - 1) / BS) }, (_, i) => i + 1);
  const out = new Int32Array(index.replicas);
  index.overlaps(keys, out);
  return { request: req, keys: () => keys, overlaps: () => out };
}

function loads(counts: [waiting: number, running: number][], room = 10): ReplicaLoad[] {
  return counts.map(([waiting, running]) => ({
    stats: () => ({ waiting, running }) as EngineStats,
    waitingRoom: () => room,
  }));
}

function state(n: number): RoutingState {
  return {
    replicas: loads(Array.from({ length: n }, () => [0, 0])),
    index: new PrefixIndex(n),
    active: new ActiveSequences(n),
    blockSize: BS,
  };
}

const stored = (keys: number[]) => ({
  atMs: 0,
  events: [
    {
      type: 'BlockStored' as const,
      blockHashes: keys,
      parentBlockHash: null,
      tokenIds: [],
      blockSize: BS,
      medium: 'GPU' as const,
    },
  ],
});

describe('round-robin', () => {
  it('cycles through the replicas', () => {
    const r = createRoundRobinRouter(3);
    const s = state(3);
    expect(Array.from({ length: 7 }, () => r.route(query(request(8), s.index)))).toEqual([
      0, 1, 2, 0, 1, 2, 0,
    ]);
  });
});

describe('random', () => {
  it('is reproducible from its seed and spreads evenly', () => {
    const pick = (seed: number) => {
      const r = createRandomRouter(4, createRandom(seed));
      const s = state(4);
      return Array.from({ length: 4000 }, () => r.route(query(request(8), s.index)));
    };
    expect(pick(1)).toEqual(pick(1));
    expect(pick(1)).not.toEqual(pick(2));
    const counts = [0, 0, 0, 0];
    for (const r of pick(1)) counts[r]!++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
  });
});

describe('least-loaded', () => {
  it("picks the lowest waiting × 4 + running, the first one on a tie (vLLM's DP load balancer)", () => {
    const s = state(1);
    const route = (counts: [number, number][]) =>
      createLeastLoadedRouter(loads(counts)).route(query(request(8), s.index));
    expect(
      route([
        [1, 0],
        [0, 3],
        [0, 5],
      ]),
    ).toBe(1); // 4 vs 3 vs 5
    expect(
      route([
        [1, 0],
        [0, 5],
        [0, 4],
      ]),
    ).toBe(0); // 4 vs 5 vs 4: the first
    expect(
      route([
        [0, 2],
        [0, 2],
        [0, 1],
      ]),
    ).toBe(2);
  });
});

describe('kv-aware', () => {
  const kv = { overlapScoreWeight: 1, routerTemperature: 0 };

  it('sends a request where its prefix is cached when the replicas are equally loaded', () => {
    const s = state(3);
    s.index.apply(2, stored([1, 2, 3, 4, 5]));
    s.index.apply(1, stored([1, 2]));
    const r = createKvAwareRouter(s, kv, createRandom(0));
    expect(r.route(query(request(41), s.index))).toBe(2); // 10 matchable blocks, 5 cached on replica 2
  });

  it("weighs the blocks to prefill against the blocks active requests hold (Dynamo's logit)", () => {
    const s = state(2);
    s.index.apply(0, stored([1, 2, 3, 4, 5, 6])); // 24 cached tokens on replica 0
    // Replica 0 is busy: 40 distinct active blocks and 100 tokens waiting to prefill.
    s.active.add(
      0,
      Array.from({ length: 40 }, (_, i) => 1000 + i),
      100,
    );
    const q = query(request(41), s.index); // 41 tokens, 10 matchable blocks
    // logit(0) = (100 + 41 − 24) / 4 + (40 + 10) = 79.25; logit(1) = 41 / 4 + 10 = 20.25
    expect(createKvAwareRouter(s, kv, createRandom(0)).route(q)).toBe(1);
    // A heavier weight on the prefill cost does not flip it: 79.25 − 50 = 29.25 × w vs 10.25 × w.
    expect(createKvAwareRouter(s, { ...kv, overlapScoreWeight: 10 }, createRandom(0)).route(q)).toBe(1);
    // Once replica 0's load is gone, its cache wins: (41 − 24) / 4 + 10 = 14.25 < 20.25.
    const s2 = state(2);
    s2.index.apply(0, stored([1, 2, 3, 4, 5, 6]));
    expect(createKvAwareRouter(s2, kv, createRandom(0)).route(query(request(41), s2.index))).toBe(0);
  });

  it('counts only the blocks the active requests do not already hold as new', () => {
    const s = state(2);
    // Both replicas hold 10 active blocks; replica 1's are this prompt's own first 10.
    s.active.add(
      0,
      Array.from({ length: 10 }, (_, i) => 500 + i),
      0,
    );
    s.active.add(
      1,
      Array.from({ length: 10 }, (_, i) => i + 1),
      0,
    );
    expect(createKvAwareRouter(s, kv, createRandom(0)).route(query(request(41), s.index))).toBe(1);
  });

  it('breaks a tie by the fewest cached blocks, then at random (seeded)', () => {
    const s = state(3);
    s.index.apply(0, stored([900, 901]));
    s.index.apply(2, stored([902]));
    const r = createKvAwareRouter(s, kv, createRandom(0));
    expect(r.route(query(request(41), s.index))).toBe(1); // all equal cost; replica 1 caches nothing
    const tied = state(3);
    const picks = new Set(
      Array.from({ length: 60 }, (_, seed) =>
        createKvAwareRouter(tied, kv, createRandom(seed)).route(query(request(41), tied.index)),
      ),
    );
    expect(picks.size).toBe(3);
  });

  it('samples by softmax over the range-normalized costs at a temperature above 0', () => {
    const logits = Float64Array.from([10, 20, 30]);
    const counts = [0, 0, 0];
    const rng = createRandom(5);
    const out: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      softmaxSample(logits, 0.5, rng, out);
      counts[out[0]!]!++;
    }
    // p ∝ exp(−(v / 20) / 0.5): exp(−1), exp(−2), exp(−3)
    const z = Math.exp(-1) + Math.exp(-2) + Math.exp(-3);
    expect(counts[0]! / 20_000).toBeCloseTo(Math.exp(-1) / z, 1);
    expect(counts[2]! / 20_000).toBeCloseTo(Math.exp(-3) / z, 1);
    softmaxSample(logits, 0, rng, out);
    expect(out).toEqual([0]);
    softmaxSample(Float64Array.from([3, 1, 1]), 0, rng, out);
    expect(out).toEqual([1, 2]);
  });
});

describe('session', () => {
  /** A fallback that counts its calls and hands out replicas in turn. */
  function counting(n: number): Router & { calls: number } {
    const rr = createRoundRobinRouter(n);
    const r = { ...rr, calls: 0, route: (q: RouteQuery) => (r.calls++, rr.route(q)) };
    return r;
  }

  it('keeps a session on its replica, routes new sessions and keyless requests by the fallback', () => {
    const s = state(3);
    const fallback = counting(3);
    const r = createSessionRouter(fallback, () => 5);
    const to = (key?: string) => r.route(query(request(8, key), s.index));
    expect([to('a'), to('b'), to('a'), to('b'), to('a')]).toEqual([0, 1, 0, 1, 0]);
    expect(fallback.calls).toBe(2);
    expect(to()).toBe(2);
    expect(to()).toBe(0);
    expect(fallback.calls).toBe(4);
  });

  it('leaves a replica whose queue is full, and the session follows the new one', () => {
    const s = state(2);
    const room = [5, 5];
    const r = createSessionRouter(counting(2), (i) => room[i]!);
    const to = (key: string) => r.route(query(request(8, key), s.index));
    expect(to('a')).toBe(0);
    room[0] = 0;
    expect(to('a')).toBe(1);
    room[0] = 5;
    expect(to('a')).toBe(1);
  });

  it('forgets the least recently used session beyond its capacity', () => {
    const s = state(4);
    const fallback = counting(4);
    const r = createSessionRouter(fallback, () => 5, 2);
    const to = (key: string) => r.route(query(request(8, key), s.index));
    to('a'); // 0
    to('b'); // 1
    to('a'); // a is the most recent now
    to('c'); // 2: evicts b
    expect(fallback.calls).toBe(3);
    expect(to('a')).toBe(0);
    expect(to('b')).toBe(3); // routed afresh
    expect(fallback.calls).toBe(4);
  });
});
