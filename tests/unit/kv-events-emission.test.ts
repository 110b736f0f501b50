/**
 * The engine's KV events (kv-events.ts), as vLLM's block pool and CPU offloading connector emit
 * them: a subscriber that applies them in order must hold exactly the keys the cache holds, per
 * tier and with duplicates, at every moment between steps — through evictions to the host tier,
 * host hits copied back, host evictions to the disk tier, disk hits and evictions, preemptions,
 * aborts and resets.
 */
import { describe, expect, it } from 'vitest';
import type { VirtualClock } from '../../src/engine/clock.js';
import type { Engine, EngineObserver } from '../../src/engine/engine.js';
import { hashBlockTokens, prefixSeed } from '../../src/engine/kv-cache/block-hash.js';
import type { KvCacheOptions } from '../../src/engine/kv-cache/kv-cache-manager.js';
import type { KvEvent, KvEventBatch } from '../../src/engine/kv-events.js';
import { ALL_CLEARED, type KvEventLog } from '../../src/engine/kv-event-log.js';
import { createObserverHub } from '../../src/engine/observer-hub.js';
import type { PerfModel } from '../../src/engine/perf-model.js';
import type { EngineRequest } from '../../src/engine/types.js';
import { engineUnderTest } from '../helpers/engine-under-test.js';

const BLOCK = 4;
const MODEL = 'm';
const perf: PerfModel = { stepMs: (w) => 5 + w.prefillChunks.reduce((s, c) => s + c.tokens, 0) * 0.01 };
const LIMITS = { perf, maxNumSeqs: 6, maxNumBatchedTokens: 64, maxWaiting: 1000 };

/** A seeded generator (mulberry32): the load is the same on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a router's index rebuilds from the events alone: a multiset of (medium, key). */
class Subscriber {
  readonly counts = new Map<string, number>();
  readonly batches: KvEventBatch[] = [];

  /** Batches that came as a flat log (kv-event-log.ts), and the entries they held. */
  logBatches = 0;
  logEntries = 0;

  apply(batch: KvEventBatch): void {
    if (batch.log) {
      this.applyLog(batch.log);
      return;
    }
    this.batches.push(batch);
    for (const ev of batch.events) this.applyOne(ev);
  }

  /** The same multiset from the log's keys alone (it is the engine's, reused: read it now). */
  private applyLog(log: KvEventLog): void {
    this.logBatches++;
    this.logEntries += log.length;
    const media = ['GPU', 'CPU', 'DISK'];
    for (let i = 0; i < log.length; i++) {
      const op = log.opAt(i);
      if (op === ALL_CLEARED) {
        this.counts.clear();
        continue;
      }
      const k = `${media[op >> 1]}:${log.keyAt(i)}`;
      const n = (this.counts.get(k) ?? 0) + ((op & 1) === 0 ? 1 : -1);
      expect(n, `log op ${op} ${k}`).toBeGreaterThanOrEqual(0);
      if (n === 0) this.counts.delete(k);
      else this.counts.set(k, n);
    }
  }

  private applyOne(ev: KvEvent): void {
    if (ev.type === 'AllBlocksCleared') {
      this.counts.clear();
      return;
    }
    if (ev.type === 'BlockStored' && ev.medium === 'GPU' && ev.parentBlockHash !== null) {
      // vLLM's parent is the block before, held by the same request: it is cached right now.
      expect(this.counts.get(`GPU:${ev.parentBlockHash}`) ?? 0).toBeGreaterThan(0);
    }
    for (const hash of ev.blockHashes) {
      const k = `${ev.medium}:${hash}`;
      const n = (this.counts.get(k) ?? 0) + (ev.type === 'BlockStored' ? 1 : -1);
      // A removal is always of a key the subscriber holds.
      expect(n, `${ev.type} ${k}`).toBeGreaterThanOrEqual(0);
      if (n === 0) this.counts.delete(k);
      else this.counts.set(k, n);
    }
  }
}

function multiset(keys: { gpu: number[]; host: number[]; disk?: number[] }): Map<string, number> {
  const m = new Map<string, number>();
  for (const [medium, list] of [
    ['GPU', keys.gpu],
    ['CPU', keys.host],
    ['DISK', keys.disk ?? []],
  ] as const) {
    for (const k of list) m.set(`${medium}:${k}`, (m.get(`${medium}:${k}`) ?? 0) + 1);
  }
  return m;
}

const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

