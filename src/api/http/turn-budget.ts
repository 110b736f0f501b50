/**
 * Keeps a burst of new requests from stalling the streams already running. Node reads every socket
 * that is ready in one poll phase of its event loop and runs each new request's handler there,
 * back to back; timers — the engine's steps, which deliver every running stream's next token —
 * wait until the phase is over. Five hundred requests arriving together at ~1 ms of handling each
 * would hold every stream's tokens for half a second (and push the engine past its catch-up bound,
 * losing that time from its timeline).
 *
 * A real NIM does not stall that way: its engine core runs in its own process and keeps stepping
 * while the API server parses requests, and the API server's asyncio loop interleaves the new
 * requests with the running streams' output. So here request handling gets a budget of CPU per
 * turn of the event loop: within it, a request starts at once (no wait, no allocation); past it,
 * requests wait, in arrival order, and start in later turns, as many per turn as the budget holds,
 * with the timers due meanwhile running between them.
 */
import { performance } from 'node:perf_hooks';

/**
 * CPU a turn of the event loop gives to starting new requests before timers get their turn: a
 * stall of at most about a step or two of a fast model, well inside what the engine's timeline
 * makes up (engine.ts), while a burst is still taken in at most of the process's speed. In the
 * 500-stream burst of load-tests/realtime-accuracy.ts, 4 ms per turn took the burst in more
 * slowly and left the client's ITL further from the replay's than 12 or 25 ms did.
 */
export const REQUEST_TURN_BUDGET_MS = 12;

export interface TurnBudget {
  /**
   * undefined when a request may start now; otherwise a promise that resolves when its turn comes
   * (later turns of the event loop, in arrival order).
   */
  wait(): Promise<void> | undefined;
}

export function createTurnBudget(budgetMs = REQUEST_TURN_BUDGET_MS): TurnBudget {
  /** When the current turn's request handling began; NaN when no turn is open. */
  let turnStartMs = Number.NaN;
  /** When the last request started in this turn did; NaN when the turn's last one had to wait. */
  let lastStartMs = Number.NaN;
  /**
   * What starting one request costs, ms: a moving average of the time from one request started in
   * a turn to the next (its handler ran in between), to know how many waiting requests fit in a
   * later turn's budget.
   */
  let perRequestMs = 0.25;
  const waiting: (() => void)[] = [];

  const closeTurn = () => {
    turnStartMs = Number.NaN;
  };
  /**
   * Starts the longest-waiting requests, as many as the budget holds at their usual cost (one at
   * least). Their handlers run in the microtasks right after this callback; the rest wait for an
   * immediate queued from this check phase, which runs on the next iteration of the loop, after
   * that iteration's due timers.
   */
  const releaseSome = () => {
    const n = Math.max(1, Math.floor(budgetMs / perRequestMs));
    for (let i = 0; i < n && waiting.length > 0; i++) waiting.shift()!();
    if (waiting.length > 0) setImmediate(releaseSome);
  };

  return {
    wait() {
      const now = performance.now();
      if (Number.isNaN(turnStartMs)) {
        turnStartMs = now;
        lastStartMs = Number.NaN;
        setImmediate(closeTurn);
      } else if (!Number.isNaN(lastStartMs)) {
        perRequestMs = 0.9 * perRequestMs + 0.1 * (now - lastStartMs);
      }
      if (waiting.length === 0 && now - turnStartMs < budgetMs) {
        lastStartMs = now;
        return undefined;
      }
      lastStartMs = Number.NaN;
      if (waiting.length === 0) setImmediate(releaseSome);
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
  };
}
