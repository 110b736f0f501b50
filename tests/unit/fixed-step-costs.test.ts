/**
 * The fixed costs of a step (docs/performance-model.md#step-time): the all-reduce's latency as a
 * start plus 2 x log2(tp) link hops (src/catalog/all-reduce.ts), and the split of the batch-1
 * overhead into a per-layer and a per-step part (src/catalog/efficiency.ts), each held to the
 * public measurements in calibration/data.json.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allReduceLatencyMs } from '../../src/catalog/all-reduce.js';
import { resolveDeployment } from '../../src/catalog/deployment.js';
import {
  FIXED_STEP_MS,
  PER_LAYER_MS,
  currentEfficiency,
  withEfficiency,
} from '../../src/catalog/efficiency.js';
import { createRooflinePerfModel } from '../../src/engine/roofline.js';

interface AllReduceMeasurement {
  gpu: string;
  gpus: number;
  latencyUs: number;
  forcedAlgorithm?: boolean;
}
interface DecodeRow {
  model: string;
  gpu: string;
  precision: string;
  tp: number;
  contextTokens: number;
  outputTokSPerUser: number;
}
const data = JSON.parse(readFileSync(new URL('../../calibration/data.json', import.meta.url), 'utf8')) as {
  microbenchmarks: { allReduceLatency: AllReduceMeasurement[] };
  tables: { id: string; rows: DecodeRow[] }[];
};

function decodeStepMs(row: Omit<DecodeRow, 'outputTokSPerUser'>): number {
  const deployment = resolveDeployment({
    modelName: row.model,
    gpu: row.gpu,
    gpuCount: row.tp,
    precision: row.precision,
    tp: row.tp,
    gpuMemoryUtilization: 0.9,
    kvBlockSize: 16,
    frontend: 'none',
  });
  return createRooflinePerfModel(deployment.roofline).stepMs({
    decodeSeqs: 1,
    decodeContextTokens: row.contextTokens,
    prefillChunks: [],
    hostLoadTokens: 0,
  });
}

describe('all-reduce latency', () => {
  const eff = currentEfficiency();

  it('is zero without tensor parallelism and grows with the hops of the TP group', () => {
    expect(allReduceLatencyMs(1, 'nvlink', eff)).toBe(0);
    const [tp2, tp4, tp8] = [2, 4, 8].map((tp) => allReduceLatencyMs(tp, 'nvlink', eff));
    expect(tp4! - tp2!).toBeCloseTo(2 * eff.allReduceHopMs.nvlink, 12);
    expect(tp8! - tp4!).toBeCloseTo(2 * eff.allReduceHopMs.nvlink, 12);
    expect(allReduceLatencyMs(2, 'nvlink', eff)).toBeCloseTo(
      eff.allReduceBaseMs.nvlink + 2 * eff.allReduceHopMs.nvlink,
      12,
    );
  });

  it('on 8 NVLink GPUs lies between the best tuned NCCL measurement and twice the slowest', () => {
    const tuned = data.microbenchmarks.allReduceLatency.filter((m) => m.gpus === 8 && !m.forcedAlgorithm);
    expect(tuned.length).toBeGreaterThan(0);
    const modelUs = 1000 * allReduceLatencyMs(8, 'nvlink', eff);
    expect(modelUs).toBeGreaterThanOrEqual(Math.min(...tuned.map((m) => m.latencyUs)));
    expect(modelUs).toBeLessThanOrEqual(2 * Math.max(...tuned.map((m) => m.latencyUs)));
  });

  it('on 2 GPUs stays below NVLS forced on a small message, which NCCL does not choose for one', () => {
    const forced = data.microbenchmarks.allReduceLatency.find((m) => m.gpus === 2 && m.forcedAlgorithm);
    expect(forced).toBeDefined();
    expect(1000 * allReduceLatencyMs(2, 'nvlink', eff)).toBeLessThan(forced!.latencyUs);
  });

  it('reaches the step: a TP8 batch-1 decode step pays 2 x layers all-reduce latencies', () => {
    const row = {
      model: 'meta/llama-3.1-70b-instruct',
      gpu: 'h200',
      precision: 'fp8',
      tp: 8,
      contextTokens: 1000,
    };
    const extraMs = 0.01;
    const slower = withEfficiency(
      { allReduceBaseMs: { ...eff.allReduceBaseMs, nvlink: eff.allReduceBaseMs.nvlink + extraMs } },
      () => decodeStepMs(row),
    );
    expect(slower - decodeStepMs(row)).toBeCloseTo(2 * 80 * extraMs, 9);
  });
});

describe('per-layer and per-step cost', () => {
  it('keeps the 32-layer sum fitted on the NIM 8B batch-1 point (1.78 ms)', () => {
    expect(32 * PER_LAYER_MS + FIXED_STEP_MS).toBeCloseTo(1.78, 9);
  });

  it('charges a deeper model per layer: 405B (126 layers) pays more fixed time than 8B (32)', () => {
    const fixed = (layers: number) => layers * PER_LAYER_MS + FIXED_STEP_MS;
    expect(fixed(126) - fixed(32)).toBeCloseTo(94 * PER_LAYER_MS, 9);
  });

  const medusa = data.tables.find((t) => t.id === 'nvidia-medusa-h200-batch1-decode');
  for (const row of medusa?.rows ?? []) {
    it(`predicts ${row.model} on ${row.tp} x ${row.gpu} at one user within 15 % of ${row.outputTokSPerUser} tokens/s`, () => {
      const predicted = 1000 / decodeStepMs(row);
      expect(Math.abs(predicted / row.outputTokSPerUser - 1)).toBeLessThan(0.15);
    });
  }
  it('has the batch-1 decode table to check against', () => {
    expect(medusa?.rows.length).toBe(2);
  });
});
