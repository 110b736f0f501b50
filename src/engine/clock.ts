/**
 * The engine's injected clock. Time is simulated milliseconds. Two kinds share one interface:
 * - virtual: time moves only when `runUntilIdle`/`advanceTo` is called (`simulate`, unit tests);
 * - adjustable (`serve`): at a time scale > 0, simulated time = wall time × scale; at 0, timers
 *   fire back to back on the event loop without waiting while timestamps still add up. The scale
 *   can change at run time (PATCH /admin/config).
 */
import { firesBefore, TimerHeap, type Timer } from './timer-heap.js';

export interface Clock {
  /** Current simulated time in ms. */
  now(): number;
  /** Calls `fn` once the simulated time reaches `atMs` (on a later turn if it is already past). */
  schedule(atMs: number, fn: () => void): Cancel;
}

export type Cancel = () => void;

export interface VirtualClock extends Clock {
  /** Fire timers in time order until none is left (or `limitMs` is reached); returns the final time. */
  runUntilIdle(limitMs?: number): number;
  /** Fire every timer due up to `atMs`, then set the time to `atMs`. */
  advanceTo(atMs: number): void;
  /**
   * Fire at most `maxTimers` timers in time order; true while some are left. Running in such
   * slices fires the very same timers in the same order as runUntilIdle, with room between them
   * (`simulate` reports its progress there).
   */
  runSome(maxTimers: number): boolean;
}

export function createVirtualClock(startMs = 0): VirtualClock {
  let nowMs = startMs;
  let seq = 0;
  const heap = new TimerHeap();
  const fireNext = (): boolean => {
    const t = heap.pop();
    if (!t) return false;
    if (t.atMs > nowMs) nowMs = t.atMs;
    const fn = t.fn;
    t.fn = undefined;
    fn?.();
    return true;
  };
  return {
    now: () => nowMs,
    schedule(atMs, fn) {
      const t: Timer = { atMs: Math.max(atMs, nowMs), seq: seq++, fn };
      heap.push(t);
      return () => {
        t.fn = undefined;
      };
    },
    runUntilIdle(limitMs = Infinity) {
      while (heap.size > 0 && heap.peekAtMs() <= limitMs) fireNext();
      return nowMs;
    },
    advanceTo(atMs) {
      while (heap.size > 0 && heap.peekAtMs() <= atMs) fireNext();
      if (atMs > nowMs) nowMs = atMs;
    },
    runSome(maxTimers) {
      for (let i = 0; i < maxTimers && fireNext(); i++);
      return heap.size > 0;
    },
  };
}

/** Wall time the immediate mode (time scale 0) spends firing timers before yielding to I/O. */
const IMMEDIATE_SLICE_MS = 1;

/** A clock whose time scale can change while it runs (PATCH /admin/config). */
export interface AdjustableClock extends Clock {
  readonly timeScale: number;
  /**
   * Switches the scale: > 0 runs on wall time × scale, 0 fires timers without waiting. Simulated
   * time continues from where it is (it is re-anchored, never jumps), and pending timers keep
   * their simulated due times, so the engine's ideal timeline is unaffected.
   */
  setTimeScale(timeScale: number): void;
}

/**
 * The `serve` clock: one heap of timers and one armed host timer. At scale > 0 timers fire at
 * wall time × scale; at 0 without waiting; `setTimeScale` moves between them at run time.
 */
export function createAdjustableClock(initialTimeScale: number): AdjustableClock {
  if (!(initialTimeScale >= 0)) throw new RangeError('createAdjustableClock needs a time scale >= 0');
  let scale = initialTimeScale;
  // Real mode: sim = anchorSimMs + (wall - anchorWallMs) × scale. Immediate mode: sim = anchorSimMs,
  // advanced to each timer's due time as it fires.
  let anchorSimMs = 0;
  let anchorWallMs = performance.now();
  let seq = 0;
  const heap = new TimerHeap();
  let armed: { cancel: () => void } | undefined;

  const now = () => (scale > 0 ? anchorSimMs + (performance.now() - anchorWallMs) * scale : anchorSimMs);

  const fireDue = () => {
    armed = undefined;
    if (scale > 0) {
      const t = now();
      // Everything due by now fires in this turn, in time order (as separate setTimeouts would).
      while (heap.size > 0 && heap.peekAtMs() <= t) fire(heap.pop()!);
    } else {
      // Timers back to back for a short slice of wall time, then yield so I/O (new requests,
      // writes to clients) interleaves. One timer per turn made a 16-token request wait 17 loop
      // turns, and the server sat idle between them.
      const until = performance.now() + IMMEDIATE_SLICE_MS;
      do {
        const timer = heap.pop();
        if (!timer) break;
        if (timer.atMs > anchorSimMs) anchorSimMs = timer.atMs;
        fire(timer);
      } while (scale === 0 && performance.now() < until);
    }
    arm();
  };

  const fire = (timer: Timer) => {
    const fn = timer.fn;
    timer.fn = undefined;
    fn?.();
  };

  const arm = () => {
    armed?.cancel();
    armed = undefined;
    // Cancelled timers are dropped lazily; skip them before arming.
    while (heap.size > 0 && heap.peek()!.fn === undefined) heap.pop();
    const next = heap.peek();
    if (!next) return;
    const delayMs = scale > 0 ? (next.atMs - now()) / scale : 0;
    if (delayMs < 1) {
      // Node's timers have 1 ms resolution; a sub-ms wait is better served on the next turn.
      const h = setImmediate(fireDue);
      armed = { cancel: () => clearImmediate(h) };
    } else {
      const h = setTimeout(fireDue, delayMs);
      armed = { cancel: () => clearTimeout(h) };
    }
  };

  return {
    now,
    get timeScale() {
      return scale;
    },
    schedule(atMs, fn) {
      const timer: Timer = { atMs, seq: seq++, fn };
      const earliest = heap.peek();
      heap.push(timer);
      if (!armed || !earliest || firesBefore(timer, earliest)) arm();
      return () => {
        timer.fn = undefined;
      };
    },
    setTimeScale(timeScale) {
      if (!(timeScale >= 0)) throw new RangeError('time scale must be >= 0');
      anchorSimMs = now();
      anchorWallMs = performance.now();
      scale = timeScale;
      arm();
    },
  };
}
