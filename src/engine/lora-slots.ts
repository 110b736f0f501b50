/**
 * The LoRA adapters of the scheduler's sequences: how many running and how many waiting sequences
 * use each one. The scheduler asks it whether a waiting request may join the batch: a batch mixes
 * at most `maxLoras` distinct adapters (vLLM --max-loras, NIM_MAX_GPU_LORAS), so a request of
 * another adapter waits while the batch is full of adapters (vLLM's scheduler skips it and keeps
 * looking, `scheduled_loras` in vllm/v1/core/sched/scheduler.py). Base-model requests take no slot.
 *
 * vLLM counts the adapters of the running requests scheduled in the step; here every running
 * request's adapter counts, scheduled this step or not — the same whenever the token budget covers
 * the running batch, and never more than `maxLoras` adapters in the running set, which is what
 * vLLM asserts. Sequences waiting for remote KV (disaggregated decode) count as running.
 */
import type { EngineLora, LoraAdapterStats } from './types.js';

export class LoraSlots {
  /** Adapter name → running sequences using it; insertion order = order of first use. */
  private readonly running = new Map<string, number>();
  /** Adapter name → waiting sequences using it. */
  private readonly waiting = new Map<string, number>();

  constructor(readonly maxLoras: number) {
    if (!Number.isInteger(maxLoras) || maxLoras < 1)
      throw new Error(`max LoRAs must be ≥ 1, got ${maxLoras}`);
  }

  /** Whether a sequence with adapter `lora` may join the running set now (always, for the base model). */
  admits(lora: EngineLora | undefined): boolean {
    return lora === undefined || this.running.size < this.maxLoras || this.running.has(lora.name);
  }

  /** A sequence with adapter `lora` joined the waiting queue (new, or preempted). */
  wait(lora: EngineLora | undefined): void {
    if (lora !== undefined) add(this.waiting, lora.name);
  }

  /** A waiting sequence was admitted to the running set. */
  run(lora: EngineLora | undefined): void {
    if (lora === undefined) return;
    remove(this.waiting, lora.name);
    add(this.running, lora.name);
  }

  /** A running sequence left the running set (finished, aborted); `requeued`: preempted, it waits again. */
  stopRunning(lora: EngineLora | undefined, requeued = false): void {
    if (lora === undefined) return;
    remove(this.running, lora.name);
    if (requeued) add(this.waiting, lora.name);
  }

  /** A waiting sequence left the queue without running (aborted). */
  stopWaiting(lora: EngineLora | undefined): void {
    if (lora !== undefined) remove(this.waiting, lora.name);
  }

  /** Distinct adapters in the running set. */
  get runningAdapters(): number {
    return this.running.size;
  }

  stats(): LoraAdapterStats {
    return { maxLoras: this.maxLoras, running: [...this.running.keys()], waiting: [...this.waiting.keys()] };
  }
}

function add(counts: Map<string, number>, name: string): void {
  counts.set(name, (counts.get(name) ?? 0) + 1);
}

function remove(counts: Map<string, number>, name: string): void {
  const n = (counts.get(name) ?? 0) - 1;
  if (n > 0) counts.set(name, n);
  else counts.delete(name);
}
