/**
 * An engine for unit tests: the plumbing every engine test would otherwise repeat (a virtual clock,
 * the KV cache's settings, the batch limits, no jitter) with defaults, each of which a test
 * overrides by name, so a test's setup says only what it is about.
 *
 * Defaults: 10 ms per step whatever it holds; a cache of 1000 GPU blocks of 16 tokens, no host or
 * disk tier, LRU eviction, prefix reuse on; vLLM's default limits of 256 sequences and 8192
 * batched tokens per step; 1024 requests waiting; no observer.
 *
 * For timings of a real model, deploymentUnderTest resolves the catalog's deployment the roofline
 * tests share (Llama 3.1 8B in FP8 on one H100 SXM) with overrides.
 */
import { resolveDeployment, type Deployment, type DeploymentOptions } from '../../src/catalog/deployment.js';
import { createVirtualClock, type Clock, type VirtualClock } from '../../src/engine/clock.js';
import { createEngine, type Engine, type EngineSettings } from '../../src/engine/engine.js';
import {
  createKvCacheManager,
  type KvCacheManager,
  type KvCacheOptions,
} from '../../src/engine/kv-cache/kv-cache-manager.js';
import type { PerfModel } from '../../src/engine/perf-model.js';

/** 10 ms per step, whatever it holds: timings a test can predict by counting steps. */
export const TEN_MS_STEPS: PerfModel = { stepMs: () => 10 };

export const TEST_KV_CACHE: Readonly<KvCacheOptions> = {
  blockSize: 16,
  gpuBlocks: 1000,
  hostBlocks: 0,
  eviction: 'lru',
  enableReuse: true,
  modelKey: 'm',
};

/** A KV cache on TEST_KV_CACHE's settings with `overrides`, for a test that inspects its blocks. */
export function testKvCache(overrides: Partial<KvCacheOptions> = {}): KvCacheManager {
  return createKvCacheManager({ ...TEST_KV_CACHE, ...given(overrides) });
}

/** `overrides` without its undefined entries: an override a test leaves undefined keeps the default. */
function given<T extends object>(overrides: T): Partial<T> {
  return Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export type EngineUnderTestOptions = Partial<Omit<EngineSettings, 'clock'>> & {
  /** Settings over TEST_KV_CACHE of the cache the engine builds and owns. */
  readonly kvCache?: Partial<KvCacheOptions>;
  /** A cache the test built itself (testKvCache) to look into; `kvCache` is then ignored. */
  readonly kv?: KvCacheManager;
};

export interface EngineUnderTest<C extends Clock> {
  readonly clock: C;
  readonly engine: Engine;
}

/** An engine on a new virtual clock. */
export function engineUnderTest(
  opts?: EngineUnderTestOptions & { readonly clock?: undefined },
): EngineUnderTest<VirtualClock>;
/** An engine on the test's clock (one shared by replicas, or one whose timers fire late). */
export function engineUnderTest<C extends Clock>(
  opts: EngineUnderTestOptions & { readonly clock: C },
): EngineUnderTest<C>;
export function engineUnderTest(
  opts: EngineUnderTestOptions & { readonly clock?: Clock | undefined } = {},
): EngineUnderTest<Clock> {
  const { clock = createVirtualClock(), kv, kvCache, ...settings } = opts;
  const limits = {
    perf: TEN_MS_STEPS,
    maxNumSeqs: 256,
    maxNumBatchedTokens: 8192,
    maxWaiting: 1024,
    jitter: () => 1,
    ...given(settings),
    clock,
  };
  const engine = kv
    ? createEngine({ ...limits, kv })
    : createEngine({ ...limits, kvCache: { ...TEST_KV_CACHE, ...given(kvCache ?? {}) } });
  return { clock, engine };
}

/**
 * The catalog's deployment of Llama 3.1 8B Instruct in FP8 on one H100 SXM (TP 1, 90 % of GPU
 * memory, 16-token KV blocks) with `overrides`; what it leaves unset (the front end, the KV disk)
 * takes the catalog's default. Its roofline times the engine's steps:
 * `createRooflinePerfModel(deploymentUnderTest().roofline)`.
 */
export function deploymentUnderTest(overrides: Partial<DeploymentOptions> = {}): Deployment {
  return resolveDeployment({
    modelName: 'meta/llama-3.1-8b-instruct',
    gpu: 'h100-sxm',
    gpuCount: 1,
    precision: 'fp8',
    tp: 1,
    gpuMemoryUtilization: 0.9,
    kvBlockSize: 16,
    ...overrides,
  });
}
