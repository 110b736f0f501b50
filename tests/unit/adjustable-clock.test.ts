import { describe, expect, it } from 'vitest';
import { createAdjustableClock } from '../../src/engine/clock.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const turn = () => new Promise((r) => setImmediate(r));

describe('adjustable clock', () => {
  it('at scale 0 fires timers in time order without waiting, advancing simulated time to each', async () => {
    const clock = createAdjustableClock(0);
    const fired: [string, number][] = [];
    clock.schedule(5_000, () => fired.push(['b', clock.now()]));
    clock.schedule(1_000, () => fired.push(['a', clock.now()]));
    const start = performance.now();
    for (let i = 0; i < 5; i++) await turn();
    expect(fired).toEqual([
      ['a', 1_000],
      ['b', 5_000],
    ]);
    expect(performance.now() - start).toBeLessThan(200);
  });

  it('at scale 100 waits a hundredth of the simulated time', async () => {
    const clock = createAdjustableClock(100);
    const start = performance.now();
    const firedAtMs = await new Promise<number>((resolve) =>
      clock.schedule(clock.now() + 5_000, () => resolve(performance.now() - start)),
    );
    expect(firedAtMs).toBeGreaterThanOrEqual(45);
    expect(firedAtMs).toBeLessThan(400);
  });

  it('switching from real time to 0 fires a pending timer at once, at its own simulated time', async () => {
    const clock = createAdjustableClock(1);
    let firedAt: number | undefined;
    const due = clock.now() + 60_000;
    clock.schedule(due, () => (firedAt = clock.now()));
    await wait(5);
    expect(firedAt).toBeUndefined();
    clock.setTimeScale(0);
    await turn();
    await turn();
    expect(firedAt).toBe(due);
    expect(clock.timeScale).toBe(0);
  });

  it('switching from 0 to real time continues from the current simulated time, never backwards', async () => {
    const clock = createAdjustableClock(0);
    clock.schedule(10_000, () => {});
    await turn();
    await turn();
    expect(clock.now()).toBe(10_000);
    clock.setTimeScale(1_000);
    const t0 = clock.now();
    expect(t0).toBeGreaterThanOrEqual(10_000);
    await wait(20);
    expect(clock.now()).toBeGreaterThanOrEqual(t0 + 10_000);
  });

  it('does not fire a cancelled timer', async () => {
    const clock = createAdjustableClock(0);
    let fired = 0;
    const cancel = clock.schedule(100, () => fired++);
    clock.schedule(200, () => fired++);
    cancel();
    for (let i = 0; i < 4; i++) await turn();
    expect(fired).toBe(1);
  });

  it('refuses a negative scale', () => {
    expect(() => createAdjustableClock(-1)).toThrow(RangeError);
    expect(() => createAdjustableClock(1).setTimeScale(Number.NaN)).toThrow(RangeError);
  });
});
