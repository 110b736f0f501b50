/**
 * LoRA in the engine, on the virtual clock: a batch mixes at most `maxLoras` distinct adapters
 * (vLLM's `scheduled_loras` check), other adapters' requests wait without holding up the rest,
 * each adapter's KV blocks are its own, its BlockStored events name it, and its tokens cost time.
 */
import { describe, expect, it } from 'vitest';
import type { EngineObserver } from '../../src/engine/engine.js';
import type { KvBlockStored } from '../../src/engine/kv-events.js';
import type { PerfModel } from '../../src/engine/perf-model.js';
import { createPromptBlockKeys } from '../../src/engine/prompt-blocks.js';
import type { EngineEvent, EngineLora, EngineRequest, RequestUsage } from '../../src/engine/types.js';
import { engineUnderTest, TEN_MS_STEPS } from '../helpers/engine-under-test.js';

const lora = (name: string, id: number, params = 1_000_000): EngineLora => ({ name, id, params });
const A = lora('a', 1);
const B = lora('b', 2);
const C = lora('c', 3);

function engineWith(opts: { maxLoras?: number; perf?: PerfModel; observer?: EngineObserver } = {}) {
  return engineUnderTest({ perf: TEN_MS_STEPS, ...opts, kvCache: { gpuBlocks: 4000 }, maxWaiting: 1000 });
}

const PROMPT = Array.from({ length: 64 }, (_, i) => 100 + i);

function request(
  id: string,
  adapter: EngineLora | undefined,
  outputTokens = 4,
  prompt = PROMPT,
): EngineRequest {
  return {
    id,
    promptTokenIds: prompt,
    outputTokenIds: Array.from({ length: outputTokens }, (_, i) => 1000 + i),
    finishReason: 'length',
    modelName: 'm',
    ...(adapter && { lora: adapter }),
  };
}

/** Submits and records when each request was scheduled and how it finished. */
function track(engine: ReturnType<typeof engineWith>['engine'], req: EngineRequest) {
  const seen: { scheduledMs?: number; usage?: RequestUsage; finishedMs?: number } = {};
  engine.submit(req, (ev: EngineEvent) => {
    if (ev.type === 'scheduled') seen.scheduledMs = ev.atMs;
    if (ev.type === 'finished') {
      seen.usage = ev.usage;
      seen.finishedMs = ev.timings.finishedMs;
    }
  });
  return seen;
}

describe('max LoRAs per batch', () => {
  it('skips a request of a third adapter and admits the base-model and known-adapter requests behind it', () => {
    const { clock, engine } = engineWith({ maxLoras: 2 });
    const a1 = track(engine, request('a1', A, 10));
    const b1 = track(engine, request('b1', B, 10));
    const c1 = track(engine, request('c1', C, 2));
    const base = track(engine, request('base', undefined, 2));
    const a2 = track(engine, request('a2', A, 2));
    clock.advanceTo(0);
    expect(a1.scheduledMs).toBe(0);
    expect(b1.scheduledMs).toBe(0);
    expect(base.scheduledMs).toBe(0);
    expect(a2.scheduledMs).toBe(0);
    expect(c1.scheduledMs).toBeUndefined();
    expect(engine.stats().loraAdapters).toEqual({ maxLoras: 2, running: ['a', 'b'], waiting: ['c'] });
    clock.runUntilIdle();
    // c waits for a slot: it enters the step after a1 and b1 finish (their 10th token ends the
    // step at 100 ms; a2 finished long before, but a1 kept a's slot).
    expect(c1.scheduledMs).toBe(100);
    expect(engine.stats().loraAdapters).toEqual({ maxLoras: 2, running: [], waiting: [] });
    expect(engine.stats().running).toBe(0);
  });

  it('never mixes more than max LoRAs adapters in the running set, and every request finishes', () => {
    const adapters = Array.from({ length: 6 }, (_, i) => lora(`l${i}`, i + 1));
    let widest = 0;
    const { clock, engine } = engineWith({
      maxLoras: 3,
      observer: {
        onStep: () => {
          const running = engine.stats().loraAdapters!.running;
          widest = Math.max(widest, running.length);
        },
      },
    });
    const all = Array.from({ length: 60 }, (_, i) =>
      track(engine, request(`r${i}`, i % 7 === 6 ? undefined : adapters[(i * 5) % 6], 1 + (i % 5))),
    );
    clock.runUntilIdle();
    for (const r of all) expect(r.finishedMs).toBeDefined();
    expect(widest).toBe(3);
    expect(engine.stats().kvBlocksInUse).toBe(0);
  });

  it('keeps FCFS among the requests it skips: the oldest of the waiting adapter goes first', () => {
    const { clock, engine } = engineWith({ maxLoras: 1 });
    const a = track(engine, request('a', A, 5));
    const b1 = track(engine, request('b1', B, 1));
    const b2 = track(engine, request('b2', B, 1));
    const c = track(engine, request('c', C, 1));
    clock.runUntilIdle();
    expect(a.scheduledMs).toBe(0);
    // b1 and b2 share the one slot once a is done; c waits for both.
    expect(b1.scheduledMs).toBe(b2.scheduledMs);
    expect(b1.scheduledMs!).toBeGreaterThan(0);
    expect(c.scheduledMs!).toBeGreaterThan(b1.scheduledMs!);
  });

  it('limits nothing without max LoRAs (LoRA off) and reports no adapters', () => {
    const { clock, engine } = engineWith();
    const r = [A, B, C].map((l, i) => track(engine, request(`r${i}`, l)));
    clock.advanceTo(0);
    for (const x of r) expect(x.scheduledMs).toBe(0);
    expect(engine.stats().loraAdapters).toBeUndefined();
  });
});

