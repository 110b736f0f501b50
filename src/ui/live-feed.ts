/**
 * What the live page (GET /ui) shows, aggregated from the engine's own events: one frame per tick
 * (4 a second) for every open page, serialised once and written to each. Subscribed the way the
 * metrics are (an observer on each replica's ObserverHub, runtime.replicaObservers), but idle
 * while no page is open: each event then costs one call that returns at a flag, no timer runs,
 * no snapshot is read, and the observer does not ask for token events (`observesTokens` false),
 * so it never makes a lazily decoded sequence eager.
 *
 * A frame carries counts only — no prompt, reply or request id — per replica: running, waiting,
 * the steps' batches (decode sequences, prefill tokens), the KV blocks per tier, prefix-cache
 * and eviction deltas, the router's decisions; and overall the tokens, the TTFT and ITL
 * histograms of the tick (the page keeps the last minute) and the faults injected.
 */
import type { EngineObserver, StepRecord } from '../engine/engine.js';
import type { ObserverHub } from '../engine/observer-hub.js';
import type { EngineStats } from '../engine/types.js';
import { LATENCY_BINS, latencyBin, latencyBinBounds } from './latency-bins.js';

/** One replica as the feed reads it: its snapshot and, behind a router, what was routed to it. */
export interface LiveReplica {
  stats(): EngineStats;
  readonly routed?: number;
  readonly predictedCachedTokens?: number;
  readonly actualCachedTokens?: number;
}

export interface LiveFeedOptions {
  /** Each replica's own events (runtime.replicaObservers); index i is replica i. */
  readonly observers: readonly ObserverHub[];
  readonly replicas: readonly LiveReplica[];
  /** The engine clock, simulated ms: rates are per simulated second (the GPU's, at any time scale). */
  readonly now: () => number;
  /** Static facts the page titles itself with (model, GPU, profile, router, roles …). */
  readonly info: Record<string, unknown>;
  /** Ms between frames (default 250: four updates a second). */
  readonly tickMs?: number;
  /** Most pages open at once; the next is refused (default 32). */
  readonly maxClients?: number;
}

/** A page's connection: gets each frame as JSON text. */
export type FrameWriter = (json: string) => void;

export interface LiveFeed {
  /**
   * Starts sending frames to `write` (a `hello`, then a `tick` every tickMs). Returns the
   * unsubscribe function, or undefined when maxClients pages are already open.
   */
  subscribe(write: FrameWriter, onClose: () => void): (() => void) | undefined;
  /** An injected fault (type name), shown on the page as it happens. */
  noteFault(type: string): void;
  /** Pages open now. */
  readonly clients: number;
  /** As many pages are open as allowed: the next subscribe is refused. */
  readonly full: boolean;
  /** Ends every page's stream (server shutdown) and stops the timer. */
  close(): void;
}

/** Per-replica accumulators of one tick, reset after each frame. */
class ReplicaTick {
  steps = 0;
  decodeSeqs = 0;
  prefillTokens = 0;
  maxDecodeSeqs = 0;
  preemptions = 0;
  busyMs = 0;

  addStep(s: StepRecord): void {
    this.steps++;
    const d = s.work.decodeSeqs;
    this.decodeSeqs += d;
    if (d > this.maxDecodeSeqs) this.maxDecodeSeqs = d;
    for (const c of s.work.prefillChunks) this.prefillTokens += c.tokens;
    this.preemptions += s.preemptions;
    this.busyMs += s.durationMs;
  }

  reset(): void {
    this.steps = this.decodeSeqs = this.prefillTokens = this.maxDecodeSeqs = this.preemptions = 0;
    this.busyMs = 0;
  }
}

/** Running totals read from a replica at the previous frame, to send their change. */
interface Previous {
  hit: number;
  query: number;
  evictions: number;
  hostEvictions: number;
  diskEvictions: number;
  routed: number;
  predicted: number;
  actual: number;
}

const MAX_FAULTS_PER_TICK = 50;

