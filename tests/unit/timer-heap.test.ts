/**
 * The clocks' timer queue (src/engine/timer-heap.ts) must hand timers out by due time, the ones
 * due at the same time in the order they were scheduled, under any interleaving of pushes and pops.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firesBefore, TimerHeap, type Timer } from '../../src/engine/timer-heap.js';

const timer = (atMs: number, seq: number): Timer => ({ atMs, seq, fn: undefined });

describe('timer heap', () => {
  it('pops by due time, then by scheduling order, past its initial capacity', () => {
    fc.assert(
      fc.property(
        // Few distinct times, so equal due times (FIFO) are common; pops mixed in (null).
        fc.array(fc.option(fc.integer({ min: 0, max: 20 }), { nil: null, freq: 4 }), { maxLength: 400 }),
        (ops) => {
          const heap = new TimerHeap();
          const model: Timer[] = [];
          let seq = 0;
          const popBoth = () => {
            model.sort((a, b) => (firesBefore(a, b) ? -1 : 1));
            const expected = model.shift();
            expect(heap.peek()).toBe(expected);
            expect(heap.peekAtMs()).toBe(expected?.atMs ?? Infinity);
            expect(heap.pop()).toBe(expected);
          };
          for (const op of ops) {
            if (op === null) popBoth();
            else {
              const t = timer(op, seq++);
              heap.push(t);
              model.push(t);
            }
            expect(heap.size).toBe(model.length);
          }
          while (model.length > 0) popBoth();
          expect(heap.pop()).toBeUndefined();
          expect(heap.peekAtMs()).toBe(Infinity);
        },
      ),
    );
  });

  it('keeps no timer it has handed out', () => {
    const heap = new TimerHeap();
    const timers = Array.from({ length: 100 }, (_, i) => timer(i % 7, i));
    for (const t of timers) heap.push(t);
    for (let i = 0; i < 100; i++) heap.pop();
    // Internal, but the point: positions emptied by pops hold a placeholder, not the fired timers.
    const held = (heap as unknown as { timers: Timer[] }).timers;
    expect(held.some((t) => timers.includes(t))).toBe(false);
  });
});
