/**
 * The series only a disaggregated deployment has (docs/disaggregation.md#metrics): each KV
 * transfer's time and bytes, where prompts were prefilled, and the requests waiting in each role's
 * queues and on the link. Registered only then, so no other deployment's exposition changes.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the disaggregated fleet tells the metrics. */
export interface DisaggMetricsSource {
  /** Running totals. */
  counters(): {
    readonly remotePrefills: number;
    readonly localPrefills: number;
    readonly transfersInFlight: number;
  };
  /** Requests waiting to be admitted by the role's replicas, summed. */
  waiting(role: 'prefill' | 'decode'): number;
  /** Calls `listener` with each transfer as it starts (its time is known then). */
  onTransfer(listener: (t: { readonly ms: number; readonly bytes: number }) => void): void;
}

/** Transfers take microseconds over NVLink and tens of milliseconds over Ethernet for long prompts. */
const TRANSFER_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

export function registerDisaggMetrics(
  registry: Registry,
  src: DisaggMetricsSource,
  model: { model_name: string },
): void {
  const registers = [registry];
  const seconds = new Histogram({
    name: 'nimsim_kv_transfer_seconds',
    help: "Time to move a request's KV blocks from a prefill to a decode replica, from the decode replica's admission to the last block's arrival.",
    labelNames: ['model_name'],
    buckets: TRANSFER_BUCKETS,
    registers,
  });
  const bytes = new Counter({
    name: 'nimsim_kv_transfer_bytes_total',
    help: 'Bytes of KV cache moved from prefill to decode replicas (all GPUs).',
    labelNames: ['model_name'],
    registers,
  });
  seconds.zero(model);
  bytes.inc(model, 0);
  src.onTransfer((t) => {
    seconds.observe(model, t.ms / 1000);
    bytes.inc(model, t.bytes);
  });

  const seen = { remote: 0, local: 0 };
  const prefills = new Counter({
    name: 'nimsim_disagg_prefills_total',
    help: 'Prompts prefilled on a prefill replica (where="remote") or on their decode replica (where="local", conditional disaggregation).',
    labelNames: ['model_name', 'where'],
    registers,
    collect() {
      const c = src.counters();
      this.inc({ ...model, where: 'remote' }, c.remotePrefills - seen.remote);
      this.inc({ ...model, where: 'local' }, c.localPrefills - seen.local);
      seen.remote = c.remotePrefills;
      seen.local = c.localPrefills;
    },
  });
  prefills.inc({ ...model, where: 'remote' }, 0);
  prefills.inc({ ...model, where: 'local' }, 0);
  new Gauge({
    name: 'nimsim_disagg_queue_requests',
    help: "Requests waiting to be admitted by the role's replicas (the prefill queue, the decode queue).",
    labelNames: ['model_name', 'role'],
    registers,
    collect() {
      this.set({ ...model, role: 'prefill' }, src.waiting('prefill'));
      this.set({ ...model, role: 'decode' }, src.waiting('decode'));
    },
  });
  new Gauge({
    name: 'nimsim_kv_transfers_in_flight',
    help: 'KV transfers started and not yet landed on their decode replica.',
    labelNames: ['model_name'],
    registers,
    collect() {
      this.set(model, src.counters().transfersInFlight);
    },
  });
}
