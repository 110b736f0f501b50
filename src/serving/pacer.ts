/**
 * Paces long synchronous work on the event loop: once work has run for SLICE_MS of wall time since
 * its last pause, it pauses for one turn of the loop (setImmediate), so health probes, other
 * requests and the engine's steps go on. Planning a long answer (0.1-0.3 s for 131k tokens) and
 * writing a large JSON body use it; ordinary requests finish within a slice and never pause.
 *
 * Awaiting promises is not enough: a chain of resolved promises (a body stream whose socket
 * accepts every write at once, as loopback does) runs as microtasks and never lets I/O in.
 */
import type { ClientSignal } from '../util/client-signal.js';
import { ApiError } from './errors.js';

/** Longest stretch of work between two pauses, in ms of wall time. */
export const SLICE_MS = 10;

export class Pacer {
  private sliceStart = performance.now();

  /** `signal`: pausing throws once the client has gone away (nobody would read the result). */
  constructor(private readonly signal?: ClientSignal) {}

  /** True once the current slice has run its time: the caller should `await pause()`. */
  due(): boolean {
    return performance.now() - this.sliceStart >= SLICE_MS;
  }

  /** Yields one turn of the event loop; throws if the client went away meanwhile. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.signal?.aborted === true) {
      // Nobody reads this answer; the status only tells the access log and metrics what happened.
      throw new ApiError(
        499,
        'The client closed the request before it was planned.',
        null,
        {},
        'BadRequestError',
      );
    }
    this.sliceStart = performance.now();
  }
}