function kvOptions(gpuBlocks: number, hostBlocks: number, diskBlocks = 0): Partial<KvCacheOptions> {
  return { blockSize: BLOCK, gpuBlocks, hostBlocks, diskBlocks, modelKey: MODEL };
}

interface Harness {
  engine: Engine;
  clock: VirtualClock;
  sub: Subscriber;
  check(): void;
  /** Checks that saw a key held by two GPU blocks; steps that preempted. */
  seen: { duplicates: number; preemptions: number };
}

/** `asLog`: the subscriber takes the flat log (EngineObserver.observesKvEventLog), as a fleet's index does. */
function harness(gpuBlocks: number, hostBlocks: number, diskBlocks = 0, asLog = false): Harness {
  const sub = new Subscriber();
  const hub = createObserverHub();
  const kvCache = kvOptions(gpuBlocks, hostBlocks, diskBlocks);
  const { clock, engine } = engineUnderTest({ ...LIMITS, kvCache, observer: hub });
  const seen = { duplicates: 0, preemptions: 0 };
  hub.add({
    onKvEvents: (b) => sub.apply(b),
    observesKvEventLog: () => asLog,
    onStep: (s) => (seen.preemptions += s.preemptions),
  });
  const check = () => {
    const keys = engine.cachedBlockKeys();
    if (new Set(keys.gpu).size < keys.gpu.length) seen.duplicates++;
    expect(sorted(sub.counts)).toEqual(sorted(multiset(keys)));
  };
  return { engine, clock, sub, check, seen };
}

let nextId = 0;
function request(prompt: number[], output: number[], cacheSalt?: string): EngineRequest {
  return {
    id: `r${nextId++}`,
    promptTokenIds: prompt,
    outputTokenIds: output,
    finishReason: 'length',
    modelName: MODEL,
    cacheSalt,
  };
}

/**
 * Conversations of several turns (each turn's prompt is the last prompt, its answer and new user
 * tokens), some with a cache salt, some watched token by token and some not (those decode lazily),
 * some aborted mid-flight, two of them sent twice at once (duplicate keys); the subscriber's set is
 * compared with the cache's after every few milliseconds of simulated time.
 */
function runLoad(h: Harness, seed: number, resetAtMs: number[]): { checks: number; aborted: number } {
  const rand = rng(seed);
  const tok = () => Math.floor(rand() * 50); // a small vocabulary: blocks repeat across users
  const convs = Array.from({ length: 14 }, (_, i) => ({
    history: Array.from({ length: 8 + Math.floor(rand() * 30) }, tok),
    turnsLeft: 2 + Math.floor(rand() * 3),
    salt: i % 5 === 0 ? `tenant-${i}` : undefined,
    busy: false,
    watched: i % 2 === 0,
  }));
  let checks = 0;
  let aborted = 0;
  const resets = [...resetAtMs];
  const startTurn = (c: (typeof convs)[number]) => {
    c.busy = true;
    const prompt = [...c.history, ...Array.from({ length: 3 + Math.floor(rand() * 12) }, tok)];
    const output = Array.from({ length: 2 + Math.floor(rand() * 14) }, tok);
    const dup = rand() < 0.15;
    const copies = dup ? 2 : 1;
    let left = copies;
    for (let k = 0; k < copies; k++) {
      const abort = h.engine.submit(
        request(prompt, output, c.salt),
        (ev) => {
          if (ev.type !== 'finished' || --left > 0) return;
          c.busy = false;
          c.history = [...prompt, ...output.slice(0, ev.usage.completionTokens)];
          c.turnsLeft--;
        },
        undefined,
        { tokenEvents: c.watched },
      );
      if (rand() < 0.2) {
        const at = h.clock.now() + 1 + rand() * 60;
        h.clock.schedule(at, () => {
          aborted++;
          abort();
        });
      }
    }
  };
  for (let guard = 0; guard < 5000; guard++) {
    for (const c of convs) if (!c.busy && c.turnsLeft > 0 && rand() < 0.5) startTurn(c);
    h.clock.advanceTo(h.clock.now() + 3 + rand() * 20);
    if (resets.length > 0 && h.clock.now() >= resets[0]!) {
      resets.shift();
      h.engine.resetPrefixCache();
    }
    h.check();
    checks++;
    if (convs.every((c) => c.turnsLeft === 0 && !c.busy)) break;
  }
  h.clock.runUntilIdle();
  h.check();
  return { checks, aborted };
}

