/**
 * The timeline of a `simulate --html` run: what each replica's engine did, in buckets of simulated
 * time. The bucket width starts at 10 ms and doubles (neighbours merged) whenever the run outgrows
 * `maxBuckets`, so however long the run, the timeline holds at most that many points and a
 * 100k-request run stays a small file. Fed by the same observer hubs as the metrics
 * (runtime.replicaObservers): steps and finished requests only, so it never asks for token events
 * and simulate's lazily decoded sequences stay lazy — the run, and its report, are the same with
 * or without it.
 */
import type { FinishedRequest, StepRecord } from '../engine/engine.js';
import type { EngineStats } from '../engine/types.js';
import type { Runtime } from '../runtime.js';
import { isDisaggFleet } from '../fleet/disagg/disagg-fleet.js';
import { LATENCY_BINS, latencyBin } from '../ui/latency-bins.js';

/** How two neighbouring buckets merge. */
type Merge = 'sum' | 'max' | 'last';

/** Per-replica series: sums over the bucket's steps, maxima, or the value after its last step. */
const REPLICA_FIELDS = {
  steps: 'sum',
  decode: 'sum',
  prefill: 'sum',
  preemptions: 'sum',
  running: 'max',
  waiting: 'max',
  inUse: 'last',
  reusable: 'last',
  free: 'last',
  host: 'last',
  disk: 'last',
  // Running totals (the report takes their differences).
  hit: 'last',
  query: 'last',
  evictions: 'last',
  hostEvictions: 'last',
  diskEvictions: 'last',
  routed: 'last',
  predicted: 'last',
  actual: 'last',
} as const satisfies Record<string, Merge>;

export type ReplicaField = keyof typeof REPLICA_FIELDS;
const FIELDS = Object.keys(REPLICA_FIELDS) as ReplicaField[];

/** Fleet-wide series per bucket. */
export interface TimelineTotals {
  /** Requests that finished in the bucket. */
  readonly finished: Float64Array;
  /** Requests whose first token came in the bucket (its output tokens beside the decode steps'). */
  readonly firstTokens: Float64Array;
  /** TTFT histogram of the requests whose first token came in the bucket: LATENCY_BINS per bucket. */
  readonly ttft: Uint32Array;
  /** Histogram of each request's mean inter-token latency, by the bucket it finished in. */
  readonly itl: Uint32Array;
}

export interface Timeline {
  readonly widthMs: number;
  /** Buckets used (the run's last step or finish falls in the last). */
  readonly buckets: number;
  readonly replicas: readonly Record<ReplicaField, Float64Array>[];
  /** Whether a step of replica i ended in the bucket (its `last` values are its own). */
  readonly filled: readonly Uint8Array[];
  readonly totals: TimelineTotals;
  /** Capacity of each replica's tiers, in blocks. */
  readonly tiers: readonly { gpu: number; host: number; disk: number }[];
  /** Disaggregated serving: each replica's role. */
  readonly roles?: readonly string[] | undefined;
}

interface Source {
  stats(): EngineStats;
  readonly routed?: number;
  readonly predictedCachedTokens?: number;
  readonly actualCachedTokens?: number;
}

export interface TimelineRecorder {
  /** Subscribes to the runtime's replicas (before the run starts). */
  attach(runtime: Runtime): void;
  result(): Timeline;
}

