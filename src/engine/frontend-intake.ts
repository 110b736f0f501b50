/**
 * NIM's front end taking in new requests (docs/performance-model.md#front-end): before a request
 * reaches the engine's waiting queue, the front end's CPU parses its HTTP body, applies the chat
 * template and tokenizes the prompt. That CPU is the one that also streams every running
 * sequence's tokens, and it serves both the way an event loop does: every ready task in turn, so
 * each gets an equal share (egalitarian processor sharing). A streaming sequence needs only a
 * little per step (`msPerSeq`, its token's server-sent event); a request being taken in can use
 * all it is given until its `intakeMs` is done.
 *
 * What follows: at low load the CPU has room beside the streams, and a request is taken in within
 * about `intakeMs`; once the streams fill the CPU (the step is front-end bound), each request in
 * intake gets one stream's share per step, so taking one in lasts `intakeMs / msPerSeq` steps and
 * time to first token grows in proportion to inter-token latency, as NIM's tables show at high
 * concurrency (docs/calibration.md#nim-benchmark-tables).
 *
 * The engine drives it at its step boundaries: `shareStep` while a step runs, `shareIdle` while
 * nothing runs. Requests that arrive during a step join the sharing at the next boundary. On a
 * real clock the engine may be catching up on lag, its boundaries behind the wall clock: a request
 * that arrived after a boundary's time on the engine's timeline joins the first boundary at or
 * after its arrival, never a step that (on that timeline) began before it existed — else the
 * server would take it in sooner than `simulate` does for the same arrivals.
 */
import type { Sequence } from './sequence.js';

interface IntakeJob {
  readonly seq: Sequence;
  /** CPU time (ms) the front end still needs to take the request in. */
  remainingMs: number;
}

export class FrontendIntake {
  private jobs: IntakeJob[] = [];
  /** The sequences in `jobs`: every finished request asks, and most were never here. */
  private readonly members = new Set<Sequence>();

  constructor(
    /** Front-end CPU per new request, ms. */
    readonly intakeMs: number,
    /** Front-end CPU per streaming sequence per step, ms. */
    readonly msPerSeq: number,
  ) {}

  get size(): number {
    return this.jobs.length;
  }

  add(seq: Sequence): void {
    this.jobs.push({ seq, remainingMs: this.intakeMs });
    this.members.add(seq);
  }

  /** Takes `seq` out (aborted during intake); false when it was not in intake. */
  remove(seq: Sequence): boolean {
    if (!this.members.delete(seq)) return false;
    this.jobs.splice(
      this.jobs.findIndex((j) => j.seq === seq),
      1,
    );
    return true;
  }

  /** Every sequence in intake (a shutdown aborts them), in arrival order. */
  takeAll(): Sequence[] {
    const all = this.jobs.map((j) => j.seq);
    this.jobs = [];
    this.members.clear();
    return all;
  }

  /**
   * A step of `stepMs` whose streams need `streams` × msPerSeq of front-end CPU: shares the CPU
   * with the requests in intake and returns the step's duration, which grows when the front end
   * (streams plus intake) needs longer than the step. `done` receives the requests whose intake
   * completes within the step (they may join the next one). `startMs`, the step's start on the
   * engine's timeline: only requests that had arrived by then share it (all, when omitted).
   */
  shareStep(stepMs: number, streams: number, done: Sequence[], startMs = Infinity): number {
    const ready = this.readyBy(startMs);
    if (ready === 0) return stepMs;
    const streamMs = streams * this.msPerSeq;
    let intakeLeftMs = 0;
    for (let i = 0; i < ready; i++) intakeLeftMs += this.jobs[i]!.remainingMs;
    // When the CPU is the bottleneck the step lasts until every stream has had its share, and the
    // intake, as many tasks as it holds, had as much per task.
    const intakeFloorMs = streams > 0 ? Math.min(intakeLeftMs, ready * this.msPerSeq) : intakeLeftMs;
    const durationMs = Math.max(stepMs, streamMs + intakeFloorMs);
    this.advance(durationMs - streamMs, done, ready);
    return durationMs;
  }

  /**
   * Nothing runs on the GPU: the CPU is the intake's alone until the request at its head is in.
   * Returns how long that takes (ms), from `startMs` on the engine's timeline (a head that
   * arrived later is waited for); `done` receives that request.
   */
  shareIdle(done: Sequence[], startMs = Infinity): number {
    const head = this.jobs[0];
    if (!head) return 0;
    // On a lagging real clock the head may have arrived after this idle span's start.
    const waitMs = Math.max(0, head.seq.arrivalMs - startMs);
    const intakeMs = head.remainingMs;
    this.advance(intakeMs, done, 1);
    return waitMs + intakeMs;
  }

  /** How many requests, from the head, had arrived by `startMs` (jobs are in arrival order). */
  private readyBy(startMs: number): number {
    const { jobs } = this;
    if (startMs === Infinity) return jobs.length;
    let n = 0;
    while (n < jobs.length && jobs[n]!.seq.arrivalMs <= startMs) n++;
    return n;
  }

  /**
   * Spends `cpuMs` of CPU on the first `ready` requests in arrival order and moves those taken in
   * to `done`.
   */
  private advance(cpuMs: number, done: Sequence[], ready: number): void {
    let left = cpuMs;
    let taken = 0;
    for (let i = 0; i < ready; i++) {
      const job = this.jobs[i]!;
      if (left <= 0) break;
      const spent = Math.min(left, job.remainingMs);
      job.remainingMs -= spent;
      left -= spent;
      // Within a nanosecond of done (rounding) is done.
      if (job.remainingMs > 1e-9) break;
      done.push(job.seq);
      this.members.delete(job.seq);
      taken++;
    }
    if (taken > 0) this.jobs.splice(0, taken);
  }
}