describe('KV events: a subscriber rebuilds the cache from them alone', () => {
  it('through evictions, a host tier, host hits, preemptions, aborts, duplicates and resets', () => {
    const h = harness(48, 40);
    const { checks, aborted } = runLoad(h, 7, [400, 900]);
    const s = h.engine.stats();
    // The load did exercise every path.
    expect(checks).toBeGreaterThan(50);
    expect(aborted).toBeGreaterThan(0);
    expect(s.kvCache.evictions).toBeGreaterThan(20);
    expect(s.kvCache.hostEvictions).toBeGreaterThan(0);
    expect(s.kvCache.hostHitTokens).toBeGreaterThan(0);
    expect(h.seen.duplicates).toBeGreaterThan(0);
    expect(h.seen.preemptions).toBeGreaterThan(0);
    const all = h.sub.batches.flatMap((b) => b.events);
    const kinds = new Set(all.map((e) => (e.type === 'AllBlocksCleared' ? e.type : `${e.type}/${e.medium}`)));
    expect([...kinds].sort()).toEqual([
      'BlockRemoved/CPU',
      'BlockRemoved/GPU',
      'BlockStored/CPU',
      'BlockStored/GPU',
    ]);
    expect(h.sub.batches.length).toBeGreaterThan(10);
    // Batches come in time order, one per step (a reset's shares its time only with a step).
    for (let i = 1; i < h.sub.batches.length; i++) {
      expect(h.sub.batches[i]!.atMs).toBeGreaterThanOrEqual(h.sub.batches[i - 1]!.atMs);
      expect(h.sub.batches[i]!.events.length).toBeGreaterThan(0);
    }
  });

  it('through a disk tier below the host tier: host evictions land there, disk hits, disk evictions', () => {
    const h = harness(48, 16, 24);
    runLoad(h, 7, [400, 900]);
    const s = h.engine.stats().kvCache;
    expect(s.hostEvictions).toBeGreaterThan(0);
    expect(s.diskHitTokens).toBeGreaterThan(0);
    expect(s.diskEvictions).toBeGreaterThan(0);
    const kinds = new Set(
      h.sub.batches
        .flatMap((b) => b.events)
        .map((e) => (e.type === 'AllBlocksCleared' ? e.type : `${e.type}/${e.medium}`)),
    );
    expect(kinds).toContain('BlockStored/DISK');
    expect(kinds).toContain('BlockRemoved/DISK');
  });

  it('through a disk tier with no host tier: GPU evictions land on disk', () => {
    const h = harness(48, 0, 32);
    runLoad(h, 8, [500]);
    const s = h.engine.stats().kvCache;
    expect([s.host.used, s.hostHitTokens]).toEqual([0, 0]);
    expect(s.diskHitTokens).toBeGreaterThan(0);
    expect(s.diskEvictions).toBeGreaterThan(0);
  });

  it('the same from a flat log of keys, for a subscriber that takes one (no event objects built)', () => {
    for (const [gpu, host, disk, seed] of [
      [48, 40, 0, 7],
      [48, 16, 24, 7],
      [48, 0, 32, 8],
    ] as const) {
      const h = harness(gpu, host, disk, true);
      runLoad(h, seed, [400, 900]);
      const s = h.engine.stats().kvCache;
      expect(s.evictions).toBeGreaterThan(20);
      expect(s.hostEvictions + s.diskEvictions).toBeGreaterThan(0);
      expect(h.sub.batches).toEqual([]);
      expect(h.sub.logBatches).toBeGreaterThan(10);
      expect(h.sub.logEntries).toBeGreaterThan(100);
    }
    // A reset with nothing in use logs "all cleared".
    const h = harness(64, 16, 0, true);
    h.engine.submit(
      request(
        Array.from({ length: 40 }, (_, i) => i),
        [1, 2],
      ),
      () => undefined,
    );
    h.clock.runUntilIdle();
    h.engine.resetPrefixCache();
    h.check();
    expect(h.sub.counts.size).toBe(0);
  });

  it('sees a key held by two GPU blocks twice', () => {
    const h = harness(64, 0);
    const prompt = Array.from({ length: 20 }, (_, i) => i + 1);
    for (let k = 0; k < 2; k++) h.engine.submit(request(prompt, [7, 7, 7]), () => undefined);
    h.clock.runUntilIdle();
    h.check();
    const gpu = h.engine.cachedBlockKeys().gpu;
    expect(gpu.length).toBeGreaterThan(new Set(gpu).size);
    const stored = h.sub.batches[0]!.events.filter((e) => e.type === 'BlockStored');
    // Planned in one step: the first keys its 5 prompt blocks; the second hits the first 4 (a
    // lookup leaves the last prompt token to compute) and keys its own copy of the fifth.
    expect(stored).toHaveLength(2);
    const [first, second] = stored;
    expect(first!.blockHashes).toHaveLength(5);
    expect(second).toEqual({
      ...first,
      blockHashes: [first!.blockHashes[4]],
      parentBlockHash: first!.blockHashes[3],
      tokenIds: [17, 18, 19, 20],
    });
  });

  it('publishes BlockStored as vLLM does: chain order, parent, the blocks’ tokens, keys that re-hash', () => {
    const h = harness(64, 0);
    const prompt = Array.from({ length: 10 }, (_, i) => 100 + i);
    const output = [1, 2, 3, 4, 5, 6, 7];
    h.engine.submit(request(prompt, output, 'salt-a'), () => undefined);
    h.clock.runUntilIdle();
    const stored = h.sub.batches.flatMap((b) => b.events).filter((e) => e.type === 'BlockStored');
    const all = [...prompt, ...output];
    let parent = prefixSeed(MODEL, 'salt-a');
    let block = 0;
    for (const ev of stored) {
      expect(ev.medium).toBe('GPU');
      expect(ev.blockSize).toBe(BLOCK);
      expect(ev.parentBlockHash).toBe(block === 0 ? null : parent);
      expect(ev.tokenIds).toEqual(all.slice(block * BLOCK, (block + ev.blockHashes.length) * BLOCK));
      for (const hash of ev.blockHashes) {
        expect(hash).toBe(hashBlockTokens(parent, all, block * BLOCK, BLOCK));
        expect(Number.isSafeInteger(hash) && hash >= 0).toBe(true);
        parent = hash;
        block++;
      }
    }
    // 16 tokens computed (the last generated token's KV never is): 4 full blocks, the first two
    // (all prompt) in the admission's event, the next ones as decoding fills them.
    expect(block).toBe(4);
    expect(stored[0]!.blockHashes).toHaveLength(2);
  });

  it('a reset with nothing in use is AllBlocksCleared; with blocks in use, BlockRemoved of what it dropped', () => {
    const h = harness(64, 16);
    const prompt = Array.from({ length: 40 }, (_, i) => i);
    h.engine.submit(request(prompt, [1, 2]), () => undefined);
    h.clock.runUntilIdle();
    expect(h.engine.cachedBlockKeys().gpu.length).toBeGreaterThan(0);
    h.engine.resetPrefixCache();
    expect(h.sub.batches.at(-1)!.events).toEqual([{ type: 'AllBlocksCleared' }]);
    expect(h.sub.batches.at(-1)!.atMs).toBe(h.clock.now());
    h.check();

    h.engine.submit(request(prompt, [1, 2]), () => undefined);
    h.clock.runUntilIdle();
    const other = Array.from({ length: 40 }, (_, i) => 500 + i);
    h.engine.submit(
      request(
        other,
        Array.from({ length: 50 }, () => 9),
      ),
      () => undefined,
    );
    h.clock.advanceTo(h.clock.now() + 30); // the second request is decoding, its blocks pinned
    h.engine.resetPrefixCache();
    const last = h.sub.batches.at(-1)!.events;
    expect(last.map((e) => e.type)).toEqual(['BlockRemoved']);
    h.check();
    expect(h.engine.cachedBlockKeys().gpu.length).toBeGreaterThan(0);
    h.clock.runUntilIdle();
    h.check();
  });

  it('is the same with the LFU and FIFO policies and a larger load', () => {
    for (const eviction of ['lfu', 'fifo'] as const) {
      const sub = new Subscriber();
      const observer: EngineObserver = { onKvEvents: (b) => sub.apply(b), observesKvEvents: () => true };
      const kvCache = { ...kvOptions(40, 24), eviction };
      const { clock, engine } = engineUnderTest({ ...LIMITS, kvCache, observer });
      const h: Harness = {
        engine,
        clock,
        sub,
        check: () => expect(sorted(sub.counts)).toEqual(sorted(multiset(engine.cachedBlockKeys()))),
        seen: { duplicates: 0, preemptions: 0 },
      };
      runLoad(h, eviction === 'lfu' ? 11 : 12, [300]);
      expect(engine.stats().kvCache.evictions).toBeGreaterThan(0);
    }
  });
});