export function createTimelineRecorder(maxBuckets = 1000, firstWidthMs = 10): TimelineRecorder {
  let width = firstWidthMs;
  let used = 0;
  let replicas: Record<ReplicaField, Float64Array>[] = [];
  let filled: Uint8Array[] = [];
  let sources: Source[] = [];
  let roles: readonly string[] | undefined;
  const totals: TimelineTotals = {
    finished: new Float64Array(maxBuckets),
    firstTokens: new Float64Array(maxBuckets),
    ttft: new Uint32Array(maxBuckets * LATENCY_BINS),
    itl: new Uint32Array(maxBuckets * LATENCY_BINS),
  };

  /** Halves the resolution: bucket j becomes buckets 2j and 2j+1 merged. */
  const coarsen = () => {
    const half = Math.ceil(used / 2);
    replicas.forEach((series, r) => {
      const f = filled[r]!;
      for (const field of FIELDS) {
        const a = series[field];
        const how = REPLICA_FIELDS[field];
        for (let j = 0; j < half; j++) {
          const x = a[2 * j]!;
          const y = 2 * j + 1 < used ? a[2 * j + 1]! : x;
          a[j] =
            how === 'sum'
              ? x + (2 * j + 1 < used ? y : 0)
              : how === 'max'
                ? Math.max(x, y)
                : 2 * j + 1 < used && f[2 * j + 1]
                  ? y
                  : x;
        }
        a.fill(0, half);
      }
      for (let j = 0; j < half; j++) f[j] = f[2 * j]! | (2 * j + 1 < used ? f[2 * j + 1]! : 0);
      f.fill(0, half);
    });
    for (const a of [totals.finished, totals.firstTokens]) {
      for (let j = 0; j < half; j++) a[j] = a[2 * j]! + (2 * j + 1 < used ? a[2 * j + 1]! : 0);
      a.fill(0, half);
    }
    for (const h of [totals.ttft, totals.itl]) {
      for (let j = 0; j < half; j++) {
        for (let b = 0; b < LATENCY_BINS; b++) {
          const second = 2 * j + 1 < used ? h[(2 * j + 1) * LATENCY_BINS + b]! : 0;
          h[j * LATENCY_BINS + b] = h[2 * j * LATENCY_BINS + b]! + second;
        }
      }
      h.fill(0, half * LATENCY_BINS);
    }
    used = half;
    width *= 2;
  };

  const bucketOf = (ms: number): number => {
    let b = Math.floor(ms / width);
    while (b >= maxBuckets) {
      coarsen();
      b = Math.floor(ms / width);
    }
    if (b + 1 > used) used = b + 1;
    return b;
  };

  const onStep = (r: number, step: StepRecord) => {
    const b = bucketOf(step.startMs + step.durationMs);
    const s = replicas[r]!;
    const src = sources[r]!;
    const stats = src.stats();
    const kv = stats.kvCache;
    s.steps[b]!++;
    s.decode[b] = s.decode[b]! + step.work.decodeSeqs;
    let prefill = 0;
    for (const c of step.work.prefillChunks) prefill += c.tokens;
    s.prefill[b] = s.prefill[b]! + prefill;
    s.preemptions[b] = s.preemptions[b]! + step.preemptions;
    if (stats.running > s.running[b]!) s.running[b] = stats.running;
    if (stats.waiting > s.waiting[b]!) s.waiting[b] = stats.waiting;
    s.inUse[b] = kv.gpu.inUse;
    s.reusable[b] = kv.gpu.reusable;
    s.free[b] = kv.gpu.free;
    s.host[b] = kv.host.used;
    s.disk[b] = kv.disk.used;
    s.hit[b] = kv.hitTokens;
    s.query[b] = kv.queryTokens;
    s.evictions[b] = kv.evictions;
    s.hostEvictions[b] = kv.hostEvictions;
    s.diskEvictions[b] = kv.diskEvictions;
    s.routed[b] = src.routed ?? 0;
    s.predicted[b] = src.predictedCachedTokens ?? 0;
    s.actual[b] = src.actualCachedTokens ?? 0;
    filled[r]![b] = 1;
  };

  const onFinished = (done: FinishedRequest) => {
    const t = done.timings;
    if (done.usage.completionTokens > 0 && t.firstTokenMs >= t.arrivalMs) {
      const first = bucketOf(t.firstTokenMs);
      totals.firstTokens[first]!++;
      totals.ttft[first * LATENCY_BINS + latencyBin(t.firstTokenMs - t.arrivalMs)]!++;
    }
    const end = bucketOf(t.finishedMs);
    totals.finished[end]!++;
    if (done.usage.completionTokens > 1) {
      const itl = (t.finishedMs - t.firstTokenMs) / (done.usage.completionTokens - 1);
      totals.itl[end * LATENCY_BINS + latencyBin(itl)]!++;
    }
  };

  return {
    attach(runtime) {
      const fleet = runtime.fleet;
      sources = fleet ? [...fleet.replicas] : [runtime.engine];
      replicas = sources.map(
        () =>
          Object.fromEntries(FIELDS.map((f) => [f, new Float64Array(maxBuckets)])) as Record<
            ReplicaField,
            Float64Array
          >,
      );
      filled = sources.map(() => new Uint8Array(maxBuckets));
      // A disaggregated request finishes twice, its prefill leg on a prefill replica first: the
      // client's request is the decode leg.
      roles = isDisaggFleet(fleet) ? fleet.roles : undefined;
      runtime.replicaObservers.forEach((hub, r) => {
        hub.add({
          onStep: (step) => onStep(r, step),
          ...(roles && roles[r] !== 'decode' ? {} : { onFinished }),
        });
      });
    },
    result() {
      const tiers = sources.map((s) => {
        const kv = s.stats().kvCache;
        return { gpu: kv.gpu.total, host: kv.host.total, disk: kv.disk.total };
      });
      return { widthMs: width, buckets: used, replicas, filled, totals, tiers, roles };
    },
  };
}