describe('LoRA and the prefix cache', () => {
  it('finds a prompt cached under the same adapter only: not across adapters nor with the base model', () => {
    const { clock, engine } = engineWith({ maxLoras: 4 });
    const first = track(engine, request('first', A));
    clock.runUntilIdle();
    expect(first.usage!.cachedTokens).toBe(0);
    const again = track(engine, request('again', A));
    const other = track(engine, request('other', B));
    const base = track(engine, request('base', undefined));
    clock.runUntilIdle();
    // 64 prompt tokens: 3 full blocks can hit (the last token is always computed).
    expect(again.usage!.cachedTokens).toBe(48);
    expect(other.usage!.cachedTokens).toBe(0);
    expect(base.usage!.cachedTokens).toBe(0);
    const baseAgain = track(engine, request('base-again', undefined));
    clock.runUntilIdle();
    expect(baseAgain.usage!.cachedTokens).toBe(48);
  });

  it('keys blocks per adapter in the router keys too, and the salt still splits one adapter', () => {
    const keys = createPromptBlockKeys('m', 16);
    const plain = keys(PROMPT);
    const a = keys(PROMPT, undefined, 'a');
    const b = keys(PROMPT, undefined, 'b');
    const aSalted = keys(PROMPT, 'tenant', 'a');
    expect(plain).toHaveLength(3);
    for (const k of [a, b, aSalted]) {
      expect(k).toHaveLength(3);
      for (let i = 0; i < 3; i++) expect(k[i]).not.toBe(plain[i]);
    }
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(aSalted);
    expect(keys(PROMPT, 'tenant')).not.toEqual(aSalted);
    // The same adapter gives the same keys: routers and caches agree.
    expect(keys(PROMPT, undefined, 'a')).toEqual(a);
  });

  it('publishes BlockStored events naming the adapter (lora_id, lora_name), none for the base model', () => {
    const stored: KvBlockStored[] = [];
    const { clock, engine } = engineWith({
      maxLoras: 2,
      observer: {
        observesKvEvents: () => true,
        onKvEvents: (batch) => {
          for (const ev of batch.events) if (ev.type === 'BlockStored') stored.push(ev);
        },
      },
    });
    track(engine, request('a', A, 1));
    clock.runUntilIdle();
    track(engine, request('base', undefined, 1));
    clock.runUntilIdle();
    expect(stored).toHaveLength(2);
    expect(stored[0]!.lora).toEqual({ id: 1, name: 'a' });
    expect(stored[1]!.lora).toBeUndefined();
    // Same tokens, different keys.
    expect(stored[0]!.blockHashes).toHaveLength(4);
    expect(stored[0]!.blockHashes.some((h) => stored[1]!.blockHashes.includes(h))).toBe(false);
  });
});

describe('LoRA step work', () => {
  it("counts each LoRA token's adapter parameters and each distinct adapter once", () => {
    const works: Parameters<PerfModel['stepMs']>[0][] = [];
    const { clock, engine } = engineWith({
      maxLoras: 4,
      perf: {
        stepMs: (w) => {
          works.push(w);
          return 10;
        },
      },
    });
    const a = lora('a', 1, 1000);
    const b = lora('b', 2, 300);
    track(engine, request('a1', a, 2));
    track(engine, request('a2', a, 2));
    track(engine, request('b1', b, 2));
    track(engine, request('base', undefined, 2));
    clock.runUntilIdle();
    // First step: four prefills; a2 finds a1's blocks, keyed as the step was planned, and computes
    // only the last 16 of its 64 tokens.
    expect(works[0]!.loraTokenParams).toBe((64 + 16) * 1000 + 64 * 300);
    expect(works[0]!.loraAdapterParams).toBe(1300);
    // Second: four decode tokens.
    expect(works[1]!.loraTokenParams).toBe(1000 * 2 + 300);
    expect(works[1]!.loraAdapterParams).toBe(1300);
  });

  it('leaves a step without LoRA requests as it always was', () => {
    const works: Parameters<PerfModel['stepMs']>[0][] = [];
    const { clock, engine } = engineWith({ maxLoras: 4, perf: { stepMs: (w) => (works.push(w), 10) } });
    track(engine, request('base', undefined, 2));
    clock.runUntilIdle();
    for (const w of works) {
      expect('loraTokenParams' in w).toBe(false);
      expect('loraAdapterParams' in w).toBe(false);
    }
  });
});
