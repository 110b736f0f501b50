/**
 * Assembles one simulated NIM from a configuration: the deployment (GPU, model, profile), the KV
 * cache, the roofline model, the engine on the given clock, the tokenizer and the metrics. `serve`
 * puts an HTTP app in front of it; `simulate` drives the same engine on a virtual clock.
 */
import { resolveDeployment, describeDeployment, type Deployment } from './catalog/deployment.js';
import type { Config } from './config/config.js';
import { maxLorasOf, servedModelNames } from './config/config.js';
import { createTokenizer, type Tokenizer } from './content/tokenizer.js';
import { createRandom, hashSeed } from './util/random.js';
import type { Clock } from './engine/clock.js';
import { createEngine, type Engine, type EngineObserver } from './engine/engine.js';
import { createObserverHub, type ObserverHub } from './engine/observer-hub.js';
import { createAdjustableJitter, type AdjustableJitter } from './engine/jitter.js';
import { fleetRoutingOf } from './fleet/routing-options.js';
import { createRooflinePerfModel } from './engine/roofline.js';
import { createFleet, type Fleet } from './fleet/fleet.js';
import { isDisaggregated } from './config/config.js';
import { createDisaggRuntime } from './fleet/disagg/disagg-runtime.js';

export interface Runtime {
  readonly config: Config;
  readonly deployment: Deployment;
  /**
   * The engine, and through it the KV cache's statistics (stats(), topPrefixes(), resetPrefixCache()).
   * With NIMSIM_REPLICAS > 1 it is the fleet (the same object as `fleet`): replicas' figures summed.
   */
  readonly engine: Engine;
  /**
   * With NIMSIM_REPLICAS > 1: the replicas and their router. `fleet.submit(…, { onRouted })` says
   * which replica took a request; `fleet.replicas[i]` gives one replica's stats and reset. Undefined
   * with one replica (the engine alone, exactly as before fleets existed).
   */
  readonly fleet: Fleet | undefined;
  readonly tokenizer: Tokenizer;
  readonly servedModels: readonly string[];
  /** Context length: the setting or the model's, never more than the KV cache holds (vLLM refuses to start then). */
  readonly maxModelLen: number;
  readonly metadata: Record<string, unknown>;
  /** Engine events fan out here (every replica's): metrics and reports subscribe after creation. */
  readonly observers: ObserverHub;
  /**
   * Each replica's events alone, by replica index (one engine: `[observers]`): what per-replica
   * listeners subscribe to — the metrics labelled `engine="<i>"`, the KV-event publisher of rank i.
   * Every event reaching one also reaches `observers`.
   */
  readonly replicaObservers: readonly ObserverHub[];
  /** The engine's step-time jitter; its sigma can change at run time (PATCH /admin/config). */
  readonly jitter: AdjustableJitter;
}

export interface RuntimeOptions {
  readonly clock: Clock;
  /** Jitter sigma when NIMSIM_JITTER is unset: 0.03 for serve, 0 for simulate. */
  readonly defaultJitter: number;
  /** Disaggregated: keep every KV transfer's and queue wait's figures for a report (simulate). */
  readonly keepSamples?: boolean;
  /** LoRA on without NIM_PEFT_SOURCE (simulate --loras): the engines enforce NIM_MAX_GPU_LORAS. */
  readonly enableLora?: boolean;
}

export function createRuntime(config: Config, opts: RuntimeOptions): Runtime {
  if (isDisaggregated(config)) return createDisaggRuntime(config, opts);
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
    kvDisk: config.kvDisk,
  });
  const observers = createObserverHub();
  const rng = createRandom(config.seed ^ 0x5eed);
  const jitter = createAdjustableJitter(config.jitter ?? opts.defaultJitter, () => rng.normal());
  const perf = createRooflinePerfModel(deployment.roofline);
  const engineFor = (jitterOf: () => number, observer: EngineObserver) =>
    createEngine({
      clock: opts.clock,
      perf,
      // The engine builds and owns its KV cache; its statistics come through engine.stats().
      kvCache: {
        blockSize: config.kvBlockSize,
        gpuBlocks: deployment.kvCacheBlocks,
        hostBlocks: config.kvHostCacheBlocks,
        diskBlocks: config.kvDiskCacheBlocks,
        eviction: config.kvEviction,
        enableReuse: config.enableKvCacheReuse,
        modelKey: config.modelName,
      },
      maxNumSeqs: config.maxNumSeqs,
      maxNumBatchedTokens: config.maxNumBatchedTokens,
      capacityPolicy: deployment.capacityPolicy,
      maxLoras: maxLorasOf(config, opts.enableLora),
      maxWaiting: config.maxWaiting,
      jitter: jitterOf,
      observer,
    });
  const replicaObservers =
    config.replicas > 1 ? Array.from({ length: config.replicas }, () => createObserverHub()) : [observers];
  const fleet =
    config.replicas > 1
      ? createReplicas(config, jitter, observers, (i, jitterOf, fleetObserver) => {
          // The replica's own hub: the fleet's observer (index, peaks, then the shared hub) first.
          const own = replicaObservers[i]!;
          own.add(fleetObserver);
          return engineFor(jitterOf, own);
        })
      : undefined;
  const engine = fleet ?? engineFor(jitter, observers);
  const kvCapacityTokens = deployment.kvCacheBlocks * config.kvBlockSize;
  return {
    config,
    deployment,
    engine,
    fleet,
    // Loading a vocabulary takes ~0.4 s; `simulate` works in token ids and never needs it.
    get tokenizer() {
      return createTokenizer(deployment.model.tokenizer);
    },
    servedModels: servedModelNames(config),
    maxModelLen: Math.min(deployment.maxModelLen, kvCapacityTokens),
    metadata: describeDeployment(deployment),
    observers,
    replicaObservers,
    jitter,
  };
}

/**
 * NIMSIM_REPLICAS engines behind NIMSIM_ROUTER. Replica 0 draws its jitter from the single
 * engine's stream (so it runs as one engine would); the others from streams of their own, all
 * following the one sigma PATCH /admin/config sets.
 */
function createReplicas(
  config: Config,
  jitter: AdjustableJitter,
  observers: ObserverHub,
  replicaFor: (index: number, jitter: () => number, observer: EngineObserver) => Engine,
): Fleet {
  const others: AdjustableJitter[] = [];
  const setSigma = jitter.setSigma.bind(jitter);
  jitter.setSigma = (sigma) => {
    setSigma(sigma);
    for (const j of others) j.setSigma(sigma);
  };
  return createFleet({
    size: config.replicas,
    createReplica(i, observer) {
      if (i === 0) return replicaFor(0, jitter, observer);
      const rng = createRandom(hashSeed(config.seed, 'replica-jitter', i));
      const own = createAdjustableJitter(jitter.sigma, () => rng.normal());
      others.push(own);
      return replicaFor(i, own, observer);
    },
    ...fleetRoutingOf(config),
    observer: observers,
  });
}
