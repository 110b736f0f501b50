/**
 * The front end's intake on a real clock that fires late (a blocked event loop): the engine keeps
 * the ideal timeline `simulate` follows — an idle intake span's delay is made up like a step's, a
 * request shares no span that began before it arrived — and a request taken in by the step in
 * flight still counts against the waiting bound.
 */
import { describe, expect, it } from 'vitest';

import type { Clock } from '../../src/engine/clock.js';
import { createVirtualClock } from '../../src/engine/clock.js';
import { EngineError } from '../../src/engine/errors.js';
import type { EngineEvent } from '../../src/engine/types.js';
import { engineUnderTest } from '../helpers/engine-under-test.js';

/** A clock whose timers fire only when the test lets the "event loop" run, late if it says so. */
function lateClock() {
  let nowMs = 0;
  const timers: { atMs: number; fn: () => void }[] = [];
  const clock: Clock = {
    now: () => nowMs,
    schedule(atMs, fn) {
      const t = { atMs, fn };
      timers.push(t);
      return () => {
        const i = timers.indexOf(t);
        if (i >= 0) timers.splice(i, 1);
      };
    },
  };
  return {
    clock,
    /** The wall clock moves to `ms` without any timer firing (the event loop is busy). */
    block(ms: number) {
      nowMs = ms;
    },
    /** The loop runs on time from now to `ms`: each timer fires when due. */
    runOnTimeTo(ms: number) {
      for (;;) {
        timers.sort((a, b) => a.atMs - b.atMs);
        if (timers.length === 0 || timers[0]!.atMs > ms) break;
        nowMs = Math.max(nowMs, timers[0]!.atMs);
        timers.shift()!.fn();
      }
      nowMs = ms;
    },
    /** The loop is free again: every due timer fires, in time order, each seeing the late now. */
    runDue() {
      for (;;) {
        timers.sort((a, b) => a.atMs - b.atMs);
        if (timers.length === 0 || timers[0]!.atMs > nowMs) return;
        timers.shift()!.fn();
      }
    },
  };
}

const INTAKE_MS = 2;
const STEP_MS = 5;

function engineOn(clock: Clock, maxWaiting = 64, maxNumSeqs = 64) {
  return engineUnderTest({
    clock,
    perf: { stepMs: () => STEP_MS, frontend: { intakeMs: INTAKE_MS, msPerSeq: 0.01 } },
    kvCache: { enableReuse: false },
    maxNumSeqs,
    maxWaiting,
  }).engine;
}

const request = (id: string, outputTokens = 3) => ({
  id,
  promptTokenIds: [1, 2, 3],
  outputTokenIds: Array.from({ length: outputTokens }, (_, i) => 10 + i),
  finishReason: 'length' as const,
  modelName: 'm',
});

/** Submits `id` and returns the times its events carry. */
function track(engine: ReturnType<typeof engineOn>, id: string, outputTokens = 3) {
  const tokensAt: number[] = [];
  let scheduledAt: number | undefined;
  engine.submit(request(id, outputTokens), (ev: EngineEvent) => {
    if (ev.type === 'scheduled') scheduledAt = ev.atMs;
    if (ev.type === 'tokens') tokensAt.push(ev.atMs);
  });
  return {
    tokensAt,
    get scheduledAt() {
      return scheduledAt;
    },
  };
}

describe('the front end on a late real clock', () => {
  it('makes up an idle intake span fired late, as simulate times it', () => {
    // Reference: the virtual clock (simulate), one request arriving at 0.
    const vclock = createVirtualClock();
    const reference = track(engineOn(vclock), 'a');
    vclock.runUntilIdle();

    const late = lateClock();
    const engine = engineOn(late.clock);
    const a = track(engine, 'a');
    late.runDue(); // the wake-up at 0: the intake span 0 → 2 is planned
    late.block(40); // the loop is blocked for 40 ms: the span's end fires 38 ms late
    late.runDue();
    late.runOnTimeTo(1000);
    expect(reference.scheduledAt).toBe(INTAKE_MS);
    expect(a.scheduledAt).toBe(reference.scheduledAt);
    expect(a.tokensAt).toEqual(reference.tokensAt);
  });

  it("gives no span that began before a request's arrival a share of its intake", () => {
    // Reference: a at 0, b at 30, on the virtual clock.
    const vclock = createVirtualClock();
    const vengine = engineOn(vclock);
    const ra = track(vengine, 'a', 20);
    vclock.advanceTo(30);
    const rb = track(vengine, 'b', 20);
    vclock.runUntilIdle();

    // Live: the loop is blocked from 12 to 60; b's request is read at 30 (its arrival) while the
    // engine's timers wait, then the timeline catches up from 12.
    const late = lateClock();
    const engine = engineOn(late.clock);
    const a = track(engine, 'a', 20);
    late.block(12);
    late.runDue();
    late.block(30);
    const b = track(engine, 'b', 20);
    late.block(60);
    late.runDue();
    late.runOnTimeTo(10_000);
    expect(b.scheduledAt).toBe(rb.scheduledAt);
    expect(b.tokensAt).toEqual(rb.tokensAt);
    expect(a.tokensAt).toEqual(ra.tokensAt);
  });

  it('counts a request taken in by the step in flight against the waiting bound', () => {
    const clock = createVirtualClock();
    const engine = engineOn(clock, 1, 1);
    track(engine, 'running', 50);
    clock.advanceTo(INTAKE_MS + 1); // taken in, admitted: running the only slot
    expect(engine.stats().running).toBe(1);
    track(engine, 'second', 5);
    // The next step takes the second request in; until that step ends it is neither in intake nor
    // in the scheduler's queue, but it waits all the same.
    clock.advanceTo(INTAKE_MS + STEP_MS + 2);
    expect(engine.stats().waiting).toBe(1);
    expect(() => engine.submit(request('third'), () => {})).toThrow(EngineError);
  });
});
