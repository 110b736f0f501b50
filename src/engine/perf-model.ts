/**
 * The step-time contract between the scheduler and the performance model. The scheduler
 * describes one engine step (what it decodes and prefills); the model says how long the GPU takes.
 * Implementations live in `roofline.ts`; the scheduler sees only this interface.
 */

/** One prefill chunk in a step: `tokens` new prompt tokens computed over `contextTokens` already in KV. */
export interface PrefillChunk {
  readonly tokens: number;
  readonly contextTokens: number;
}

/** Everything one continuous-batching step does. */
export interface StepWork {
  /** Sequences that decode one token this step. */
  readonly decodeSeqs: number;
  /** Sum over decoding sequences of the tokens already in their KV cache (attention reads them). */
  readonly decodeContextTokens: number;
  /** Prefill chunks scheduled this step (chunked prefill). */
  readonly prefillChunks: readonly PrefillChunk[];
  /** Tokens of KV copied from the host (CPU) tier into GPU blocks this step (PCIe transfer). */
  readonly hostLoadTokens: number;
  /** Tokens of KV read from the local-disk tier into GPU blocks this step (absent: 0). */
  readonly diskLoadTokens?: number;
  /** Requests whose blocks this step reads from disk, each paying the drive's read latency (absent: 0). */
  readonly diskLoadRequests?: number;
  /** Requests entering the engine for the first time this step (absent: 0). */
  readonly newRequests?: number;
  /**
   * LoRA: Σ over the step's tokens of their adapter's parameters (EngineLora.params; absent: 0). Each
   * such token computes 2 FLOPs per adapter parameter on top of the base model's.
   */
  readonly loraTokenParams?: number;
  /** LoRA: Σ of the parameters of the distinct adapters in the step, whose weights it reads once (absent: 0). */
  readonly loraAdapterParams?: number;
}

export interface PerfModel {
  /**
   * Duration of one step on the simulated GPUs, in simulated ms, without jitter: the GPU's time or
   * the front end's streaming of the step's sequences, whichever is longer.
   */
  stepMs(work: StepWork): number;
  /**
   * The serving front end's CPU costs (frontend-intake.ts), absent when there is none (a benchmark
   * that drives the engine in-process): per new request taken in, and per sequence streamed per step.
   */
  readonly frontend?: { readonly intakeMs: number; readonly msPerSeq: number } | undefined;
}
