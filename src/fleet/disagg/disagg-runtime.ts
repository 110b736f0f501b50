/**
 * The runtime of a disaggregated deployment (NIMSIM_PREFILL_REPLICAS and NIMSIM_DECODE_REPLICAS):
 * each pool's deployment (same GPU, model and precision; its own tensor-parallel size, and as many
 * GPUs per replica), its engines, the KV-transfer link the decode replicas pull over, and the
 * fleet in front of them (disagg-fleet.ts). Everything else is the runtime of any fleet.
 */
import { describeDeployment, resolveDeployment, type Deployment } from '../../catalog/deployment.js';
import { kvTransferCost, resolveKvLink, type KvLink, type KvTransferCost } from '../../catalog/links.js';
import type { Config } from '../../config/config.js';
import { maxLorasOf, servedModelNames } from '../../config/config.js';
import { createTokenizer } from '../../content/tokenizer.js';
import { createEngine, type EngineObserver, type KvTransferLink } from '../../engine/engine.js';
import { createAdjustableJitter, type AdjustableJitter } from '../../engine/jitter.js';
import { createObserverHub } from '../../engine/observer-hub.js';
import { fleetRoutingOf } from '../routing-options.js';
import { createRooflinePerfModel } from '../../engine/roofline.js';
import type { Runtime, RuntimeOptions } from '../../runtime.js';
import { createRandom, hashSeed } from '../../util/random.js';
import { createDisaggFleet, type Role } from './disagg-fleet.js';

/** What /v1/metadata and the report's `deployment` say of a disaggregated deployment. */
export interface DisaggMetadata {
  readonly prefillReplicas: number;
  readonly decodeReplicas: number;
  readonly prefill: ReturnType<typeof describeDeployment>;
  readonly decode: ReturnType<typeof describeDeployment>;
  readonly kvTransferLink: string;
  readonly maxLocalPrefillLength: number;
}

/** A pool's deployment: the settings' model and GPU at the pool's TP, on that many GPUs. */
function poolDeployment(config: Config, tp: number | undefined, precision: string | undefined): Deployment {
  return resolveDeployment({
    modelName: config.modelName,
    gpu: config.gpu,
    gpuCount: tp ?? config.gpus,
    profile: tp === undefined ? config.profile : undefined,
    precision,
    tp: tp ?? config.tp,
    maxModelLen: config.maxModelLen,
    gpuMemoryUtilization: config.gpuMemoryUtilization,
    kvBlockSize: config.kvBlockSize,
    kvCacheBlocks: config.kvCacheBlocks,
    frontend: config.frontend,
  });
}

/** The link timing the decode engines pull remote blocks with: ms per block per link, and latency. */
export function transferLinkOf(cost: KvTransferCost, link: KvLink, blockSize: number): KvTransferLink {
  return {
    msPerBlock: ((blockSize * cost.bytesPerTokenPerLink) / link.bytesPerSPerGpu) * 1000,
    latencyMs: link.latencyMs,
  };
}

export function createDisaggRuntime(config: Config, opts: RuntimeOptions): Runtime {
  const prefill = poolDeployment(config, config.prefillTp, config.precision);
  // One KV dtype on both sides: the decode pool takes the prefill pool's precision.
  const decode = poolDeployment(config, config.decodeTp, prefill.precision.key);
  const link = resolveKvLink(config.kvTransferLink, config.gpu);
  const cost = kvTransferCost(prefill.model, prefill.precision, prefill.tp, decode.tp);
  const kvTransfer = transferLinkOf(cost, link, config.kvBlockSize);
  const observers = createObserverHub();
  const size = config.prefillReplicas + config.decodeReplicas;
  const replicaObservers = Array.from({ length: size }, () => createObserverHub());
  const rng = createRandom(config.seed ^ 0x5eed);
  const jitter = createAdjustableJitter(config.jitter ?? opts.defaultJitter, () => rng.normal());
  const others: AdjustableJitter[] = [];
  const setSigma = jitter.setSigma.bind(jitter);
  jitter.setSigma = (sigma) => {
    setSigma(sigma);
    for (const j of others) j.setSigma(sigma);
  };
  const jitterOf = (i: number): (() => number) => {
    if (i === 0) return jitter;
    const own = createRandom(hashSeed(config.seed, 'replica-jitter', i));
    const j = createAdjustableJitter(jitter.sigma, () => own.normal());
    others.push(j);
    return j;
  };
  const pools: Record<Role, { deployment: Deployment; maxWaiting: number }> = {
    prefill: { deployment: prefill, maxWaiting: config.prefillMaxWaiting ?? config.maxWaiting },
    decode: { deployment: decode, maxWaiting: config.decodeMaxWaiting ?? config.maxWaiting },
  };
  const perf = {
    prefill: createRooflinePerfModel(prefill.roofline),
    decode: createRooflinePerfModel(decode.roofline),
  };

  const fleet = createDisaggFleet({
    prefillReplicas: config.prefillReplicas,
    decodeReplicas: config.decodeReplicas,
    ...fleetRoutingOf(config),
    observer: observers,
    clock: opts.clock,
    maxLocalPrefillLength: config.maxLocalPrefillLength,
    transferBytesPerToken: cost.bytesPerTokenTotal,
    keepSamples: opts.keepSamples ?? false,
    createReplica(i, role, fleetObserver: EngineObserver) {
      const own = replicaObservers[i]!;
      own.add(fleetObserver);
      const { deployment, maxWaiting } = pools[role];
      return createEngine({
        clock: opts.clock,
        perf: perf[role],
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
        maxLoras: maxLorasOf(config, opts.enableLora),
        maxWaiting,
        jitter: jitterOf(i),
        observer: own,
        ...(role === 'decode' ? { kvTransfer } : {}),
      });
    },
  });
  const capacityTokens = Math.min(prefill.kvCacheBlocks, decode.kvCacheBlocks) * config.kvBlockSize;
  return {
    config,
    deployment: decode,
    engine: fleet,
    fleet,
    get tokenizer() {
      return createTokenizer(decode.model.tokenizer);
    },
    servedModels: servedModelNames(config),
    maxModelLen: Math.min(decode.maxModelLen, capacityTokens),
    metadata: {
      ...describeDeployment(decode),
      disaggregation: {
        prefillReplicas: config.prefillReplicas,
        decodeReplicas: config.decodeReplicas,
        prefill: describeDeployment(prefill),
        decode: describeDeployment(decode),
        kvTransferLink: link.key,
        maxLocalPrefillLength: config.maxLocalPrefillLength,
      } satisfies DisaggMetadata,
    },
    observers,
    replicaObservers,
    jitter,
  };
}
