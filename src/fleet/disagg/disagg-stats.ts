/**
 * What a disaggregated fleet measures of itself beyond its replicas' own figures: the KV
 * transfers (each one's time and bytes), how many prompts were prefilled where, the time requests
 * waited in each role's queue, and each replica's busy time (for its utilisation).
 */

/** One KV transfer from a prefill to a decode replica. */
export interface TransferRecord {
  /** From the decode replica's admission (blocks allocated) to the last block's arrival, ms. */
  readonly ms: number;
  /** Bytes landed in the decode replica, over all its GPUs. */
  readonly bytes: number;
  readonly blocks: number;
}

export interface DisaggCounters {
  /** Requests prefilled on a prefill replica, their KV then moved to a decode replica. */
  readonly remotePrefills: number;
  /** Requests prefilled on their decode replica (conditional disaggregation). */
  readonly localPrefills: number;
  readonly transfers: number;
  readonly transferBytes: number;
  /** Σ transfer time, ms. */
  readonly transferMs: number;
  /** Transfers started and not yet landed. */
  readonly transfersInFlight: number;
}

export class DisaggStats implements DisaggCounters {
  remotePrefills = 0;
  localPrefills = 0;
  transfers = 0;
  transferBytes = 0;
  transferMs = 0;
  transfersInFlight = 0;
  /** Every transfer's time (ms), when kept (simulate's report). */
  readonly transferTimes: number[] = [];
  /** Time from arrival to admission by a prefill replica, ms (remote prefills). */
  readonly prefillQueueWaits: number[] = [];
  /** Time from reaching the decode replica to its admission there, ms. */
  readonly decodeQueueWaits: number[] = [];
  /** Per replica (global index), simulated ms spent in steps. */
  readonly busyMs: Float64Array;
  private readonly listeners: ((t: TransferRecord) => void)[] = [];

  constructor(
    replicas: number,
    /** Keep each transfer's and queue wait's figures (for a report); counters are always kept. */
    private readonly keepSamples: boolean,
  ) {
    this.busyMs = new Float64Array(replicas);
  }

  /** Tells `listener` of every transfer as it starts (its time is known then). */
  onTransfer(listener: (t: TransferRecord) => void): void {
    this.listeners.push(listener);
  }

  transferStarted(t: TransferRecord): void {
    this.transfers++;
    this.transferBytes += t.bytes;
    this.transferMs += t.ms;
    this.transfersInFlight++;
    if (this.keepSamples) this.transferTimes.push(t.ms);
    for (const l of this.listeners) l(t);
  }

  transferLanded(): void {
    this.transfersInFlight--;
  }

  prefillQueued(ms: number): void {
    if (this.keepSamples) this.prefillQueueWaits.push(ms);
  }

  decodeQueued(ms: number): void {
    if (this.keepSamples) this.decodeQueueWaits.push(ms);
  }
}
