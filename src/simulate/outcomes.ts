/**
 * What the `simulate` report needs of each completed request — its times, token counts and turn —
 * kept in columns (typed arrays that double as they fill) rather than as an object per request.
 * Objects kept to the end of the run survive every young-generation GC and are copied by each:
 * at 10,000 requests that was ~10 ms of a sub-second run.
 */
import type { FinishedRequest } from '../engine/engine.js';

const INITIAL_CAPACITY = 1024;

export class Outcomes {
  /** Completed requests recorded (aborted ones are not: the report counts completions). */
  length = 0;
  arrivalMs = new Float64Array(INITIAL_CAPACITY);
  firstTokenMs = new Float64Array(INITIAL_CAPACITY);
  finishedMs = new Float64Array(INITIAL_CAPACITY);
  promptTokens = new Int32Array(INITIAL_CAPACITY);
  completionTokens = new Int32Array(INITIAL_CAPACITY);
  cachedTokens = new Int32Array(INITIAL_CAPACITY);
  /** Which turn of its session the request was, from 1. */
  turn = new Int32Array(INITIAL_CAPACITY);
  /** Which replica served it (0 with one engine). */
  replica = new Int32Array(INITIAL_CAPACITY);
  /** Its tenant in a multi-tenant workload (0 otherwise). */
  tenant = new Int32Array(INITIAL_CAPACITY);
  /** The highest turn recorded (0 before any). */
  lastTurn = 0;

  /** Records a finished request of turn `turn` (an aborted one is left out). */
  add(
    done: Pick<FinishedRequest, 'reason' | 'usage' | 'timings'>,
    turn: number,
    replica = 0,
    tenant = 0,
  ): void {
    if (done.reason === 'abort') return;
    if (this.length === this.arrivalMs.length) this.grow();
    const i = this.length++;
    const { timings, usage } = done;
    this.arrivalMs[i] = timings.arrivalMs;
    this.firstTokenMs[i] = timings.firstTokenMs;
    this.finishedMs[i] = timings.finishedMs;
    this.promptTokens[i] = usage.promptTokens;
    this.completionTokens[i] = usage.completionTokens;
    this.cachedTokens[i] = usage.cachedTokens;
    this.turn[i] = turn;
    this.replica[i] = replica;
    this.tenant[i] = tenant;
    if (turn > this.lastTurn) this.lastTurn = turn;
  }

  private grow(): void {
    const capacity = 2 * this.arrivalMs.length;
    const widen = <T extends Float64Array | Int32Array>(column: T, make: (n: number) => T): T => {
      const wider = make(capacity);
      wider.set(column);
      return wider;
    };
    const float = (n: number) => new Float64Array(n);
    const int = (n: number) => new Int32Array(n);
    this.arrivalMs = widen(this.arrivalMs, float);
    this.firstTokenMs = widen(this.firstTokenMs, float);
    this.finishedMs = widen(this.finishedMs, float);
    this.promptTokens = widen(this.promptTokens, int);
    this.completionTokens = widen(this.completionTokens, int);
    this.cachedTokens = widen(this.cachedTokens, int);
    this.turn = widen(this.turn, int);
    this.replica = widen(this.replica, int);
    this.tenant = widen(this.tenant, int);
  }
}
