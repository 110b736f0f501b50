import { describe, expect, it } from 'vitest';

import { createTurnBudget } from '../../src/api/http/turn-budget.js';

/** Holds the CPU for `ms`, as a request's handler does. */
function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('the turn budget for new requests', () => {
  it('starts requests at once while the turn has budget left', () => {
    const budget = createTurnBudget(50);
    for (let i = 0; i < 10; i++) expect(budget.wait()).toBeUndefined();
  });

  it('lets a timer due during a burst run before the burst is over, and keeps arrival order', async () => {
    const budget = createTurnBudget(4);
    const events: string[] = [];
    // A step of the engine, due as the burst begins.
    setTimeout(() => events.push('timer'), 0);
    const started: Promise<void>[] = [];
    // 40 requests read in one poll phase, 1 ms of handling each.
    for (let i = 0; i < 40; i++) {
      const turn = budget.wait();
      const handle = () => {
        events.push(`r${i}`);
        burn(1);
      };
      if (turn === undefined) handle();
      else started.push(turn.then(handle));
    }
    // The first few fit in the turn's 4 ms; the rest waited.
    const atOnce = events.filter((e) => e.startsWith('r')).length;
    expect(atOnce).toBeGreaterThanOrEqual(1);
    expect(atOnce).toBeLessThanOrEqual(5);
    await Promise.all(started);
    const requests = events.filter((e) => e.startsWith('r'));
    expect(requests).toEqual(Array.from({ length: 40 }, (_, i) => `r${i}`));
    // The timer ran between the requests, not after all forty (40 ms of handling).
    const timerAt = events.indexOf('timer');
    expect(timerAt).toBeGreaterThan(0);
    expect(timerAt).toBeLessThan(20);
  });

  it('starts several waiting requests per later turn when they are cheap', async () => {
    // A budget roomy enough that the learning turn fits even if the machine preempts this process.
    const budget = createTurnBudget(40);
    // Learn the cost: requests of ~0.2 ms started within a turn.
    for (let i = 0; i < 10; i++) {
      expect(budget.wait()).toBeUndefined();
      burn(0.2);
    }
    burn(45); // the turn's budget is spent
    const waiting = Array.from({ length: 30 }, () => budget.wait());
    expect(waiting.every((w) => w !== undefined)).toBe(true);
    let turns = 0;
    let done = 0;
    for (const w of waiting) void w!.then(() => done++);
    while (done < waiting.length) {
      await new Promise((r) => setImmediate(r));
      turns++;
    }
    // One per turn would take 30 turns.
    expect(turns).toBeLessThan(15);
  });
});
