/**
 * The overview's "Disaggregation" row: the series only a disaggregated deployment
 * (`--prefill-replicas` and `--decode-replicas`, docs/disaggregation.md#metrics) exports — KV
 * transfer time and bytes, where prompts were prefilled, each role's queue and the transfers on the
 * link. Any other deployment has none of these series, so each panel then says so instead of
 * drawing anything.
 */
import type { PanelSpec } from './panels.js';
import { M, R, quantiles } from './promql.js';

/** The row's title; tests look the row up by it (its panels have data only when disaggregated). */
export const DISAGGREGATION_ROW = 'Disaggregation';

/** Shown by every panel of the row when the selected deployments are not disaggregated. */
const NOT_DISAGGREGATED = 'No data: not disaggregated';

export const disaggregation: PanelSpec[] = [
  {
    title: 'KV transfer time',
    description:
      "Time to move a request's KV blocks from its prefill replica to its decode replica, p50 / p90 / p99 (nimsim_kv_transfer_seconds), from the decode replica's admission to the last block's arrival: a p99 well above the p50 means transfers queue on the decode replicas' links.",
    kind: 'timeseries',
    unit: 's',
    noValue: NOT_DISAGGREGATED,
    queries: quantiles('nimsim_kv_transfer_seconds'),
  },
  {
    title: 'KV transfer throughput',
    description:
      "Bytes of KV cache per second moving from prefill to decode replicas, all GPUs (nimsim_kv_transfer_bytes_total): compare with the link's bandwidth times the decode GPUs.",
    kind: 'timeseries',
    unit: 'Bps',
    noValue: NOT_DISAGGREGATED,
    queries: [{ expr: `sum(rate(nimsim_kv_transfer_bytes_total{${M}}[${R}]))`, legend: 'transferred' }],
  },
  {
    title: 'Prefills remote vs local',
    description:
      'Prompts prefilled per second on a prefill replica (remote) or on their own decode replica (local: at most max_local_prefill_length tokens not cached there), from nimsim_disagg_prefills_total by where.',
    kind: 'timeseries',
    unit: 'reqps',
    width: 8,
    stacked: true,
    noValue: NOT_DISAGGREGATED,
    queries: [
      {
        expr: `sum by (where) (rate(nimsim_disagg_prefills_total{${M}}[${R}]))`,
        legend: '{{where}}',
      },
    ],
  },
  {
    title: 'Queue per role',
    description:
      'Requests waiting to be admitted by the prefill replicas and by the decode replicas (nimsim_disagg_queue_requests by role): the role whose queue grows is the one short of GPUs.',
    kind: 'timeseries',
    unit: 'short',
    width: 8,
    noValue: NOT_DISAGGREGATED,
    queries: [{ expr: `sum by (role) (nimsim_disagg_queue_requests{${M}})`, legend: '{{role}}' }],
  },
  {
    title: 'KV transfers in flight',
    description:
      'KV transfers started and not yet landed on their decode replica (nimsim_kv_transfers_in_flight); each of their requests holds a decode slot and its blocks while it waits.',
    kind: 'timeseries',
    unit: 'short',
    width: 8,
    noValue: NOT_DISAGGREGATED,
    queries: [{ expr: `sum(nimsim_kv_transfers_in_flight{${M}})`, legend: 'in flight' }],
  },
];
