/**
 * `nimsim serve`: builds the runtime on the real clock (or the immediate clock at time scale 0),
 * the metrics and the app, listens, and shuts down gracefully: on SIGTERM/SIGINT readiness turns
 * 503 at once, new requests are refused, running streams finish (up to the drain timeout, then end
 * aborted), every connection still open just after the timeout is closed, and the process exits 0.
 */
import { createAdaptorServer, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { installClientErrorHandler } from './api/http/client-errors.js';
import { createApp } from './app.js';
import { ConfigError, describeConfig, type Config } from './config/config.js';
import { describeSettingProblem } from './config/setting-names.js';
import { SERVE_DEFAULT_JITTER } from './config/settings.js';
import { ApiError } from './serving/errors.js';
import { createServingContext } from './serving/context.js';
import { createRuleStore, type RuleStore } from './content/rules/rule-store.js';
import { RulesFileError, validateRules } from './content/rules/rules-file.js';
import { createAdjustableClock } from './engine/clock.js';
import { createStepLagWarning } from './engine/step-lag-warning.js';
import { createFaultInjector, type FaultInjector } from './api/faults/faults.js';
import { createServeLiveConfig, type LiveConfig } from './api/admin/live-config.js';
import type { Logger } from './logging.js';
import type { KvEventPublisher } from './kv-events/publisher.js';
import type { Replica } from './fleet/fleet.js';
import { createMetrics, type Metrics, type RouterReplicaCounters } from './metrics/metrics.js';
import { createRuntime, type Runtime } from './runtime.js';
import { isDisaggFleet, type DisaggFleet } from './fleet/disagg/disagg-fleet.js';
import { VERSION } from './version.js';
import { findModel } from './catalog/models.js';
import { createLoraService, type LoraService } from './lora/lora-service.js';
import type { Hono } from 'hono';
import { createLiveFeed, type LiveFeed } from './ui/live-feed.js';

export { SERVE_DEFAULT_JITTER } from './config/settings.js';

export interface Service {
  readonly app: Hono;
  readonly runtime: Runtime;
  readonly metrics: Metrics;
  readonly faults: FaultInjector;
  /** The settings PATCH /admin/config changes at run time. */
  readonly live: LiveConfig;
  /** Scripted replies in force. */
  readonly rules: RuleStore;
  /** What the live page (GET /ui) draws; undefined with NIMSIM_UI=0. */
  readonly liveFeed: LiveFeed | undefined;
  /** LoRA adapters (NIM_PEFT_SOURCE set, generative model); undefined: LoRA off. */
  readonly loras: LoraService | undefined;
  /** Turns readiness off and refuses new work; resolves once running requests are done. */
  drain(timeoutMs: number): Promise<void>;
}

/** The router's running totals for one replica, as the metrics read them. */
function routerCounters(r: Replica): RouterReplicaCounters {
  return {
    requests: r.routed,
    predictedCachedTokens: r.predictedCachedTokens,
    actualCachedTokens: r.actualCachedTokens,
  };
}

/** A disaggregated fleet as its metrics read it: roles, transfers, queues. */
function disaggMetricsOf(fleet: DisaggFleet) {
  const waiting = (from: number, to: number) => {
    let n = 0;
    for (let i = from; i < to; i++) n += fleet.replicas[i]!.stats().waiting;
    return n;
  };
  const P = fleet.prefillReplicas;
  return {
    roles: fleet.roles,
    source: {
      counters: () => fleet.disagg,
      waiting: (role: 'prefill' | 'decode') =>
        role === 'prefill' ? waiting(0, P) : waiting(P, fleet.replicas.length),
      onTransfer: (l: (t: { ms: number; bytes: number }) => void) => fleet.disagg.onTransfer(l),
    },
  };
}

/** Everything but the listening socket: used by `serve` and by tests through `app.request()`. */
export function createService(
  config: Config,
  logger: Logger,
  opts: { processMetrics?: boolean; watchRules?: boolean } = {},
): Service {
  // Adjustable so PATCH /admin/config can change the time scale of a running server.
  const clock = createAdjustableClock(config.timeScale);
  const runtime = createRuntime(config, { clock, defaultJitter: SERVE_DEFAULT_JITTER });
  const metrics = createMetrics({
    primaryModel: runtime.servedModels[0]!,
    servedModels: runtime.servedModels,
    maxModelLen: runtime.maxModelLen,
    maxNumSeqs: config.maxNumSeqs,
    stats: () => runtime.engine.stats(),
    // With replicas, each one's vllm: series carry its index (engine="<i>"), and the router's count.
    ...(runtime.fleet && {
      engineStats: runtime.fleet.replicas.map((r) => () => r.stats()),
      router: () => runtime.fleet!.replicas.map(routerCounters),
    }),
    ...(isDisaggFleet(runtime.fleet) && { disagg: disaggMetricsOf(runtime.fleet) }),
    cacheConfig: {
      block_size: String(config.kvBlockSize),
      num_gpu_blocks: String(runtime.engine.stats().kvCache.gpu.total),
      num_cpu_blocks: String(config.kvHostCacheBlocks),
      // vLLM renders every CacheConfig field with Python's str(): True / False.
      enable_prefix_caching: config.enableKvCacheReuse ? 'True' : 'False',
      gpu_memory_utilization: String(config.gpuMemoryUtilization),
      // vLLM's kv_cache_dtype: 'auto' keeps the model dtype; FP8/FP4 profiles store KV in fp8.
      cache_dtype: runtime.deployment.precision.kvBytesPerElement === 1 ? 'fp8' : 'auto',
      eviction_policy: config.kvEviction,
      engine: '0',
    },
    processMetrics: opts.processMetrics ?? true,
  });
  runtime.replicaObservers.forEach((hub, i) => hub.add(metrics.observerFor(i)));
  // The step-lag gauge says when the host cannot keep up; the log says it too, at most every 30 s.
  runtime.observers.add(
    createStepLagWarning({
      warn: (message, fields) => logger.warn(message, fields),
      now: () => performance.now(),
    }),
  );
  const faults = createFaultInjector(
    {
      rate: config.faultRate,
      types: config.faultTypes,
      delayMs: config.faultDelayMs,
      headers: config.faultHeaders,
    },
    config.seed,
  );
  const live = createServeLiveConfig({ faults, clock, jitter: runtime.jitter });
  const rules = loadRules(config, logger, opts.watchRules ?? false);
  live.register('rules', {
    parse: (raw) => {
      try {
        return validateRules(raw, 'rules');
      } catch (err) {
        if (err instanceof RulesFileError) throw new ApiError(400, err.message, 'rules');
        throw err;
      }
    },
    apply: (value) => rules.replace(value),
    current: () => rules.rules(),
  });
  const liveFeed = config.ui ? createServiceLiveFeed(config, runtime, () => clock.now()) : undefined;
  const embedding = findModel(config.modelName)?.embedding !== undefined;
  // Embedding NIMs serve no adapters.
  const loras = embedding
    ? undefined
    : createLoraService(config, runtime.deployment.model, runtime.servedModels, logger);
  const readyAt = Date.now() + config.readyDelayMs;
  let ready = false;
  let draining = false;
  const app = createApp({
    serving: createServingContext(config, runtime, rules, loras?.registry),
    info: {
      modelName: config.modelName,
      servedModels: runtime.servedModels,
      ownedBy: runtime.deployment.model.ownedBy,
      maxModelLen: runtime.maxModelLen,
      startedAtS: Math.floor(Date.now() / 1000),
      release: VERSION,
      metadata: runtime.metadata,
    },
    // Injected faults are counted, and shown on the live page as they happen.
    metrics: liveFeed
      ? {
          ...metrics,
          recordFault: (type: string) => {
            metrics.recordFault(type);
            liveFeed.noteFault(type);
          },
        }
      : metrics,
    liveFeed,
    // Ready stays ready: once the load delay has passed, no clock read per request.
    readiness: { isReady: () => ready || (ready = Date.now() >= readyAt), isDraining: () => draining },
    admin: {
      describeConfig: () => describeConfig(config),
      engine: runtime.engine,
      replicas: runtime.fleet?.replicas,
      ...(isDisaggFleet(runtime.fleet) && { roles: runtime.fleet.roles }),
      live,
    },
    faults,
    logger,
    apiKey: config.apiKey,
    adminToken: config.adminToken,
    maxBodyBytes: config.maxBodyBytes,
    streamBufferBytes: config.streamBufferBytes,
  });
  return {
    app,
    runtime,
    metrics,
    faults,
    live,
    rules,
    liveFeed,
    loras,
    async drain(timeoutMs) {
      draining = true;
      await runtime.engine.drain(timeoutMs);
      // The live pages watched the drain; their streams end with it, so no open page holds the
      // server's close until the deadline.
      liveFeed?.close();
    },
  };
}

/** The live page's feed over every replica, titled with the deployment. */
function createServiceLiveFeed(config: Config, runtime: Runtime, now: () => number): LiveFeed {
  const d = runtime.deployment;
  const fleet = runtime.fleet;
  return createLiveFeed({
    observers: runtime.replicaObservers,
    replicas: fleet?.replicas ?? [runtime.engine],
    now,
    info: {
      model: runtime.servedModels[0],
      gpu: `${d.gpuCount} × ${d.gpu.key}`,
      profile: d.profile.name,
      timeScale: config.timeScale,
      version: VERSION,
      ...(fleet && { router: fleet.router }),
      ...(isDisaggFleet(fleet) && { roles: fleet.roles }),
    },
  });
}

/** The rules file, validated at start: a bad file is a ConfigError (exit 2) naming line and problem. */
function loadRules(config: Config, logger: Logger, watch: boolean): RuleStore {
  try {
    return createRuleStore({
      file: config.rulesFile,
      watch,
      onReload: (count) => logger.info(`rules reloaded: ${count} rule(s)`, { rules: count }),
      onReloadError: (err) => logger.warn(`rules file not reloaded, previous rules kept: ${err.message}`, {}),
    });
  } catch (err) {
    if (err instanceof RulesFileError)
      throw new ConfigError(describeSettingProblem(config, 'rulesFile', err.located));
    throw err;
  }
}

export interface RunningServer {
  readonly service: Service;
  /**
   * vLLM's KV events on ZeroMQ (NIMSIM_KV_EVENTS_ENDPOINT), one publisher per replica (its
   * data-parallel rank), closed on shutdown; empty when off.
   */
  readonly kvEvents: readonly KvEventPublisher[];
  readonly server: ServerType;
  readonly port: number;
  /** Graceful shutdown as on SIGTERM, without exiting the process. */
  shutdown(drainTimeoutMs?: number): Promise<void>;
}

export const DRAIN_TIMEOUT_MS = 30_000;

/**
 * After the drain deadline, the time the frames just written (the in-band error of streams cut at
 * the deadline) get to reach their sockets before every connection still open is closed.
 */
export const FLUSH_AFTER_DRAIN_MS = 250;

/**
 * Connections the kernel holds for `accept` (capped by net.core.somaxconn): uvicorn's default,
 * which NIM's and vLLM's API servers run with (uvicorn/config.py, `backlog: int = 2048`). Node's
 * own default, 511, overflowed when 2,000 streaming clients connected at once: the dropped
 * handshakes were retried by the clients' kernels 1, 3, 7, 15 s later, so requests reached the
 * server up to ~18 s late, some reset.
 */
export const LISTEN_BACKLOG = 2048;

/**
 * A socket that cannot listen is a bad setting, said in one line that names it (exit 2), not a
 * stack trace: the port taken or not permitted, or a host that is not an address of this machine.
 */
export function listenError(err: NodeJS.ErrnoException, config: Pick<Config, 'host' | 'port'>): Error {
  const where = `${config.host}:${config.port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new ConfigError(
        describeSettingProblem(
          config,
          'port',
          `already in use on ${config.host}; another server listens there`,
        ),
      );
    case 'EACCES':
      return new ConfigError(
        describeSettingProblem(
          config,
          'port',
          `not permitted to listen on ${where} (ports below 1024 need privileges)`,
        ),
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(
        describeSettingProblem(
          config,
          'host',
          `not an address of this machine (${err.code}); use 0.0.0.0, 127.0.0.1 or one of its own`,
        ),
      );
    default:
      return err;
  }
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const service = createService(config, logger, { watchRules: true });
  // Loaded only when asked for: the ZeroMQ addon adds ~70 ms to start-up.
  const kvEvents =
    config.kvEventsEndpoint !== undefined || config.kvEventsReplayEndpoint !== undefined
      ? await (
          await import('./kv-events/serve.js')
        ).startKvEventPublishing(config, service.runtime.replicaObservers, logger)
      : [];
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = createAdaptorServer({
      fetch: service.app.fetch,
      serverOptions: {
        maxHeaderSize: config.maxHeaderBytes,
        requestTimeout: config.requestTimeoutMs,
        // Node requires headersTimeout <= requestTimeout; 60 s is its default.
        headersTimeout: Math.min(config.requestTimeoutMs, 60_000),
        // Node checks these timeouts every 30 s by default; check often enough to honour them.
        connectionsCheckingInterval: Math.min(30_000, Math.max(250, config.requestTimeoutMs / 4)),
      },
    });
    s.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, config)));
    installClientErrorHandler(s as Server, config.apiCompat as 1 | 2);
    s.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const d = service.runtime.deployment;
  logger.info(
    `nimsim ${VERSION} serving ${service.runtime.servedModels.join(', ')} on http://${config.host}:${port}`,
    {
      port,
      profile: d.profile.name,
      gpu: `${d.gpuCount} x ${d.gpu.key}`,
      kv_cache_blocks: d.kvCacheBlocks,
      max_model_len: service.runtime.maxModelLen,
      time_scale: config.timeScale,
    },
  );
  let closing: Promise<void> | undefined;
  const shutdown = (drainTimeoutMs = DRAIN_TIMEOUT_MS) =>
    (closing ??= (async () => {
      const deadline = performance.now() + drainTimeoutMs;
      logger.info('shutting down: draining running requests', { drain_timeout_ms: drainTimeoutMs });
      await service.drain(drainTimeoutMs);
      await new Promise<void>((resolve) => {
        const closeIdle = () => {
          if ('closeIdleConnections' in server) server.closeIdleConnections();
        };
        // Streams just ended leave keep-alive sockets that turn idle a moment later; close them as
        // they do rather than waiting out the keep-alive timeout.
        const sweep = setInterval(closeIdle, 50);
        // The deadline holds for every connection, not only the engine's requests: one held by a
        // fault's delay or a rule's latency, a slow upload, a client that stopped reading is
        // closed once it has passed, so no client can keep the process alive.
        const cut = setTimeout(
          () => {
            if ('closeAllConnections' in server) server.closeAllConnections();
          },
          Math.max(0, deadline - performance.now()) + FLUSH_AFTER_DRAIN_MS,
        );
        server.close(() => {
          clearInterval(sweep);
          clearTimeout(cut);
          resolve();
        });
        closeIdle();
      });
      service.rules.close();
      service.loras?.close();
      await Promise.all(kvEvents.map((p) => p.close()));
      logger.info('shutdown complete');
    })());
  return { service, server, port, kvEvents, shutdown };
}
