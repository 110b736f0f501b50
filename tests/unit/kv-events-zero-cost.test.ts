/**
 * KV events cost nothing when nobody listens: the cache builds no event object unless the engine's
 * observer says it observes them (asked once per step), and switching listening on starts the flow.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { VirtualClock } from '../../src/engine/clock.js';
import type { Engine, EngineObserver } from '../../src/engine/engine.js';
import type * as Builders from '../../src/engine/kv-cache/kv-event-builders.js';
import type { KvEventBatch } from '../../src/engine/kv-events.js';
import { createObserverHub } from '../../src/engine/observer-hub.js';
import type { PerfModel } from '../../src/engine/perf-model.js';
import { engineUnderTest, testKvCache } from '../helpers/engine-under-test.js';

/** Every event object the cache builds goes through these builders: count the calls. */
const built = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../src/engine/kv-cache/kv-event-builders.js', async (importOriginal) => {
  const real = await importOriginal<typeof Builders>();
  return {
    gpuBlocksStored: (...args: Parameters<typeof real.gpuBlocksStored>) => {
      built.n++;
      return real.gpuBlocksStored(...args);
    },
    offloadedBlockStored: (...args: Parameters<typeof real.offloadedBlockStored>) => {
      built.n++;
      return real.offloadedBlockStored(...args);
    },
    blockRemoved: (...args: Parameters<typeof real.blockRemoved>) => {
      built.n++;
      return real.blockRemoved(...args);
    },
  };
});

const perf: PerfModel = { stepMs: () => 5 };
const LIMITS = { perf, maxNumSeqs: 4, maxNumBatchedTokens: 64, maxWaiting: 100 };
const KV = { blockSize: 4, gpuBlocks: 24, hostBlocks: 8, diskBlocks: 8 };

/** Twelve distinct prompts through a small cache: keys, evictions, host and disk stores and evictions. */
function load(engine: Engine, clock: VirtualClock) {
  for (let r = 0; r < 12; r++) {
    const prompt = Array.from({ length: 30 }, (_, i) => r * 100 + i);
    engine.submit(
      {
        id: `r${r}`,
        promptTokenIds: prompt,
        outputTokenIds: [1, 2, 3, 4, 5],
        finishReason: 'length',
        modelName: 'm',
      },
      () => undefined,
    );
    clock.advanceTo(clock.now() + 12);
  }
  clock.runUntilIdle();
}

afterEach(() => {
  built.n = 0;
});

describe('KV events when nobody listens', () => {
  it('builds no event object and never gives the cache a sink, with no observer or a silent one', () => {
    for (const observer of [undefined, { onStep: () => undefined }, createObserverHub()] as const) {
      const kv = testKvCache(KV);
      const sinks: unknown[] = [];
      const setEventSink = kv.setEventSink.bind(kv);
      kv.setEventSink = (s) => {
        sinks.push(s);
        setEventSink(s);
      };
      const { clock, engine } = engineUnderTest({ ...LIMITS, kv, observer });
      load(engine, clock);
      engine.resetPrefixCache();
      expect(engine.stats().kvCache.evictions).toBeGreaterThan(0);
      expect(engine.stats().kvCache.hostEvictions).toBeGreaterThan(0);
      expect(engine.stats().kvCache.diskEvictions).toBeGreaterThan(0);
      expect(built.n).toBe(0);
      expect(sinks).toEqual([]);
    }
  });

  it('asks the observer once per step, and starts building events when it starts listening', () => {
    let listening = false;
    let asked = 0;
    let steps = 0;
    const batches: KvEventBatch[] = [];
    const observer: EngineObserver = {
      onStep: () => steps++,
      observesKvEvents: () => {
        asked++;
        return listening;
      },
      onKvEvents: (b) => batches.push(b),
    };
    const { clock, engine } = engineUnderTest({ ...LIMITS, kvCache: KV, observer });
    load(engine, clock);
    expect(built.n).toBe(0);
    expect(batches).toEqual([]);
    // One question per planned step (and per idle wake-up, which plans nothing).
    expect(asked).toBeGreaterThanOrEqual(steps);
    expect(asked).toBeLessThanOrEqual(steps + 12);

    listening = true;
    load(engine, clock);
    expect(built.n).toBeGreaterThan(0);
    expect(batches.length).toBeGreaterThan(0);
    const events = batches.flatMap((b) => b.events).length;
    listening = false;
    load(engine, clock);
    expect(batches.flatMap((b) => b.events).length).toBe(events);
  });

  it('copies no token ids when no listener wants them (a router index keys on hashes), and does when one does', () => {
    const storedTokens = (observer: EngineObserver) => {
      const batches: KvEventBatch[] = [];
      const hub = createObserverHub();
      hub.add({ ...observer, onKvEvents: (b) => batches.push(b) });
      const { clock, engine } = engineUnderTest({ ...LIMITS, kvCache: KV, observer: hub });
      load(engine, clock);
      const stored = batches
        .flatMap((b) => b.events)
        .filter((e) => e.type === 'BlockStored' && e.medium === 'GPU');
      expect(stored.length).toBeGreaterThan(0);
      return stored.map((e) => (e.type === 'BlockStored' ? e.tokenIds.length : -1));
    };
    // The same hashes either way; only the tokens differ.
    expect(
      storedTokens({ observesKvEvents: () => true, observesKvEventTokens: () => false }).every(
        (n) => n === 0,
      ),
    ).toBe(true);
    expect(storedTokens({ observesKvEvents: () => true }).every((n) => n > 0 && n % KV.blockSize === 0)).toBe(
      true,
    );
  });
});
