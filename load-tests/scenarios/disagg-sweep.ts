/**
 * `disagg-sweep` (docs/disaggregation.md#sweep): for a fixed number of single-GPU replicas, the
 * aggregated baseline and every prefill:decode split, on a prefill-heavy and a decode-heavy workload
 * at one request rate each, with goodput per GPU under TTFT and ITL objectives. Every run is
 * `simulate` in-process on the virtual clock (seconds, not minutes): no server, no HTTP, so no
 * load-generator delay to report. `load-tests/disagg-sweep.ts` runs the same sweep with its own
 * flags (GPUs, link, objectives).
 */
import { loadConfig, type RawSettings } from '../../src/config/config.js';
import type { SimulationReport } from '../../src/simulate/report.js';
import { runSimulation, type WorkloadOptions } from '../../src/simulate/simulate.js';
import { disaggSweepReport, type SplitRun, type SweepSetup } from './disagg-sweep-report.js';
import type { Scenario } from '../lib/scenario.js';

export interface WorkloadShape {
  readonly name: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Poisson arrivals per second per GPU of the deployment. */
  readonly ratePerGpu: number;
}

/** Long prompts and short answers, then the opposite, at the same load per GPU. */
export const SHAPES: readonly WorkloadShape[] = [
  { name: 'prefill-heavy', inputTokens: 6000, outputTokens: 150, ratePerGpu: 5 },
  { name: 'decode-heavy', inputTokens: 2000, outputTokens: 1000, ratePerGpu: 5 },
];

/** The sweep's deployments for `gpus` single-GPU replicas: aggregated, then 1P:(g−1)D … (g−1)P:1D. */
export function splitsOf(gpus: number): { name: string; prefill: number; decode: number }[] {
  const out = [{ name: 'aggregated', prefill: 0, decode: 0 }];
  for (let p = 1; p < gpus; p++) out.push({ name: `${p}P:${gpus - p}D`, prefill: p, decode: gpus - p });
  return out;
}

/** What a run keeps of its simulate report. */
function splitRun(
  shape: WorkloadShape,
  split: { name: string; prefill: number; decode: number },
  gpus: number,
  r: SimulationReport,
): SplitRun {
  const d = r.disaggregation;
  return {
    workload: shape.name,
    split: split.name,
    prefillReplicas: split.prefill,
    decodeReplicas: split.decode,
    gpus,
    requests: r.requests,
    rejected: r.rejected_429,
    ttftMs: r.ttft_ms,
    itlMs: r.itl_ms,
    requestsPerS: r.requests_per_s,
    goodputPerS: r.goodput?.requests_per_s ?? 0,
    goodputFraction: r.goodput?.fraction ?? 0,
    ...(d && {
      disaggregation: {
        remotePrefills: d.remote_prefills,
        localPrefills: d.local_prefills,
        kvTransferMs: d.kv_transfer_ms,
        prefillUtilisation: d.prefill.utilisation,
        decodeUtilisation: d.decode.utilisation,
        prefillQueueMs: d.prefill.queue_wait_ms,
        decodeQueueMs: d.decode.queue_wait_ms,
      },
    }),
  };
}

/**
 * Runs every split of `setup` on every shape, in order; `onRun` hears each as it finishes.
 * Deterministic: the same setup gives the same runs.
 */
export function runDisaggSweep(setup: SweepSetup, onRun?: (run: SplitRun) => void): SplitRun[] {
  const runs: SplitRun[] = [];
  for (const shape of SHAPES) {
    for (const split of splitsOf(setup.gpus)) {
      const flags: RawSettings =
        split.prefill === 0
          ? { replicas: String(setup.gpus) }
          : {
              prefillReplicas: String(split.prefill),
              decodeReplicas: String(split.decode),
              kvTransferLink: setup.link,
            };
      const config = loadConfig({}, { modelName: setup.model, seed: String(setup.seed), ...flags });
      const workload: WorkloadOptions = {
        concurrency: 1,
        requests: setup.requests,
        inputTokens: shape.inputTokens,
        outputTokens: shape.outputTokens,
        sharedPrefixTokens: 0,
        turns: 1,
        thinkTimeMs: 0,
        requestRate: shape.ratePerGpu * setup.gpus,
        slo: setup.slo,
        tenants: undefined,
      };
      const run = splitRun(shape, split, setup.gpus, runSimulation(config, workload));
      runs.push(run);
      onRun?.(run);
    }
  }
  return runs;
}

export const disaggSweep: Scenario = {
  name: 'disagg-sweep',
  summary: 'simulate: aggregated vs every prefill:decode split of 4 GPUs, prefill- and decode-heavy',
  async run(ctx) {
    if (ctx.url !== undefined) throw new Error('disagg-sweep runs simulate in-process; drop --url');
    const setup: SweepSetup = {
      gpus: 4,
      requests: ctx.quick ? 200 : 600,
      link: 'nvlink-4',
      slo: { ttftMs: 1000, itlMs: 10 },
      model: ctx.model,
      seed: ctx.seed,
    };
    const runs = runDisaggSweep(setup, (r) => ctx.log(`  ${r.workload} ${r.split}`));
    return { ...disaggSweepReport(setup, SHAPES, runs), quick: ctx.quick };
  },
};
