/**
 * Assembles one simulated NIM from a configuration: the deployment (GPU, model, profile), the KV
 * cache, the roofline model, the engine on the given clock, the tokenizer and the metrics. `serve`
 * puts an HTTP app in front of it; `simulate` drives the same engine on a virtual clock.
 */
import { resolveDeployment, describeDeployment, type Deployment } from './catalog/deployment.js';
import type { Config } from './config/config.js';
import { servedModelNames } from './config/config.js';
import { createTokenizer, type Tokenizer } from './content/tokenizer.js';
import { createRandom } from './content/random.js';
import type { Clock } from './engine/clock.js';
import { createEngine, type Engine } from './engine/engine.js';
import { createObserverHub, type ObserverHub } from './engine/observer-hub.js';
import { createAdjustableJitter, type AdjustableJitter } from './engine/jitter.js';
import { createRooflinePerfModel } from './engine/roofline.js';

export interface Runtime {
  readonly config: Config;
  readonly deployment: Deployment;
  /** The engine, and through it the KV cache's statistics (stats(), topPrefixes(), resetPrefixCache()). */
  readonly engine: Engine;
  readonly tokenizer: Tokenizer;
  readonly servedModels: readonly string[];
  /** Context length: the setting or the model's, never more than the KV cache holds (vLLM refuses to start then). */
  readonly maxModelLen: number;
  readonly metadata: Record<string, unknown>;
  /** Engine events fan out here: metrics and reports subscribe after creation. */
  readonly observers: ObserverHub;
  /** The engine's step-time jitter; its sigma can change at run time (PATCH /admin/config). */
  readonly jitter: AdjustableJitter;
}

export interface RuntimeOptions {
  readonly clock: Clock;
  /** Jitter sigma when NIMSIM_JITTER is unset: 0.03 for serve, 0 for simulate. */
  readonly defaultJitter: number;
}

export function createRuntime(config: Config, opts: RuntimeOptions): Runtime {
  const deployment = resolveDeployment({
    modelName: config.modelName,
    gpu: config.gpu,
    gpuCount: config.gpus,
    profile: config.profile,
    precision: config.precision,
    tp: config.tp,
    maxModelLen: config.maxModelLen,
    gpuMemoryUtilization: config.gpuMemoryUtilization,
    kvBlockSize: config.kvBlockSize,
    kvCacheBlocks: config.kvCacheBlocks,
    frontend: config.frontend,
  });
  const observers = createObserverHub();
  const rng = createRandom(config.seed ^ 0x5eed);
  const jitter = createAdjustableJitter(config.jitter ?? opts.defaultJitter, () => rng.normal());
  const engine = createEngine({
    clock: opts.clock,
    perf: createRooflinePerfModel(deployment.roofline),
    // The engine builds and owns its KV cache; its statistics come through engine.stats().
    kvCache: {
      blockSize: config.kvBlockSize,
      gpuBlocks: deployment.kvCacheBlocks,
      hostBlocks: config.kvHostCacheBlocks,
      eviction: config.kvEviction,
      enableReuse: config.enableKvCacheReuse,
      modelKey: config.modelName,
    },
    maxNumSeqs: config.maxNumSeqs,
    maxNumBatchedTokens: config.maxNumBatchedTokens,
    capacityPolicy: deployment.capacityPolicy,
    maxWaiting: config.maxWaiting,
    jitter,
    observer: observers,
  });
  const kvCapacityTokens = deployment.kvCacheBlocks * config.kvBlockSize;
  return {
    config,
    deployment,
    engine,
    // Loading a vocabulary takes ~0.4 s; `simulate` works in token ids and never needs it.
    get tokenizer() {
      return createTokenizer(deployment.model.tokenizer);
    },
    servedModels: servedModelNames(config),
    maxModelLen: Math.min(deployment.maxModelLen, kvCapacityTokens),
    metadata: describeDeployment(deployment),
    observers,
    jitter,
  };
}
