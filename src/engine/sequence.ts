/**
 * One request's life inside the engine, in vLLM's terms: its token list (prompt, then generated
 * tokens as they appear), how many of them have KV computed, and where it is in the queues.
 */
import type { EngineEvent, EngineRequest, FinishReason } from './types.js';

/** `transferring`: admitted, its blocks allocated, waiting for remote KV (vLLM WAITING_FOR_REMOTE_KVS). */
export type SequenceStatus = 'waiting' | 'transferring' | 'running' | 'finished';

export type EventListener = (event: EngineEvent) => void;

export class Sequence {
  status: SequenceStatus = 'waiting';
  /** The prompt's block keys when the submitter gave them (SubmitOptions.blockKeys). */
  blockKeys: readonly number[] | undefined = undefined;
  readonly numPromptTokens: number;
  numGenerated = 0;
  /** Tokens whose KV is in the cache: 0 until admitted, reset to 0 by preemption. */
  numComputed = 0;
  /** Tokens this sequence computes in the step in flight (set by the scheduler). */
  stepTokens = 0;
  /** Token slots the KV cache has allocated to the sequence (a multiple of the block size). */
  allocatedTokens = 0;
  /** Prompt tokens found in the prefix cache at the first admission (as usage reports them). */
  cachedTokens = 0;
  /** Of `cachedTokens`, those loaded from the host tier and from the disk tier. */
  hostCachedTokens = 0;
  diskCachedTokens = 0;
  preemptions = 0;
  /** While transferring: the blocks it pulls over the KV-transfer link. */
  transferBlocks = 0;
  /** Rank in the running set: running order is ascending runOrder (set at each admission). */
  runOrder = 0;
  /**
   * True while the sequence decodes lazily (lazy-decode.ts): `numComputed` and `numGenerated` are
   * then brought up to date only at its events, which are the steps below.
   */
  cruising = false;
  /** Completed-step count at which the cruising counters were last anchored, and their values then. */
  anchorStep = 0;
  anchorComputed = 0;
  anchorGenerated = 0;
  /** Completed-step count at whose planning a cruising sequence needs a block or fills one (-1: none). */
  planAtStep = -1;
  /** Completed-step count at whose completion a cruising sequence's plan ends (-1: none filed yet). */
  finishAtStep = -1;
  scheduledMs: number | undefined;
  firstTokenMs: number | undefined;
  lastTokenMs = 0;

  constructor(
    /** Numeric id, also the KV cache's sequence id. */
    readonly seqId: number,
    readonly request: EngineRequest,
    readonly arrivalMs: number,
    readonly listener: EventListener,
    /** False when the listener only wants `scheduled`/`finished` (simulate): no event per token. */
    readonly tokenEvents = true,
  ) {
    // The tokens are the prompt, then the planned output's first numGenerated: never joined in
    // one list (the KV cache reads both), which saved a copy of every request's tokens.
    this.numPromptTokens = request.promptTokenIds.length;
  }

  /** Tokens known so far: the prompt and the tokens generated. */
  get numTokens(): number {
    return this.numPromptTokens + this.numGenerated;
  }

  /** The known tokens as their own list (a copy once tokens were generated: after a preemption). */
  knownTokenIds(): readonly number[] {
    const { promptTokenIds, outputTokenIds } = this.request;
    return this.numGenerated === 0
      ? promptTokenIds
      : promptTokenIds.concat(outputTokenIds.slice(0, this.numGenerated));
  }

  /** Tokens known but not yet computed: the prompt (or its rest) when prefilling, 1 when decoding. */
  get numUncomputed(): number {
    return this.numTokens - this.numComputed;
  }

  get planDone(): boolean {
    return this.numGenerated >= this.request.outputTokenIds.length;
  }

  /** Generates the next planned token and returns it. */
  sampleNext(): number {
    return this.request.outputTokenIds[this.numGenerated++]!;
  }

  finishReason(): FinishReason {
    return this.request.finishReason;
  }
}
