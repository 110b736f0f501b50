/**
 * A fleet: N independent engines (each its own batch, KV cache and GPUs of one profile) on one
 * clock, behind one object that is itself an Engine — what Dynamo's frontend is to its workers.
 * Each request goes to the replica its router picks; the caller learns which one synchronously
 * through `SubmitOptions.onRouted` (called before the replica queues it, so before any event).
 *
 * The fleet sees each replica through its observer: KV events feed the prefix index (kv-aware and
 * session routers only), steps give each replica's peak KV usage, and every event is passed on to
 * the shared observer (metrics, reports) unchanged.
 */
import type { EngineObserver, Engine, SubmitOptions } from '../engine/engine.js';
import type { EventListener } from '../engine/sequence.js';
import type { EngineRequest, EngineStats } from '../engine/types.js';
import type { PromptBlockKeys } from '../engine/prompt-blocks.js';
import { ActiveSequences, type ActiveRequest } from './active-sequences.js';
import { createRouter } from './create-router.js';
import { mergeTopPrefixes, sumStats } from './fleet-stats.js';
import { PrefixIndex } from './prefix-index.js';
import type { KvRouterConfig, RouteQuery, RouterName, RoutingState } from './router.js';

export interface FleetSubmitOptions extends SubmitOptions {
  /**
   * Told the replica (0-based) the request was routed to, synchronously and before that replica
   * queues it (so before any event). When that replica's queue is full, `submit` then throws its
   * `queue_full` as a single engine would: the router does not try another.
   */
  readonly onRouted?: (replica: number) => void;
  /**
   * Send it to this replica without asking the router: the other choices of an `n > 1` request
   * follow the first, as vLLM runs a request's `n` samples in the one engine it was sent to.
   */
  readonly replica?: number | undefined;
  /**
   * The prompt's block keys, as `FleetOptions.blockKeys` would compute them, when the caller has
   * them cheaper (a conversation extends its previous turn's keys): asked for only when the router
   * reads keys, and only for a request without a cache salt, a LoRA adapter or a skipped lookup.
   */
  readonly promptBlockKeys?: (() => readonly number[]) | undefined;
}

/** One replica of the fleet, for per-replica figures and admin actions. */
export interface Replica {
  readonly index: number;
  stats(): EngineStats;
  waitingRoom(): number;
  /** Resets this replica's prefix cache only (and the router's view of it). */
  resetPrefixCache(): void;
  topPrefixes: Engine['topPrefixes'];
  /** This replica's cached block keys per tier (O(blocks): tests and debugging). */
  cachedBlockKeys: Engine['cachedBlockKeys'];
  /** Highest fraction of its GPU KV blocks in use at the end of any step so far. */
  readonly peakKvUsage: number;
  /** Requests routed here so far. */
  readonly routed: number;
  /** Prompt tokens the router expected this replica to find cached, over the requests routed here. */
  readonly predictedCachedTokens: number;
  /** Prompt tokens this replica found cached when it admitted the requests routed here. */
  readonly actualCachedTokens: number;
}

/** The router's prediction against what the replicas found, in prompt tokens (for metrics). */
export interface RoutingCounters {
  /** Tokens the prefix index said the chosen replica held (kv-aware and session routers only). */
  readonly predictedCachedTokens: number;
  /** Tokens the chosen replicas found in their caches when they admitted those requests. */
  readonly actualCachedTokens: number;
}

/** What `Fleet.reserve` needs besides the request. */
export interface ReserveOptions {
  /** As FleetSubmitOptions.replica. */
  readonly replica?: number | undefined;
  /** As FleetSubmitOptions.promptBlockKeys. */
  readonly promptBlockKeys?: (() => readonly number[]) | undefined;
  /**
   * The prompt tokens the chosen replica will compute, given the blocks its cache holds (the
   * prefix index's overlap, 0 when the router reads no cache): its prefill load in the router's
   * view. Called once, synchronously. Default: the prompt less the overlap.
   */
  readonly prefillTokens?: ((overlapBlocks: number) => number) | undefined;
  /**
   * The request is submitted at once and refused if the replica's queue is full (queue_full): then
   * its load does not change, so it is not tracked. (Under overload most submits end so; tracking
   * each and untracking it again was most of what a refusal cost.)
   */
  readonly refusedWhenFull?: boolean | undefined;
}

/**
 * A replica chosen and counted in its router's load view before the request is queued there, so
 * requests routed meanwhile see it taken: a disaggregated request picks its decode replica
 * when it arrives and reaches it only after its remote prefill. `submit` (once) queues it there as
 * Fleet.submit would; `cancel` releases the reservation of a request that never gets there.
 */
