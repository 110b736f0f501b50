/**
 * The disaggregation sweep's tables, charts, checks and conclusions from its runs, so that every
 * number a conclusion states is a cell of the table beside it (the same rounding), and a split is
 * never called the best out of splits within TIE of each other.
 */
import type { Distribution } from '../../src/simulate/report.js';
import { groupedBarChart, tradeOffChart } from '../lib/charts.js';
import { num, type Check, type ScenarioReport, type Table } from '../lib/report.js';

export interface SweepSetup {
  /** Single-GPU replicas of every deployment. */
  readonly gpus: number;
  /** Requests per run. */
  readonly requests: number;
  /** The KV transfer link of the disaggregated runs. */
  readonly link: string;
  readonly slo: { readonly ttftMs: number; readonly itlMs: number };
  readonly model: string;
  readonly seed: number;
}

export interface SweepShape {
  readonly name: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly ratePerGpu: number;
}

/** One deployment on one workload. */
export interface SplitRun {
  readonly workload: string;
  /** `aggregated` or `<P>P:<D>D`. */
  readonly split: string;
  /** 0 for the aggregated baseline. */
  readonly prefillReplicas: number;
  readonly decodeReplicas: number;
  readonly gpus: number;
  readonly requests: number;
  readonly rejected: number;
  readonly ttftMs: Distribution;
  readonly itlMs: Distribution;
  readonly requestsPerS: number;
  /** Completed requests within both objectives per second. */
  readonly goodputPerS: number;
  /** Fraction 0–1 of completed requests within both objectives. */
  readonly goodputFraction: number;
  readonly disaggregation?: {
    readonly remotePrefills: number;
    readonly localPrefills: number;
    readonly kvTransferMs: Distribution;
    /** Fraction 0–1 of the run each role's replicas spent in steps. */
    readonly prefillUtilisation: number;
    readonly decodeUtilisation: number;
    /** Waiting for admission by the role's replica (prefill: remote prefills only). */
    readonly prefillQueueMs: Distribution;
    readonly decodeQueueMs: Distribution;
  };
}

/** Splits whose goodput per GPU is within this fraction of the best tie with it. */
export const TIE = 0.02;
/** A split below this fraction of the best split's goodput per GPU has collapsed. */
const COLLAPSED = 0.25;
/** A prefill pool this busy is the bottleneck (a decode pool is busy whenever anything decodes). */
const SATURATED = 0.95;

const perGpu = (r: SplitRun) => r.goodputPerS / r.gpus;
const perGpuText = (r: SplitRun) => num(perGpu(r), 2);
const pct = (x: number) => num(x * 100, 1);

function table(shape: SweepShape, setup: SweepSetup, runs: readonly SplitRun[]): Table {
  return {
    title: `${shape.name}: ${shape.inputTokens} tokens in, ${shape.outputTokens} out, ${shape.ratePerGpu * setup.gpus} req/s`,
    columns: [
      'split',
      'TTFT p50 ms',
      'TTFT p90 ms',
      'ITL p50 ms',
      'ITL p90 ms',
      'req/s',
      'within SLO %',
      'goodput req/s',
      'goodput / GPU',
      'prefills remote / local',
      'KV transfer p50 ms',
      'busy prefill / decode %',
      'queue p90 prefill / decode ms',
    ],
    rows: runs.map((r) => {
      const d = r.disaggregation;
      return [
        r.split,
        num(r.ttftMs.p50, 1),
        num(r.ttftMs.p90, 1),
        num(r.itlMs.p50, 2),
        num(r.itlMs.p90, 2),
        num(r.requestsPerS, 2),
        pct(r.goodputFraction),
        num(r.goodputPerS, 2),
        perGpuText(r),
        d ? `${d.remotePrefills} / ${d.localPrefills}` : '—',
        d ? num(d.kvTransferMs.p50, 3) : '—',
        d ? `${pct(d.prefillUtilisation)} / ${pct(d.decodeUtilisation)}` : '—',
        d ? `${num(d.prefillQueueMs.p90, 1)} / ${num(d.decodeQueueMs.p90, 1)}` : '—',
      ];
    }),
    note:
      `Goodput: completed requests whose TTFT ≤ ${setup.slo.ttftMs} ms and ITL (their mean inter-token latency) ≤ ` +
      `${setup.slo.itlMs} ms, per simulated second; per GPU over the deployment's ${setup.gpus} GPUs. Busy: the fraction ` +
      'of the run the role’s replicas spent in engine steps. Queue: from reaching a replica of the role to its ' +
      'admission there (prefill: remote prefills only).',
  };
}

