/**
 * Runs `simulate` (in-process) for every row of calibration/data.json as its benchmark ran, and
 * pairs each published figure with the simulated one.
 */
import { findGpu } from '../src/catalog/gpus.js';
import { findModel } from '../src/catalog/models.js';
import { loadConfig, type RawSettings } from '../src/config/config.js';
import { createRooflinePerfModel } from '../src/engine/roofline.js';
import { resolveDeployment } from '../src/catalog/deployment.js';
import { runSimulation } from '../src/simulate/simulate.js';
import type { SimulationReport } from '../src/simulate/report.js';
import { trtllmBenchSettings } from './trtllm-bench.js';

export type Metric = 'throughput' | 'itl' | 'ttft' | 'latency' | 'ratio';

export interface Comparison {
  readonly table: string;
  readonly label: string;
  readonly metric: Metric;
  readonly published: number;
  readonly simulated: number;
}

interface Setup {
  model: string;
  gpu: string;
  gpus: number;
  precision: string;
  tp: number;
  frontend: 'nim' | 'none';
  inputTokens?: number;
  outputTokens?: number;
  kvCacheFreeGpuMemFraction?: number;
  unit?: 'total' | 'perGpu';
}

export interface Table {
  id: string;
  kind: 'closed-loop' | 'trtllm-bench' | 'batch1-prefill' | 'batch1-decode';
  source: string;
  title: string;
  setup: Setup;
  rows: Record<string, number | string>[];
}

export interface Ratio {
  id: string;
  kind: 'table-ratio' | 'precision-at-interactivity';
  source: string;
  title: string;
  numerator?: string;
  denominator?: string;
  inputTokens?: number;
  outputTokens?: number;
  ratio?: number;
  range?: [number, number];
  setup?: Setup & { numerator: string; denominator: string };
  points?: { tokSPerUser: number; ratio: number }[];
}

export interface CalibrationData {
  tables: Table[];
  ratios: Ratio[];
}

function settingsOf(setup: Setup, extra: RawSettings = {}): RawSettings {
  return {
    modelName: setup.model,
    gpu: setup.gpu,
    gpus: String(setup.gpus),
    precision: setup.precision,
    tp: String(setup.tp),
    frontend: setup.frontend,
    ...extra,
  };
}

/** A closed loop of `concurrency` AIPerf-like users, each sending one request after another. */
export function closedLoop(setup: Setup, concurrency: number, requests: number): SimulationReport {
  return runSimulation(loadConfig({}, settingsOf(setup)), {
    concurrency,
    requests,
    inputTokens: setup.inputTokens!,
    outputTokens: setup.outputTokens!,
    sharedPrefixTokens: 0,
    turns: 1,
    thinkTimeMs: 0,
  });
}

/** trtllm-bench throughput: every request queued at once, its batch-size and token heuristics, no front end. */
export function trtllmBench(
  setup: Setup,
  inputTokens: number,
  outputTokens: number,
  requests: number,
): SimulationReport {
  const model = findModel(setup.model)!;
  const gpu = findGpu(setup.gpu)!;
  const fraction = setup.kvCacheFreeGpuMemFraction ?? 0.9;
  const bench = trtllmBenchSettings(
    model,
    gpu,
    setup.precision,
    setup.tp,
    inputTokens,
    outputTokens,
    fraction,
  );
  const config = loadConfig(
    {},
    settingsOf(setup, {
      maxNumSeqs: String(bench.maxBatchSize),
      maxNumBatchedTokens: String(bench.maxNumTokens),
      maxWaiting: String(requests),
      gpuMemoryUtilization: String(fraction),
      // The dataset's random prompts share nothing; trtllm-bench's default KV reuse finds nothing either.
      enableKvCacheReuse: '0',
    }),
  );
  return runSimulation(config, {
    concurrency: requests,
    requests,
    inputTokens,
    outputTokens,
    sharedPrefixTokens: 0,
    turns: 1,
    thinkTimeMs: 0,
  });
}

/** Requests per closed-loop run: enough turns per user for a steady state. */
export function closedLoopRequests(concurrency: number, quick: boolean): number {
  return quick ? Math.max(4 * concurrency, 40) : Math.max(10 * concurrency, 100);
}

/** Divides a table's requests for --quick (steady state still reached at these batch sizes). */
function requestsOf(requests: number, quick: boolean): number {
  return quick ? Math.max(200, Math.round(requests / 5)) : requests;
}

