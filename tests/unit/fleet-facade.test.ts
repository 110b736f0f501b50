/**
 * The fleet as an Engine (src/fleet/fleet.ts): replicas on one virtual clock behind one submit,
 * the replica told synchronously, stats summed, drain of all, and a reset of one replica alone.
 */
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/engine/clock.js';
import type { FinishedRequest } from '../../src/engine/engine.js';
import { createPromptBlockKeys } from '../../src/engine/prompt-blocks.js';
import type { EngineRequest, EngineStats } from '../../src/engine/types.js';
import { createFleet, type Fleet } from '../../src/fleet/fleet.js';
import type { RouterName } from '../../src/fleet/router.js';
import { loadConfig } from '../../src/config/config.js';
import { createRuntime } from '../../src/runtime.js';
import { engineUnderTest } from '../helpers/engine-under-test.js';

const BLOCK = 16;

function fleetOf(size: number, router: RouterName, clock = createVirtualClock()) {
  const steps: number[] = [];
  const finished: FinishedRequest[] = [];
  const fleet = createFleet({
    size,
    createReplica: (_i, observer) =>
      engineUnderTest({
        clock,
        kvCache: { blockSize: BLOCK, gpuBlocks: 200 },
        maxNumSeqs: 4,
        maxNumBatchedTokens: 4096,
        maxWaiting: 8,
        observer,
      }).engine,
    router,
    kvRouter: { overlapScoreWeight: 1, routerTemperature: 0 },
    seed: 0,
    blockSize: BLOCK,
    blockKeys: createPromptBlockKeys('m', BLOCK),
    observer: { onStep: (s) => steps.push(s.durationMs), onFinished: (d) => finished.push(d) },
  });
  return { fleet, clock, steps, finished };
}

let n = 0;
function send(fleet: Fleet, prompt: number[], output = 4) {
  const req: EngineRequest = {
    id: `f${n++}`,
    promptTokenIds: prompt,
    outputTokenIds: Array.from({ length: output }, (_, i) => 7 + i),
    finishReason: 'length',
    modelName: 'm',
  };
  const got: { replica?: number; done?: FinishedRequest; eventsBeforeRouted: number } = {
    eventsBeforeRouted: 0,
  };
  let events = 0;
  fleet.submit(
    req,
    (ev) => {
      events++;
      if (ev.type === 'finished') got.done = ev;
    },
    undefined,
    {
      tokenEvents: false,
      onRouted: (r) => {
        got.replica = r;
        got.eventsBeforeRouted = events;
      },
    },
  );
  return got;
}

const prompt = (start: number, len = 160) => Array.from({ length: len }, (_, i) => start + i);

describe('fleet facade', () => {
  it('says which replica took each request before any event, and sums the replicas in stats()', () => {
    const { fleet, clock, finished } = fleetOf(3, 'round-robin');
    const sent = [0, 1, 2, 3, 4].map((i) => send(fleet, prompt(1000 * i)));
    expect(sent.map((s) => s.replica)).toEqual([0, 1, 2, 0, 1]);
    expect(sent.every((s) => s.eventsBeforeRouted === 0)).toBe(true);
    const waiting = fleet.stats();
    expect(waiting.waiting).toBe(5);
    expect(fleet.replicas.map((r) => r.stats().waiting)).toEqual([2, 2, 1]);
    clock.runUntilIdle();
    expect(finished).toHaveLength(5);
    const per = fleet.replicas.map((r) => r.stats());
    const total = fleet.stats();
    const sum = (f: (s: EngineStats) => number) => per.reduce((a, s) => a + f(s), 0);
    expect(total.steps).toBe(sum((s) => s.steps));
    expect(total.maxNumSeqs).toBe(12);
    expect(total.kvBlocksTotal).toBe(600);
    expect(total.kvCache.queryTokens).toBe(sum((s) => s.kvCache.queryTokens));
    expect(total.kvCache.gpu.cached).toBe(sum((s) => s.kvCache.gpu.cached));
    expect(fleet.replicas.map((r) => r.routed)).toEqual([2, 2, 1]);
    expect(fleet.waitingRoom()).toBe(24);
  });

  it('kv-aware: a repeated prompt goes back to the replica that cached it and hits', () => {
    const { fleet, clock } = fleetOf(4, 'kv-aware');
    const first = send(fleet, prompt(0));
    clock.runUntilIdle();
    // Busy the other replicas lightly with unrelated prompts, then repeat the first.
    for (let i = 1; i <= 3; i++) send(fleet, prompt(10_000 * i, 40), 50);
    const again = send(fleet, prompt(0).concat([5, 6, 7]));
    clock.runUntilIdle();
    expect(again.replica).toBe(first.replica);
    expect(again.done!.usage.cachedTokens).toBe(160);
    expect(fleet.routing()).toEqual({ predictedCachedTokens: 160, actualCachedTokens: 160 });
  });

  it('resets one replica alone: its cache and the router’s view of it', () => {
    const { fleet, clock } = fleetOf(2, 'round-robin');
    send(fleet, prompt(0));
    send(fleet, prompt(0));
    clock.runUntilIdle();
    const cached = (i: number) => fleet.replicas[i]!.stats().kvCache.gpu.cached;
    expect(cached(0)).toBeGreaterThan(0);
    expect(cached(1)).toBe(cached(0));
    fleet.replicas[1]!.resetPrefixCache();
    expect(cached(1)).toBe(0);
    expect(cached(0)).toBeGreaterThan(0);
    fleet.resetPrefixCache();
    expect(cached(0)).toBe(0);
  });

  it('drains every replica', async () => {
    const { fleet, clock } = fleetOf(2, 'least-loaded');
    const sent = [0, 1, 2, 3].map((i) => send(fleet, prompt(500 * i), 20));
    const drained = fleet.drain(60_000);
    expect(() => send(fleet, prompt(9))).toThrow(/shutting down/);
    clock.runUntilIdle();
    await drained;
    expect(sent.every((s) => s.done?.reason === 'length')).toBe(true);
    expect(new Set(sent.map((s) => s.replica))).toEqual(new Set([0, 1]));
  });

  it('passes a full queue on as queue_full, counting nothing as routed', () => {
    const { fleet } = fleetOf(1, 'round-robin');
    for (let i = 0; i < 8; i++) send(fleet, prompt(100 * i));
    expect(() => send(fleet, prompt(5))).toThrow(/queue is full/);
    expect(fleet.replicas[0]!.routed).toBe(8);
  });
});

describe('runtime', () => {
  it('is one engine with one replica, a fleet behind runtime.engine with more', () => {
    const one = createRuntime(loadConfig({}), { clock: createVirtualClock(), defaultJitter: 0 });
    expect(one.fleet).toBeUndefined();
    const many = createRuntime(loadConfig({ NIMSIM_REPLICAS: '3', NIMSIM_ROUTER: 'session' }), {
      clock: createVirtualClock(),
      defaultJitter: 0.03,
    });
    expect(many.fleet).toBe(many.engine);
    expect(many.fleet!.router).toBe('session');
    expect(many.fleet!.replicas).toHaveLength(3);
    expect(many.engine.stats().kvBlocksTotal).toBe(3 * one.engine.stats().kvBlocksTotal);
    many.jitter.setSigma(0);
    expect(many.jitter.sigma).toBe(0);
  });
});
