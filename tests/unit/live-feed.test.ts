/**
 * The live page's feed (src/ui/live-feed.ts) on a virtual-clock engine, its ticks driven by fake
 * timers: idle (no timer, no snapshot read, no token events asked for) while no page is open; one
 * frame per tick that adds up the tick's steps and tokens exactly; stopped when the last page goes.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createVirtualClock } from '../../src/engine/clock.js';
import type { StepRecord } from '../../src/engine/engine.js';
import { createRuntime } from '../../src/runtime.js';
import { createLiveFeed } from '../../src/ui/live-feed.js';
import { LATENCY_BINS, binQuantile, latencyBin, latencyBinBounds } from '../../src/ui/latency-bins.js';

function setup(settings: Record<string, string> = {}) {
  const clock = createVirtualClock();
  const runtime = createRuntime(loadConfig({}, { kvCacheBlocks: '500', ...settings }), {
    clock,
    defaultJitter: 0,
  });
  let statsReads = 0;
  const replicas = (runtime.fleet?.replicas ?? [runtime.engine]).map((r) => ({
    stats: () => {
      statsReads++;
      return r.stats();
    },
    get routed() {
      return 'routed' in r ? r.routed : undefined;
    },
  }));
  const feed = createLiveFeed({
    observers: runtime.replicaObservers,
    replicas,
    now: () => clock.now(),
    info: {},
  });
  let next = 0;
  const submit = (promptTokens: number, outputTokens: number) =>
    runtime.engine.submit(
      {
        id: `r${next++}`,
        promptTokenIds: Array.from({ length: promptTokens }, (_, i) => 1000 + i),
        outputTokenIds: Array.from({ length: outputTokens }, (_, i) => 2000 + i),
        finishReason: 'length',
        modelName: 'm',
      },
      () => {},
    );
  return { clock, runtime, feed, submit, statsReads: () => statsReads };
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe('live feed', () => {
  it('costs nothing while no page is open: no timer, no snapshot, no token events asked for', () => {
    const { clock, runtime, feed, submit, statsReads } = setup();
    expect(runtime.replicaObservers[0]!.observesTokens!()).toBe(false);
    submit(100, 20);
    clock.runUntilIdle();
    vi.advanceTimersByTime(2000);
    expect(vi.getTimerCount()).toBe(0);
    expect(statsReads()).toBe(0);
    expect(feed.clients).toBe(0);
  });

  it('sends one frame per tick adding up exactly the steps and tokens of that tick', () => {
    const { clock, runtime, feed, submit } = setup();
    const frames: Record<string, unknown>[] = [];
    const unsubscribe = feed.subscribe(
      (json) => frames.push(JSON.parse(json) as Record<string, unknown>),
      () => {},
    );
    expect(frames[0]!['type']).toBe('hello');
    expect(frames[0]!['tiers']).toEqual([{ gpu: 500, host: 0, disk: 0 }]);
    expect(frames[0]!['latencyBinsMs']).toHaveLength(LATENCY_BINS);
    const steps: StepRecord[] = [];
    runtime.observers.add({ onStep: (s) => void steps.push(s) });
    // Token events are delivered per request (serve's default), so the feed sees each token.
    for (let i = 0; i < 3; i++) submit(64, 10);
    clock.runUntilIdle();
    vi.advanceTimersByTime(250);
    const tick = frames[1]!;
    expect(tick['type']).toBe('tick');
    const r = (tick['replicas'] as Record<string, number | number[]>[])[0]!;
    expect(r['steps']).toBe(steps.length);
    expect(r['decodeSeqs']).toBe(steps.reduce((a, s) => a + s.work.decodeSeqs, 0));
    // The first prompt computed; the two identical ones found its full blocks cached.
    expect(r['prefillTokens']).toBe(
      steps.reduce((a, s) => a + s.work.prefillChunks.reduce((b, c) => b + c.tokens, 0), 0),
    );
    expect(r['prefillTokens']).toBeLessThan(3 * 64);
    expect(r['hitTokens']).toBe(3 * 64 - (r['prefillTokens'] as number));
    expect(tick['tokens']).toBe(30);
    expect(tick['finished']).toBe(3);
    const count = (sparse: number[]) => sparse.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0);
    expect(count(tick['ttft'] as number[])).toBe(3);
    expect(count(tick['itl'] as number[])).toBe(27);
    // Finished: nothing in use, the full blocks cached (reusable), as the engine's snapshot says.
    expect(r['running']).toBe(0);
    const gpu = runtime.engine.stats().kvCache.gpu;
    expect(r['gpu']).toEqual([0, gpu.reusable, gpu.free]);
    expect(gpu.reusable).toBeGreaterThanOrEqual(4);
    expect(r['queryTokens']).toBe(3 * 64);
    expect(tick['simMs']).toBe(Math.round(clock.now() * 10) / 10);

    // The next tick carries only what happened since: nothing.
    vi.advanceTimersByTime(250);
    const quiet = (frames[2]!['replicas'] as Record<string, unknown>[])[0]!;
    expect([quiet['steps'], quiet['queryTokens'], frames[2]!['tokens']]).toEqual([0, 0, 0]);

    feed.noteFault('rate_limit');
    vi.advanceTimersByTime(250);
    expect((frames[3]!['faults'] as { type: string }[]).map((f) => f.type)).toEqual(['rate_limit']);

    unsubscribe!();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(frames).toHaveLength(4);
  });

  it('sends each replica of a fleet, and what the router sent it', () => {
    const { clock, feed, submit } = setup({ replicas: '3', router: 'round-robin' });
    const frames: Record<string, unknown>[] = [];
    feed.subscribe(
      (json) => frames.push(JSON.parse(json) as Record<string, unknown>),
      () => {},
    );
    for (let i = 0; i < 6; i++) submit(32, 4);
    clock.runUntilIdle();
    vi.advanceTimersByTime(250);
    const replicas = frames[1]!['replicas'] as { routed: number; steps: number }[];
    expect(replicas.map((r) => r.routed)).toEqual([2, 2, 2]);
    expect(replicas.every((r) => r.steps > 0)).toBe(true);
    feed.close();
  });

  it('refuses pages beyond its bound, and close() ends every one', () => {
    const { runtime, clock } = setup();
    const feed = createLiveFeed({
      observers: runtime.replicaObservers,
      replicas: [runtime.engine],
      now: () => clock.now(),
      info: {},
      maxClients: 2,
    });
    const closed: number[] = [];
    expect(
      feed.subscribe(
        () => {},
        () => closed.push(1),
      ),
    ).toBeDefined();
    expect(
      feed.subscribe(
        () => {},
        () => closed.push(2),
      ),
    ).toBeDefined();
    expect(feed.full).toBe(true);
    expect(
      feed.subscribe(
        () => {},
        () => {},
      ),
    ).toBeUndefined();
    feed.close();
    expect(closed).toEqual([1, 2]);
    expect(feed.clients).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('latency bins', () => {
  it('puts a latency in the bin whose bounds hold it, four bins per octave', () => {
    const bounds = latencyBinBounds();
    for (const ms of [0.3, 1, 5.2, 17, 250, 4000, 60000]) {
      const b = latencyBin(ms);
      expect(ms).toBeLessThan(bounds[b]!);
      if (b > 0) expect(ms).toBeGreaterThanOrEqual(bounds[b - 1]!);
    }
    expect(latencyBin(0)).toBe(0);
    expect(latencyBin(1e9)).toBe(LATENCY_BINS - 1);
    const counts = new Array<number>(LATENCY_BINS).fill(0);
    counts[latencyBin(10)] = 90;
    counts[latencyBin(100)] = 10;
    expect(binQuantile(counts, 0.5)! / 10).toBeGreaterThan(0.9);
    expect(binQuantile(counts, 0.5)! / 10).toBeLessThan(1.1);
    expect(binQuantile(counts, 0.99)! / 100).toBeCloseTo(1, 0);
    expect(binQuantile(new Array<number>(LATENCY_BINS).fill(0), 0.5)).toBeNull();
  });
});