export function createLiveFeed(opts: LiveFeedOptions): LiveFeed {
  const tickMs = opts.tickMs ?? 250;
  const maxClients = opts.maxClients ?? 32;
  const n = opts.replicas.length;
  const ticks = Array.from({ length: n }, () => new ReplicaTick());
  const ttft = new Uint32Array(LATENCY_BINS);
  const itl = new Uint32Array(LATENCY_BINS);
  const clients = new Map<FrameWriter, () => void>();
  let active = false;
  let tokens = 0;
  let finished = 0;
  let faults: { type: string; t: number }[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastWall = 0;
  let lastSim = 0;
  const previous: Previous[] = [];

  opts.observers.forEach((hub, i) => {
    const tick = ticks[i]!;
    const observer: EngineObserver = {
      onStep(step) {
        if (active) tick.addStep(step);
      },
      // Never the reason a sequence decodes token by token: only counted when they are delivered.
      observesTokens: () => false,
      onToken(_request, sinceLastMs, first) {
        if (!active) return;
        tokens++;
        if (first) ttft[latencyBin(sinceLastMs)]!++;
        else itl[latencyBin(sinceLastMs)]!++;
      },
      onFinished() {
        if (active) finished++;
      },
    };
    hub.add(observer);
  });

  const readTotals = (r: LiveReplica, s: EngineStats): Previous => ({
    hit: s.kvCache.hitTokens,
    query: s.kvCache.queryTokens,
    evictions: s.kvCache.evictions,
    hostEvictions: s.kvCache.hostEvictions,
    diskEvictions: s.kvCache.diskEvictions,
    routed: r.routed ?? 0,
    predicted: r.predictedCachedTokens ?? 0,
    actual: r.actualCachedTokens ?? 0,
  });

  const sparse = (bins: Uint32Array): number[] => {
    const out: number[] = [];
    for (let i = 0; i < bins.length; i++) if (bins[i]! > 0) out.push(i, bins[i]!);
    bins.fill(0);
    return out;
  };

  /** Starts the tick from now: totals read so the first frame's deltas cover one tick only. */
  const start = () => {
    active = true;
    lastWall = Date.now();
    lastSim = opts.now();
    opts.replicas.forEach((r, i) => (previous[i] = readTotals(r, r.stats())));
    for (const t of ticks) t.reset();
    ttft.fill(0);
    itl.fill(0);
    tokens = finished = 0;
    faults = [];
    timer = setInterval(emit, tickMs);
    timer.unref?.();
  };

  const stop = () => {
    active = false;
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  const frame = (): string => {
    const wall = Date.now();
    const sim = opts.now();
    const replicas = opts.replicas.map((r, i) => {
      const s = r.stats();
      const kv = s.kvCache;
      const t = ticks[i]!;
      const before = previous[i]!;
      const now = readTotals(r, s);
      previous[i] = now;
      const out = {
        running: s.running,
        waiting: s.waiting,
        steps: t.steps,
        decodeSeqs: t.decodeSeqs,
        prefillTokens: t.prefillTokens,
        maxDecodeSeqs: t.maxDecodeSeqs,
        preemptions: t.preemptions,
        busyMs: Math.round(t.busyMs * 10) / 10,
        gpu: [kv.gpu.inUse, kv.gpu.reusable, kv.gpu.free],
        host: kv.host.used,
        disk: kv.disk.used,
        hitTokens: now.hit - before.hit,
        queryTokens: now.query - before.query,
        evictions: [
          now.evictions - before.evictions,
          now.hostEvictions - before.hostEvictions,
          now.diskEvictions - before.diskEvictions,
        ],
        routed: now.routed - before.routed,
        predictedCachedTokens: now.predicted - before.predicted,
        actualCachedTokens: now.actual - before.actual,
      };
      t.reset();
      return out;
    });
    const json = JSON.stringify({
      type: 'tick',
      t: wall,
      wallMs: wall - lastWall,
      simMs: Math.round((sim - lastSim) * 10) / 10,
      tokens,
      finished,
      ttft: sparse(ttft),
      itl: sparse(itl),
      faults,
      replicas,
    });
    lastWall = wall;
    lastSim = sim;
    tokens = finished = 0;
    faults = [];
    return json;
  };

  const emit = () => {
    const json = frame();
    for (const write of clients.keys()) write(json);
  };

  const hello = (): string => {
    const stats = opts.replicas.map((r) => r.stats().kvCache);
    return JSON.stringify({
      type: 'hello',
      tickMs,
      info: opts.info,
      latencyBinsMs: latencyBinBounds(),
      blockSize: stats[0]?.blockSize ?? 0,
      tiers: stats.map((kv) => ({ gpu: kv.gpu.total, host: kv.host.total, disk: kv.disk.total })),
    });
  };

  return {
    subscribe(write, onClose) {
      if (clients.size >= maxClients) return undefined;
      clients.set(write, onClose);
      write(hello());
      if (!active) start();
      return () => {
        if (!clients.delete(write)) return;
        if (clients.size === 0) stop();
      };
    },
    noteFault(type) {
      if (active && faults.length < MAX_FAULTS_PER_TICK) faults.push({ type, t: Date.now() });
    },
    get clients() {
      return clients.size;
    },
    get full() {
      return clients.size >= maxClients;
    },
    close() {
      const closing = [...clients.values()];
      clients.clear();
      stop();
      for (const onClose of closing) onClose();
    },
  };
}
