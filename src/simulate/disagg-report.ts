/**
 * The disaggregated part of a `simulate` report (--prefill-replicas and --decode-replicas): where
 * prompts were prefilled, the KV transfers' times and bytes, and each role's utilisation and queue
 * waits (docs/disaggregation.md#report). Only a disaggregated run has it, so every other report
 * is unchanged.
 */
import type { DisaggFleet } from '../fleet/disagg/disagg-fleet.js';
import { distribution, type Distribution } from './report.js';

/** One role's replicas in the report. */
export interface RoleReport {
  replicas: number;
  gpus_per_replica: number;
  /** Fraction 0–1 of the run its replicas spent in engine steps, averaged over them. */
  utilisation: number;
  /** From reaching the role's replica to being admitted there, ms. */
  queue_wait_ms: Distribution;
}

export interface DisaggReport {
  kv_transfer_link: string;
  /** GPUs of the whole deployment: both roles' replicas × their GPUs. */
  gpus: number;
  /** Requests prefilled on a prefill replica and moved. */
  remote_prefills: number;
  /** Requests prefilled on their decode replica (conditional disaggregation). */
  local_prefills: number;
  /** From the decode replica's admission to the last block's arrival, ms. */
  kv_transfer_ms: Distribution;
  /** Bytes moved into decode replicas, all GPUs. */
  kv_transfer_bytes: number;
  prefill: RoleReport;
  decode: RoleReport;
}

export function disaggReport(
  fleet: DisaggFleet,
  durationMs: number,
  link: string,
  gpusPerReplica: { prefill: number; decode: number },
): DisaggReport {
  const s = fleet.disagg;
  const busy = (from: number, count: number) => {
    let sum = 0;
    for (let i = from; i < from + count; i++) sum += s.busyMs[i]!;
    return durationMs > 0 && count > 0 ? Math.round((sum / (durationMs * count)) * 10_000) / 10_000 : 0;
  };
  const P = fleet.prefillReplicas;
  const D = fleet.decodeReplicas;
  return {
    kv_transfer_link: link,
    gpus: P * gpusPerReplica.prefill + D * gpusPerReplica.decode,
    remote_prefills: s.remotePrefills,
    local_prefills: s.localPrefills,
    kv_transfer_ms: distribution(s.transferTimes),
    kv_transfer_bytes: s.transferBytes,
    prefill: {
      replicas: P,
      gpus_per_replica: gpusPerReplica.prefill,
      utilisation: busy(0, P),
      queue_wait_ms: distribution(s.prefillQueueWaits),
    },
    decode: {
      replicas: D,
      gpus_per_replica: gpusPerReplica.decode,
      utilisation: busy(P, D),
      queue_wait_ms: distribution(s.decodeQueueWaits),
    },
  };
}

/** The report's lines for a disaggregated run. */
export function formatDisagg(d: DisaggReport): string {
  const gb = (bytes: number) => (bytes / 1e9).toFixed(3);
  const dist = (x: Distribution) =>
    [x.mean, x.p50, x.p90, x.p99].map((v) => v.toFixed(3).padStart(10)).join(' ');
  const role = (name: string, r: RoleReport) =>
    `${name.padEnd(8)}${String(r.replicas).padStart(9)}${String(r.gpus_per_replica).padStart(6)}${`${(r.utilisation * 100).toFixed(1)} %`.padStart(9)} ${dist(r.queue_wait_ms)}`;
  return [
    `disaggregated over ${d.kv_transfer_link}, ${d.gpus} GPUs: ${d.remote_prefills} prompts prefilled remotely, ${d.local_prefills} locally on their decode replica`,
    `KV moved          ${gb(d.kv_transfer_bytes)} GB`,
    `${'ms'.padEnd(17)} ${['mean', 'p50', 'p90', 'p99'].map((h) => h.padStart(10)).join(' ')}`,
    `KV transfer       ${dist(d.kv_transfer_ms)}`,
    '',
    `${'role'.padEnd(8)}${'replicas'.padStart(9)}${'GPUs'.padStart(6)}${'busy'.padStart(9)} ${['queue mean', 'p50', 'p90', 'p99'].map((h) => h.padStart(10)).join(' ')}`,
    role('prefill', d.prefill),
    role('decode', d.decode),
  ].join('\n');
}