/** `a, b and c`. */
function list(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/** What to conclude about one workload's runs (the aggregated baseline first). */
export function workloadConclusions(shape: string, runs: readonly SplitRun[]): string[] {
  const aggregated = runs.find((r) => r.prefillReplicas === 0);
  const bestValue = Math.max(...runs.map(perGpu));
  if (!(bestValue > 0)) return [`${shape}: no deployment met both objectives for any request.`];
  const best = runs.filter((r) => perGpu(r) >= bestValue * (1 - TIE));
  const values = `${list(best.map(perGpuText))} req/s`;
  const head =
    best.length === 1
      ? `${shape}: ${best[0]!.split} gives the most goodput per GPU, ${values}`
      : `${shape}: ${list(best.map((r) => r.split))} give the most goodput per GPU, ${values} (within ${TIE * 100} % of each other)`;
  let verdict: string;
  if (aggregated === undefined) verdict = '';
  else if (best.includes(aggregated))
    verdict = best.length === 1 ? '; disaggregating does not pay here' : '; disaggregating buys nothing here';
  else {
    const ratios = [...new Set(best.map((r) => num(perGpu(r) / perGpu(aggregated), 1)))];
    verdict =
      perGpu(aggregated) > 0
        ? `: ${list(ratios)} × the aggregated replicas' ${perGpuText(aggregated)}`
        : `, where the aggregated replicas met both objectives for no request`;
  }
  const out = [`${head}${verdict}.`];
  for (const r of runs.filter((x) => perGpu(x) < bestValue * COLLAPSED)) {
    const d = r.disaggregation;
    const gpus = (n: number, role: string) => `${n} ${role} GPU${n > 1 ? 's' : ''}`;
    const short =
      d === undefined
        ? ''
        : d.prefillUtilisation >= SATURATED
          ? `: its ${gpus(r.prefillReplicas, 'prefill')} ${r.prefillReplicas > 1 ? 'are' : 'is'} ` +
            `${pct(d.prefillUtilisation)} % busy and prompts queue ${num(d.prefillQueueMs.p90, 1)} ms (p90) for ${r.prefillReplicas > 1 ? 'them' : 'it'}`
          : d.decodeQueueMs.p90 > d.prefillQueueMs.p90
            ? `: requests queue ${num(d.decodeQueueMs.p90, 1)} ms (p90) for a slot on its ${gpus(r.decodeReplicas, 'decode')}`
            : '';
    out.push(
      `${shape}: ${r.split} falls to ${perGpuText(r)} req/s per GPU (TTFT p90 ${num(r.ttftMs.p90, 1)} ms, ` +
        `ITL p90 ${num(r.itlMs.p90, 2)} ms)${short}.`,
    );
  }
  return out;
}

/** The report of a sweep over `shapes` (every shape's runs in `runs`, aggregated first). */
export function disaggSweepReport(
  setup: SweepSetup,
  shapes: readonly SweepShape[],
  runs: readonly SplitRun[],
): Omit<ScenarioReport, 'quick'> {
  const runsOf = (shape: SweepShape) => runs.filter((r) => r.workload === shape.name);
  const checks: Check[] = [];
  for (const r of runs) {
    checks.push({
      name: `${r.workload} ${r.split} completed every request`,
      ok: r.requests === setup.requests && r.rejected === 0,
      detail: `${r.requests} of ${setup.requests} completed, ${r.rejected} refused`,
    });
    const d = r.disaggregation;
    if (d !== undefined)
      checks.push({
        name: `${r.workload} ${r.split} moved KV blocks for its remote prefills`,
        ok:
          d.remotePrefills + d.localPrefills === r.requests &&
          (d.remotePrefills === 0) === !(d.kvTransferMs.p50 > 0),
        detail: `${d.remotePrefills} remote, ${d.localPrefills} local, KV transfer p50 ${num(d.kvTransferMs.p50, 3)} ms`,
      });
  }
  const chartRows = runs.map((r) => ({
    workload: r.workload,
    split: r.split,
    'goodput per GPU': perGpu(r),
    'TTFT p90 ms': r.ttftMs.p90,
    'ITL p90 ms': r.itlMs.p90,
  }));
  const objectives = `TTFT ≤ ${setup.slo.ttftMs} ms, ITL ≤ ${setup.slo.itlMs} ms`;
  return {
    scenario: 'disagg-sweep',
    title: 'Disaggregated prefill and decode: every P:D split against aggregated',
    target: `nimsim simulate in-process (${setup.model}, h100-sxm, one GPU per replica, KV over ${setup.link})`,
    notes: [
      `Each deployment has ${setup.gpus} single-GPU replicas: aggregated (--replicas ${setup.gpus}, kv-aware router) or ` +
        `P prefill and D decode replicas (--prefill-replicas P --decode-replicas D, P + D = ${setup.gpus}, ` +
        `--kv-transfer-link ${setup.link}). Every run is ${setup.requests} requests with Poisson arrivals, ` +
        `every prompt distinct, simulated on the virtual clock (seed ${setup.seed}); times are simulated.`,
      `Workloads: ${shapes.map((s) => `${s.name} (${s.inputTokens} tokens in, ${s.outputTokens} out, ${s.ratePerGpu} req/s per GPU)`).join('; ')}. ` +
        `Objectives: ${objectives}.`,
      'The goodput chart puts the best split of each workload at a glance (the longest bar); the trade-off chart ' +
        'shows where each split lands against the objectives (dashed lines): a split in the shaded corner meets both at p90.',
    ],
    conclusions: shapes.flatMap((s) => workloadConclusions(s.name, runsOf(s))),
    tables: shapes.map((s) => table(s, setup, runsOf(s))),
    charts: [
      {
        file: 'goodput-per-gpu.svg',
        spec: groupedBarChart({
          title: `Goodput per GPU by split (${objectives})`,
          rows: chartRows,
          category: 'workload',
          categoryTitle: 'workload',
          group: 'split',
          value: 'goodput per GPU',
          valueTitle: 'goodput per GPU (req/s)',
          valueFormat: '.2f',
        }),
      },
      {
        file: 'ttft-itl-tradeoff.svg',
        spec: tradeOffChart({
          title: 'TTFT p90 against ITL p90 by split',
          subtitle: `dashed: the objectives (${objectives}); shaded: both met`,
          rows: chartRows,
          x: 'TTFT p90 ms',
          xTitle: 'TTFT p90 (ms)',
          y: 'ITL p90 ms',
          yTitle: 'ITL p90 (ms)',
          label: 'split',
          facet: 'workload',
          xLimit: setup.slo.ttftMs,
          yLimit: setup.slo.itlMs,
        }),
      },
    ],
    checks,
    clientLoopLag: undefined,
    data: { setup, shapes, runs },
  };
}
