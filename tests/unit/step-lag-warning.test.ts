import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/engine/clock.js';
import { createObserverHub } from '../../src/engine/observer-hub.js';
import { createStepLagWarning, STEP_LAG_WARNING_MS } from '../../src/engine/step-lag-warning.js';
import type { StepRecord } from '../../src/engine/engine.js';
import { createLogger } from '../../src/logging.js';
import { engineUnderTest, TEN_MS_STEPS } from '../helpers/engine-under-test.js';

/**
 * An engine on a virtual clock whose timers fire `late.ms` after their due time (a busy host), a
 * logger that keeps its JSON lines, the warning observer rate-limited on that clock, and a record
 * of every step.
 */
function laggingEngine() {
  const inner = createVirtualClock();
  const late = { ms: 0 };
  const clock = {
    now: () => inner.now(),
    schedule: (at: number, fn: () => void) => inner.schedule(at + late.ms, fn),
  };
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('INFO', true, (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const steps: StepRecord[] = [];
  const hub = createObserverHub();
  hub.add(createStepLagWarning({ warn: (m, f) => logger.warn(m, f), now: () => inner.now() }));
  hub.add({ onStep: (s) => steps.push(s) });
  const { engine } = engineUnderTest({
    clock,
    perf: TEN_MS_STEPS,
    kvCache: { gpuBlocks: 10_000, enableReuse: false },
    maxNumSeqs: 8,
    maxWaiting: 8,
    observer: hub,
  });
  engine.submit(
    {
      id: 'long',
      promptTokenIds: [1, 2, 3, 4],
      outputTokenIds: Array.from({ length: 5000 }, (_, i) => 100 + i),
      finishReason: 'length',
      modelName: 'm',
    },
    () => {},
  );
  const warnings = () => lines.filter((l) => l['level'] === 'WARNING');
  return { inner, late, warnings, steps };
}

describe('step lag warning', () => {
  it('warns once when steps run late, then at most once per 30 s with the late steps in between', () => {
    const { inner, late, warnings, steps } = laggingEngine();
    inner.advanceTo(1000);
    expect(steps.length).toBeGreaterThan(90);
    expect(warnings()).toEqual([]);

    // Past the engine's catch-up bound, so every step is re-anchored and the next one is as late
    // (a debt within the bound would be made up: engine.test.ts).
    late.ms = 300;
    inner.advanceTo(1400);
    const first = steps.findIndex((s) => s.lagMs > 0);
    expect(steps[first]!.lagMs).toBe(300);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({
      level: 'WARNING',
      lag_ms: 300,
      max_lag_ms: 300,
      late_steps: 1,
      threshold_ms: STEP_LAG_WARNING_MS,
    });
    expect(warnings()[0]!['message']).toMatch(/^engine steps are running late/);
    // The step ended 300 ms after its ideal end: that is when it was reported.
    const firstAt = steps[first]!.startMs + steps[first]!.durationMs + 300;

    // Nothing more within 30 s of the first warning, however many steps are late…
    inner.advanceTo(firstAt + 29_999);
    expect(warnings()).toHaveLength(1);
    const lateBefore = steps.filter((s) => s.lagMs > STEP_LAG_WARNING_MS).length;
    // A step every 310 ms (10 ms, then 300 late): 96 of them in the 30 s.
    expect(lateBefore).toBeGreaterThan(90);

    // …then one, counting every late step since the first warning, itself included (the 97th
    // step after the first comes 30,070 ms after it).
    inner.advanceTo(firstAt + 30_100);
    expect(warnings()).toHaveLength(2);
    const lateAll = steps.filter((s) => s.lagMs > STEP_LAG_WARNING_MS).length;
    expect(lateAll).toBe(lateBefore + 1);
    expect(warnings()[1]).toMatchObject({ lag_ms: 300, max_lag_ms: 300, late_steps: lateAll - 1 });
  });

  it('counts a step late only past the threshold and reports the worst lag since the last warning', () => {
    const warned: Record<string, number>[] = [];
    let now = 0;
    const w = createStepLagWarning({ warn: (_m, f) => warned.push(f), now: () => now });
    const step = (lagMs: number) =>
      w.onStep!({
        startMs: 0,
        durationMs: 10,
        lagMs,
        preemptions: 0,
        kvUsage: 0,
        work: { decodeSeqs: 1, decodeContextTokens: 0, prefillChunks: [], hostLoadTokens: 0 },
      });
    step(STEP_LAG_WARNING_MS);
    expect(warned).toEqual([]);
    step(STEP_LAG_WARNING_MS + 0.5);
    expect(warned).toEqual([{ lag_ms: 50.5, max_lag_ms: 50.5, late_steps: 1, threshold_ms: 50 }]);
    now = 10_000;
    step(400);
    step(49);
    now = 30_000;
    step(60);
    expect(warned[1]).toEqual({ lag_ms: 60, max_lag_ms: 400, late_steps: 2, threshold_ms: 50 });
  });
});