export function evaluateTable(table: Table, quick: boolean): Comparison[] {
  const out: Comparison[] = [];
  const { setup } = table;
  if (table.kind === 'closed-loop') {
    for (const row of table.rows) {
      const c = row.concurrency as number;
      const r = closedLoop(setup, c, closedLoopRequests(c, quick));
      const label = `c=${c}`;
      out.push({
        table: table.id,
        label,
        metric: 'ttft',
        published: row.ttftMs as number,
        simulated: r.ttft_ms.mean,
      });
      out.push({
        table: table.id,
        label,
        metric: 'itl',
        published: row.itlMs as number,
        simulated: r.itl_ms.mean,
      });
      out.push({
        table: table.id,
        label,
        metric: 'throughput',
        published: row.outputTokS as number,
        simulated: r.output_tokens_per_s,
      });
    }
  } else if (table.kind === 'trtllm-bench') {
    for (const row of table.rows) {
      const isl = row.inputTokens as number;
      const osl = row.outputTokens as number;
      const r = trtllmBench(setup, isl, osl, requestsOf(row.requests as number, quick));
      const perGpu = setup.unit === 'perGpu';
      const published = (perGpu ? row.outputTokSPerGpu : row.outputTokS) as number;
      const simulated = perGpu ? r.output_tokens_per_s / setup.gpus : r.output_tokens_per_s;
      out.push({ table: table.id, label: `${isl}/${osl}`, metric: 'throughput', published, simulated });
    }
  } else {
    for (const row of table.rows) {
      const perf = createRooflinePerfModel(
        resolveDeployment({
          modelName: row.model as string,
          gpu: row.gpu as string,
          gpuCount: row.tp as number,
          precision: row.precision as string,
          tp: row.tp as number,
          gpuMemoryUtilization: 0.9,
          kvBlockSize: 16,
          frontend: 'none',
        }).roofline,
      );
      const deploymentLabel = `${row.gpu as string} ${row.precision as string} tp${String(row.tp)} ${(row.model as string).replace('meta/', '')}`;
      if (table.kind === 'batch1-decode') {
        // One sequence decoding alone: one step per token, its context's KV read once per step.
        const context = row.contextTokens as number;
        const ms = perf.stepMs({
          decodeSeqs: 1,
          decodeContextTokens: context,
          prefillChunks: [],
          hostLoadTokens: 0,
        });
        out.push({
          table: table.id,
          label: `${deploymentLabel} ms/token`,
          metric: 'latency',
          published: 1000 / (row.outputTokSPerUser as number),
          simulated: ms,
        });
        continue;
      }
      const tokens = row.inputTokens as number;
      const ms = perf.stepMs({
        decodeSeqs: 0,
        decodeContextTokens: 0,
        prefillChunks: [{ tokens, contextTokens: 0 }],
        hostLoadTokens: 0,
      });
      out.push({
        table: table.id,
        label: `${deploymentLabel} ${tokens}`,
        metric: 'latency',
        published: row.firstTokenMs as number,
        simulated: ms,
      });
    }
  }
  return out;
}

/** Simulated tokens/s per GPU at a tokens/s-per-user target, interpolated on a concurrency sweep. */
function throughputAtInteractivity(setup: Setup, tokSPerUser: number, quick: boolean): number {
  const points: { user: number; perGpu: number }[] = [];
  for (let c = 1; c <= 1024; c *= 2) {
    const r = closedLoop(setup, c, closedLoopRequests(c, quick));
    points.push({ user: 1000 / r.itl_ms.mean, perGpu: r.output_tokens_per_s / setup.gpus });
    if (1000 / r.itl_ms.mean < tokSPerUser) break;
  }
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (a.user >= tokSPerUser && b.user <= tokSPerUser) {
      const t = (a.user - tokSPerUser) / (a.user - b.user);
      return a.perGpu + t * (b.perGpu - a.perGpu);
    }
  }
  return NaN;
}

export function evaluateRatio(
  ratio: Ratio,
  comparisons: readonly Comparison[],
  quick: boolean,
): Comparison[] {
  if (ratio.kind === 'table-ratio') {
    const label = `${ratio.inputTokens}/${ratio.outputTokens}`;
    const num = comparisons.find((c) => c.table === ratio.numerator && c.label === label);
    const den = comparisons.find((c) => c.table === ratio.denominator && c.label === label);
    if (!num || !den) return [];
    return [
      {
        table: ratio.id,
        label,
        metric: 'ratio',
        published: ratio.ratio!,
        simulated: num.simulated / den.simulated,
      },
    ];
  }
  const setup = ratio.setup!;
  const out: Comparison[] = [];
  for (const point of ratio.points!) {
    const num = throughputAtInteractivity({ ...setup, precision: setup.numerator }, point.tokSPerUser, quick);
    const den = throughputAtInteractivity(
      { ...setup, precision: setup.denominator },
      point.tokSPerUser,
      quick,
    );
    out.push({
      table: ratio.id,
      label: `${point.tokSPerUser} tok/s/user`,
      metric: 'ratio',
      published: point.ratio,
      simulated: num / den,
    });
  }
  return out;
}