export interface Reservation {
  readonly replica: number;
  /** Prompt blocks the prefix index says the replica holds in a row (0 when the router reads no cache). */
  readonly overlapBlocks: number;
  /** Queues the request on the reserved replica, as that engine's own `submit`. */
  submit: Engine['submit'];
  cancel(): void;
}

export interface Fleet extends Engine {
  readonly router: RouterName;
  readonly replicas: readonly Replica[];
  submit(
    req: EngineRequest,
    listener: EventListener,
    signal?: AbortSignal,
    options?: FleetSubmitOptions,
  ): () => void;
  routing(): RoutingCounters;
}

/** A fleet of one pool of like replicas, which can also reserve a replica before queueing there. */
export interface PoolFleet extends Fleet {
  /** Routes a request and reserves the replica without queueing it (see Reservation). */
  reserve(req: EngineRequest, options?: ReserveOptions): Reservation;
}

export interface FleetOptions {
  readonly size: number;
  /** Builds replica `index`'s engine with the observer the fleet gives it. */
  readonly createReplica: (index: number, observer: EngineObserver) => Engine;
  readonly router: RouterName;
  readonly kvRouter: KvRouterConfig;
  /** Seeds the random and kv-aware routers' streams. */
  readonly seed: number;
  readonly blockSize: number;
  /** The prompt's block keys as the replicas' caches compute them (src/engine/prompt-blocks.ts). */
  readonly blockKeys: PromptBlockKeys;
  /** Receives every replica's events. */
  readonly observer?: EngineObserver | undefined;
}

