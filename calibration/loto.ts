/**
 * Leave-one-table-out errors for the fitted constants of src/catalog/efficiency.ts. For each
 * constant, every table it is fitted on implies a value: the one that zeroes that table's mean
 * signed error over the metrics the constant is fitted on (found by a secant step). The refit value
 * is their median. Leaving a table
 * out, the median of the others is the value that table would have had without its own data, and
 * the table is replayed with it: the errors that show how well the constant carries to data it
 * was not fitted on.
 */
import { currentEfficiency, type Efficiency } from '../src/catalog/efficiency.js';
import type { Comparison, Table } from './evaluate.js';
import { replayTables } from './table-pool.js';

interface FittedConstant {
  readonly name: string;
  readonly value: (e: Efficiency) => number;
  readonly set: (e: Efficiency, v: number) => Partial<Efficiency>;
  /** The tables it is fitted on, each on its mean signed error over `metrics`. */
  readonly tables: readonly string[];
  readonly metrics: readonly Comparison['metric'][];
}

const mfu = (arch: 'hopper' | 'blackwell', dtype: 'fp8' | 'fp4') => ({
  value: (e: Efficiency) => e.mfu[arch][dtype]!,
  set: (e: Efficiency, v: number): Partial<Efficiency> => ({
    mfu: { ...e.mfu, [arch]: { ...e.mfu[arch], [dtype]: v } },
  }),
});

export const FITTED: readonly FittedConstant[] = [
  {
    name: 'MFU, Hopper FP8',
    ...mfu('hopper', 'fp8'),
    tables: [
      'trtllm-v1.0-llama-3.1-8b-h100-sxm-fp8-tp1',
      'trtllm-v1.0-llama-3.1-8b-h200-fp8-tp1',
      'trtllm-v1.0-llama-3.3-70b-h100-sxm-fp8-tp2',
      'trtllm-v1.0-llama-3.3-70b-h200-fp8-tp1',
      'trtllm-v1.0-llama-3.1-405b-h100-sxm-fp8-tp8',
      'trtllm-v1.0-llama-3.1-405b-h200-fp8-tp8',
    ],
    metrics: ['throughput'],
  },
  {
    name: 'MFU, Blackwell FP4',
    ...mfu('blackwell', 'fp4'),
    tables: [
      'trtllm-v1.0-llama-3.3-70b-b200-nvfp4-tp1',
      'trtllm-v1.0-llama-3.3-70b-gb200-nvfp4-tp1',
      'trtllm-v1.0-llama-3.1-405b-b200-nvfp4-tp4',
      'trtllm-v1.0-llama-3.1-405b-gb200-nvfp4-tp4',
    ],
    metrics: ['throughput'],
  },
  {
    name: 'NIM front end per sequence',
    value: (e) => e.frontendMsPerSeq,
    set: (_e, v) => ({ frontendMsPerSeq: v }),
    tables: ['nim-1.8.0-llama-3.1-8b', 'nim-1.3.0-llama-3.1-8b'],
    metrics: ['itl'],
  },
];

export interface LotoRow {
  readonly constant: string;
  readonly table: string;
  readonly implied: number;
  readonly withoutTable: number;
  readonly medianAbsError: number;
  readonly bias: number;
  readonly medianAbsErrorAllData: number;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Mean signed error of a table's rows over the constant's metrics. */
function biasOf(rows: readonly Comparison[], fitted: FittedConstant): number {
  const mine = rows.filter((r) => fitted.metrics.includes(r.metric));
  return mine.reduce((a, r) => a + r.simulated / r.published - 1, 0) / mine.length;
}

export async function leaveOneTableOut(
  tables: readonly Table[],
  allData: readonly Comparison[],
  quick: boolean,
): Promise<LotoRow[]> {
  const base = currentEfficiency();
  const fits = FITTED.map((fitted) => ({
    fitted,
    v0: fitted.value(base),
    ids: fitted.tables.filter((id) => tables.some((t) => t.id === id)),
  }));
  // One secant step on each table's bias. At the current value the table's errors are the ones
  // already simulated with all data (simulate is deterministic), so only the step is run.
  const steps = fits.flatMap(({ fitted, v0, ids }) =>
    ids.map((tableId) => ({ tableId, overrides: fitted.set(base, v0 * 1.15), quick })),
  );
  const stepped = await replayTables(steps);
  let s = 0;
  const implied = fits.map(({ fitted, v0, ids }) => {
    const v1 = v0 * 1.15;
    return new Map(
      ids.map((id) => {
        const e0 = biasOf(
          allData.filter((c) => c.table === id),
          fitted,
        );
        const e1 = biasOf(stepped[s++]!, fitted);
        return [id, e1 === e0 ? v0 : v0 - (e0 * (v1 - v0)) / (e1 - e0)] as const;
      }),
    );
  });
  // Each table replayed with the median of the values the other tables imply.
  const without = fits.map(({ v0 }, f) =>
    [...implied[f]!].map(([id]) => {
      const others = [...implied[f]!].filter(([k]) => k !== id).map(([, v]) => v);
      return others.length > 0 ? median(others) : v0;
    }),
  );
  const replays = await replayTables(
    fits.flatMap(({ fitted }, f) =>
      [...implied[f]!].map(([tableId], i) => ({
        tableId,
        overrides: fitted.set(base, without[f]![i]!),
        quick,
      })),
    ),
  );
  const out: LotoRow[] = [];
  let r = 0;
  fits.forEach(({ fitted }, f) => {
    [...implied[f]!].forEach(([id, value], i) => {
      const rows = replays[r++]!.filter((c) => c.metric === 'throughput' || c.metric === 'itl');
      const errors = rows.map((c) => c.simulated / c.published - 1);
      const all = allData
        .filter((c) => c.table === id && (c.metric === 'throughput' || c.metric === 'itl'))
        .map((c) => Math.abs(c.simulated / c.published - 1));
      out.push({
        constant: fitted.name,
        table: id,
        implied: value,
        withoutTable: without[f]![i]!,
        medianAbsError: median(errors.map(Math.abs)),
        bias: errors.reduce((a, b) => a + b, 0) / errors.length,
        medianAbsErrorAllData: median(all),
      });
    });
  });
  return out;
}
