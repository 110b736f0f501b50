/**
 * `simulate --loras N`: the sessions run with N LoRA adapters of the simulated model, each session
 * with one adapter drawn from a Zipf distribution (exponent 0: uniform), so the cost of LoRA shows
 * in the report: no prefix shared across adapters (the cache partitions by adapter), and at most
 * NIM_MAX_GPU_LORAS adapters per batch (docs/lora.md#simulate). Every adapter adapts every linear
 * layer (PEFT's `all-linear`) at the same rank.
 */
import { loraParamsPerRank, resolveTargetModules } from '../catalog/lora-shapes.js';
import type { ModelCard } from '../catalog/model-card.js';
import type { EngineLora } from '../engine/types.js';
import { createRandom, hashSeed } from '../util/random.js';
import { zipfSampler } from './tenants.js';

export interface LoraWorkloadOptions {
  /** Adapters the sessions spread over. */
  readonly adapters: number;
  /** Zipf exponent of the adapters' popularity (0 = uniform); adapter 0 is the most popular. */
  readonly zipf: number;
  readonly rank: number;
}

/** The report's account of the adapters. */
export interface LoraReport {
  adapters: number;
  zipf: number;
  rank: number;
  /** Most adapters one batch mixed (NIM_MAX_GPU_LORAS). */
  max_loras: number;
  /** Parameters of one adapter, all layers. */
  adapter_params: number;
  /** Completed requests of each adapter, adapter 0 first. */
  requests_by_adapter: number[];
}

export class LoraMix {
  readonly adapters: readonly EngineLora[];
  private readonly draw: () => number;

  constructor(
    readonly opts: LoraWorkloadOptions,
    model: ModelCard,
    seed: number,
  ) {
    const params = opts.rank * loraParamsPerRank(model, resolveTargetModules('all-linear'));
    this.adapters = Array.from({ length: opts.adapters }, (_, i) => ({
      name: `lora-${i}`,
      id: i + 1,
      params,
    }));
    this.draw = zipfSampler(opts.adapters, opts.zipf, createRandom(hashSeed(seed, 'lora-mix')));
  }

  /** The adapter of a new session. */
  next(): EngineLora {
    return this.adapters[this.draw()]!;
  }
}