export function createFleet(opts: FleetOptions): PoolFleet {
  const { size, observer } = opts;
  const index = new PrefixIndex(size);
  const active = new ActiveSequences(size);
  const peaks = new Float64Array(size);
  const routedCounts = new Int32Array(size);
  const predictedByReplica = new Float64Array(size);
  const actualByReplica = new Float64Array(size);
  let predictedCachedTokens = 0;
  let actualCachedTokens = 0;
  // Set once the router exists (it reads the engines, which need their observers first).
  let tracksCache = false;

  /** Whether the observer behind the fleet listens for KV events (one without the method does). */
  const downstreamListens = () =>
    observer?.observesKvEvents ? observer.observesKvEvents() : observer?.onKvEvents !== undefined;
  const observerOf = (i: number): EngineObserver => ({
    onStep(step) {
      if (step.kvUsage > peaks[i]!) peaks[i] = step.kvUsage;
      observer?.onStep?.(step);
    },
    ...(observer?.onToken ? { onToken: observer.onToken.bind(observer) } : {}),
    observesTokens: () =>
      observer?.observesTokens ? observer.observesTokens() : observer?.onToken !== undefined,
    ...(observer?.onFinished ? { onFinished: observer.onFinished.bind(observer) } : {}),
    onKvEvents(batch) {
      if (batch.log) {
        // Only the index listens (observesKvEventLog): nothing to pass on.
        if (tracksCache) index.applyLog(i, batch.log);
        return;
      }
      if (tracksCache) index.apply(i, batch);
      observer?.onKvEvents?.(batch);
    },
    observesKvEvents: () => tracksCache || downstreamListens(),
    // The index reads keys only: without a listener behind the fleet, no event objects are built.
    observesKvEventLog: () => tracksCache && !downstreamListens(),
    // The prefix index keys on hashes: token ids only when a listener behind the fleet wants them.
    observesKvEventTokens: () => downstreamListens() && (observer?.observesKvEventTokens?.() ?? true),
  });
  const engines = Array.from({ length: size }, (_, i) => opts.createReplica(i, observerOf(i)));
  const state: RoutingState = { replicas: engines, index, active, blockSize: opts.blockSize };
  const router = createRouter(opts.router, state, opts.kvRouter, opts.seed);
  tracksCache = router.usesCacheState;
  const overlapScratch = new Int32Array(size);

  const replicas: Replica[] = engines.map((engine, i) => ({
    index: i,
    stats: () => engine.stats(),
    waitingRoom: () => engine.waitingRoom(),
    resetPrefixCache() {
      engine.resetPrefixCache();
      // The replica's AllBlocksCleared event says the same; clearing here keeps the index right
      // even when events are not emitted.
      index.clear(i);
    },
    topPrefixes: (n) => engine.topPrefixes(n),
    cachedBlockKeys: () => engine.cachedBlockKeys(),
    get peakKvUsage() {
      return peaks[i]!;
    },
    get routed() {
      return routedCounts[i]!;
    },
    get predictedCachedTokens() {
      return predictedByReplica[i]!;
    },
    get actualCachedTokens() {
      return actualByReplica[i]!;
    },
  }));

  /** A query whose keys and overlaps are computed on first use, once. */
  const queryOf = (request: EngineRequest, given: FleetSubmitOptions['promptBlockKeys']): RouteQuery => {
    let keys: readonly number[] | undefined;
    let overlaps: Int32Array | undefined;
    const q: RouteQuery = {
      request,
      keys: () =>
        (keys ??= request.skipPrefixCacheLookup
          ? []
          : given && !request.cacheSalt && !request.lora
            ? given()
            : opts.blockKeys(request.promptTokenIds, request.cacheSalt, request.lora?.name)),
      overlaps() {
        if (!overlaps) {
          overlaps = overlapScratch;
          index.overlaps(q.keys(), overlaps);
        }
        return overlaps;
      },
    };
    return q;
  };

  /**
   * Routes `req` now and counts it in the chosen replica's load (the router's active sequences);
   * the request is queued there only by the reservation's `submit` (see Reservation).
   */
  const reserve = (req: EngineRequest, options?: ReserveOptions): Reservation => {
    const q = queryOf(req, options?.promptBlockKeys);
    // The caller's keys are the ones queryOf takes (no salt or adapter to key the prompt apart).
    const keysAreCheap = options?.promptBlockKeys !== undefined && !req.cacheSalt && !req.lora;
    const pinned = options?.replica;
    const r =
      pinned !== undefined && Number.isInteger(pinned) && pinned >= 0 && pinned < size
        ? pinned
        : router.route(q);
    let tracked: ActiveRequest | undefined;
    let overlap = 0;
    if (tracksCache && !(options?.refusedWhenFull === true && engines[r]!.waitingRoom() <= 0)) {
      overlap = q.overlaps()[r]!;
      const full = Math.max(0, req.promptTokenIds.length - overlap * opts.blockSize);
      tracked = active.add(r, q.keys(), options?.prefillTokens?.(overlap) ?? full);
    } else {
      options?.prefillTokens?.(0);
    }
    let used = false;
    return {
      replica: r,
      overlapBlocks: overlap,
      cancel() {
        if (used) return;
        used = true;
        if (tracked) active.free(tracked);
      },
      submit(sent, listener, signal, submitOptions) {
        if (used) throw new Error('fleet: a reservation is submitted once');
        used = true;
        let admitted = false;
        const routedListener: EventListener = (ev) => {
          if (ev.type === 'scheduled' && !admitted) {
            admitted = true;
            actualCachedTokens += ev.cachedTokens;
            actualByReplica[r] = actualByReplica[r]! + ev.cachedTokens;
            if (tracked) active.prefilled(tracked);
          } else if (ev.type === 'finished' && tracked) {
            active.free(tracked);
            tracked = undefined;
          }
          listener(ev);
        };
        try {
          // The keys the router computed travel with the request: the replica's cache does not
          // hash the prompt again. A router that reads no keys still hands on the ones the caller
          // has cheaply (a conversation extends its last turn's), so no replica hashes them again.
          const withKeys = !sent.skipPrefixCacheLookup && (tracksCache || keysAreCheap);
          const abort = engines[r]!.submit(
            sent,
            routedListener,
            signal,
            withKeys
              ? {
                  tokenEvents: submitOptions?.tokenEvents,
                  pastWaitingBound: submitOptions?.pastWaitingBound,
                  blockKeys: q.keys(),
                }
              : submitOptions,
          );
          routedCounts[r]!++;
          predictedCachedTokens += overlap * opts.blockSize;
          predictedByReplica[r] = predictedByReplica[r]! + overlap * opts.blockSize;
          return abort;
        } catch (err) {
          if (tracked) active.free(tracked);
          throw err;
        }
      },
    };
  };

  return {
    router: opts.router,
    replicas,
    reserve,
    submit(req, listener, signal, options) {
      const refusedWhenFull = options?.pastWaitingBound !== true;
      const reservation = reserve(req, { ...options, refusedWhenFull });
      options?.onRouted?.(reservation.replica);
      return reservation.submit(req, listener, signal, options);
    },
    stats: () => sumStats(engines.map((e) => e.stats())),
    waitingRoom() {
      let room = 0;
      for (const e of engines) room += e.waitingRoom();
      return room;
    },
    resetPrefixCache() {
      for (const r of replicas) r.resetPrefixCache();
    },
    topPrefixes: (n) =>
      mergeTopPrefixes(
        engines.map((e) => e.topPrefixes(n)),
        n,
      ),
    cachedBlockKeys() {
      const all = engines.map((e) => e.cachedBlockKeys());
      const keys = { gpu: all.flatMap((k) => k.gpu), host: all.flatMap((k) => k.host) };
      return all.some((k) => k.disk) ? { ...keys, disk: all.flatMap((k) => k.disk ?? []) } : keys;
    },
    drain: async (timeoutMs) => {
      await Promise.all(engines.map((e) => e.drain(timeoutMs)));
    },
    routing: () => ({ predictedCachedTokens, actualCachedTokens }),
  };
}
