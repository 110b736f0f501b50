import { describe, expect, it } from 'vitest';

import type { FinishedRequest } from '../../src/engine/engine.js';
import { FrontendIntake } from '../../src/engine/frontend-intake.js';
import type { PerfModel } from '../../src/engine/perf-model.js';
import { Sequence } from '../../src/engine/sequence.js';
import { engineUnderTest } from '../helpers/engine-under-test.js';

const request = (id: string, outputTokens = 2) => ({
  id,
  promptTokenIds: [1, 2, 3],
  outputTokenIds: Array.from({ length: outputTokens }, (_, i) => 10 + i),
  finishReason: 'length' as const,
  modelName: 'm',
});

const seq = (id: number, arrivalMs = 0) => new Sequence(id, request(`r${id}`), arrivalMs, () => {});

describe('FrontendIntake', () => {
  it('takes requests in one after another when nothing streams', () => {
    const intake = new FrontendIntake(2, 0.1);
    for (let i = 1; i <= 3; i++) intake.add(seq(i));
    const done: Sequence[] = [];
    // The head has the CPU to itself: 2 ms, then the next.
    expect(intake.shareIdle(done)).toBe(2);
    expect(done.map((s) => s.seqId)).toEqual([1]);
    expect(intake.shareIdle(done)).toBe(2);
    expect(done.map((s) => s.seqId)).toEqual([1, 2]);
    expect(intake.size).toBe(1);
  });

  it("uses a GPU-bound step's spare CPU, in arrival order, without lengthening the step", () => {
    const intake = new FrontendIntake(2, 0.1);
    for (let i = 1; i <= 3; i++) intake.add(seq(i));
    const done: Sequence[] = [];
    // 10 streams use 1 ms of a 4.5 ms step: 3.5 ms spare, one request in and 1.5 ms into the next.
    expect(intake.shareStep(4.5, 10, done)).toBe(4.5);
    expect(done.map((s) => s.seqId)).toEqual([1]);
    // The second needs 0.5 ms more, the third 2: a 2 ms step with 10 streams leaves 1 ms.
    expect(intake.shareStep(2, 10, done)).toBe(2);
    expect(done.map((s) => s.seqId)).toEqual([1, 2]);
    expect(intake.size).toBe(1);
  });

  it('gets one stream-sized share per request in intake once the streams fill the CPU', () => {
    const intake = new FrontendIntake(2, 0.1);
    for (let i = 1; i <= 4; i++) intake.add(seq(i));
    const done: Sequence[] = [];
    // 100 streams need 10 ms, more than the 5 ms GPU step: the step waits for them, and the four
    // requests in intake get a stream's share each (0.4 ms in all), which lengthens it to 10.4 ms.
    expect(intake.shareStep(5, 100, done)).toBeCloseTo(10.4, 9);
    expect(done).toEqual([]);
    // So the head needs 2 / 0.4 = 5 such steps: intake lasts intakeMs / msPerSeq steps per request.
    for (let step = 2; step <= 5; step++) intake.shareStep(5, 100, done);
    expect(done.map((s) => s.seqId)).toEqual([1]);
  });

  it('gives no step that began before a request arrived a share of it (a real clock catching up on lag)', () => {
    const intake = new FrontendIntake(2, 0.1);
    intake.add(seq(1, 0));
    intake.add(seq(2, 100)); // arrived (wall clock) while the engine's timeline was still at 50
    const done: Sequence[] = [];
    // The step that starts at 50 on the timeline serves only the request that existed by then:
    // 3.5 ms spare of a 4.5 ms step with 10 streams, 2 of them the first request's.
    expect(intake.shareStep(4.5, 10, done, 50)).toBe(4.5);
    expect(done.map((s) => s.seqId)).toEqual([1]);
    // Another step before 100 leaves the second untouched: no spare CPU spent, no length added.
    expect(intake.shareStep(1, 20, done, 60)).toBe(1);
    expect(intake.size).toBe(1);
    // Idle from 60: the span waits for its arrival at 100, then takes it in (2 ms).
    expect(intake.shareIdle(done, 60)).toBe(42);
    expect(done.map((s) => s.seqId)).toEqual([1, 2]);
  });

  it('forgets a request removed during intake', () => {
    const intake = new FrontendIntake(2, 0.1);
    const a = seq(1);
    intake.add(a);
    intake.add(seq(2));
    expect(intake.remove(a)).toBe(true);
    expect(intake.remove(a)).toBe(false);
    const done: Sequence[] = [];
    intake.shareIdle(done);
    expect(done.map((s) => s.seqId)).toEqual([2]);
  });
});

function engineWith(perf: PerfModel) {
  const finished: FinishedRequest[] = [];
  const { clock, engine } = engineUnderTest({
    perf,
    maxWaiting: 100,
    observer: { onFinished: (f) => finished.push(f) },
  });
  return { clock, engine, finished };
}

describe('engine with a front-end intake', () => {
  const perf: PerfModel = { stepMs: () => 5, frontend: { intakeMs: 2, msPerSeq: 0.1 } };

  it('counts the intake in the time to first token', () => {
    const { clock, engine, finished } = engineWith(perf);
    engine.submit(request('a'), () => {});
    clock.runUntilIdle();
    // 2 ms of intake on an idle engine, then a 5 ms step gives the first token.
    expect(finished[0]!.timings.scheduledMs).toBe(2);
    expect(finished[0]!.timings.firstTokenMs).toBe(7);
    expect(finished[0]!.timings.finishedMs).toBe(12);
  });

  it('takes a burst in one at a time, each joining the step after its intake', () => {
    const { clock, engine, finished } = engineWith(perf);
    for (const id of ['a', 'b', 'c', 'd']) engine.submit(request(id), () => {});
    clock.runUntilIdle();
    const scheduled = Object.fromEntries(finished.map((f) => [f.request.id, f.timings.scheduledMs]));
    // a: in at 2 ms, alone on the CPU. a's first step (2 → 7) streams one sequence and leaves
    // 4.9 ms: b and c are taken in, d gets 0.9 ms and finishes in the next step (7 → 12).
    expect(scheduled).toEqual({ a: 2, b: 7, c: 7, d: 12 });
  });

  it('counts requests in intake as waiting, and ends an aborted one without the scheduler', () => {
    const { clock, engine, finished } = engineWith(perf);
    const abort = engine.submit(request('a'), () => {});
    expect(engine.stats().waiting).toBe(1);
    expect(engine.waitingRoom()).toBe(99);
    abort();
    expect(finished.map((f) => [f.request.id, f.reason])).toEqual([['a', 'abort']]);
    clock.runUntilIdle();
    expect(engine.stats().waiting).toBe(0);
    expect(engine.stats().steps).toBe(0);
  });

  it('has none without a front end: a request joins the first step at once', () => {
    const { clock, engine, finished } = engineWith({ stepMs: () => 5 });
    engine.submit(request('a'), () => {});
    clock.runUntilIdle();
    expect(finished[0]!.timings.firstTokenMs).toBe(5);
  });
});
