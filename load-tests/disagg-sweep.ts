/**
 * Disaggregation sweep (docs/disaggregation.md#sweep): for a fixed number of single-GPU replicas,
 * every prefill:decode split and the aggregated baseline, on a prefill-heavy and a decode-heavy
 * workload at one request rate each, reporting goodput per GPU under TTFT and ITL objectives.
 * Runs `simulate` in-process on the virtual clock (seconds, not minutes), prints the tables and
 * writes the load kit's report — report.json, report.md and the goodput and TTFT–ITL charts (SVG)
 * — to --out (the same report as `npm run load -- --scenario disagg-sweep`, whose flags are fixed).
 *
 *   npx tsx load-tests/disagg-sweep.ts [--gpus 4] [--requests 600] [--link nvlink-4]
 *     [--slo-ttft-ms 1000] [--slo-itl-ms 10] [--seed 0] [--out reports/disagg-sweep] [--docs]
 *
 * `--docs` also copies the two charts to docs/disagg-sweep-goodput.svg and
 * docs/disagg-sweep-tradeoff.svg, the copies docs/disaggregation.md shows (run it with the defaults).
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeReport } from './lib/report.js';
import { DEFAULT_MODEL } from './lib/scenario.js';
import { disaggSweepReport, type SweepSetup } from './scenarios/disagg-sweep-report.js';
import { runDisaggSweep, SHAPES } from './scenarios/disagg-sweep.js';

const { values } = parseArgs({
  options: {
    gpus: { type: 'string', default: '4' },
    requests: { type: 'string', default: '600' },
    link: { type: 'string', default: 'nvlink-4' },
    'slo-ttft-ms': { type: 'string', default: '1000' },
    'slo-itl-ms': { type: 'string', default: '10' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: join('reports', 'disagg-sweep') },
    docs: { type: 'boolean', default: false },
  },
});
/** `--name`'s value as an integer of at least `min`; exits 2 naming the flag otherwise. */
function int(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be an integer of at least ${min}, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}
/** `--name`'s value as a positive number; exits 2 naming the flag otherwise. */
function positive(name: string, value: string): number {
  const n = Number(value);
  if (!(n > 0)) {
    process.stderr.write(`--${name} must be a positive number, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}

const setup: SweepSetup = {
  gpus: int('gpus', values.gpus, 2),
  requests: int('requests', values.requests, 1),
  link: values.link,
  slo: {
    ttftMs: positive('slo-ttft-ms', values['slo-ttft-ms']),
    itlMs: positive('slo-itl-ms', values['slo-itl-ms']),
  },
  model: DEFAULT_MODEL,
  seed: int('seed', values.seed, 0),
};

const startedAt = new Date().toISOString();
const t0 = performance.now();
const pad = (v: string | number, n: number) => String(v).padStart(n);
console.log(
  `${setup.gpus} GPUs (h100-sxm, llama-3.1-8b, one GPU per replica), SLO TTFT ≤ ${setup.slo.ttftMs} ms and ITL ≤ ${setup.slo.itlMs} ms`,
);
let shown = '';
const runs = runDisaggSweep(setup, (r) => {
  if (r.workload !== shown) {
    shown = r.workload;
    const shape = SHAPES.find((s) => s.name === r.workload)!;
    console.log(
      `\n${shape.name}: ${shape.inputTokens} in, ${shape.outputTokens} out, ${shape.ratePerGpu * setup.gpus} req/s`,
    );
    console.log(
      `${'split'.padEnd(12)}${pad('TTFT p90', 10)}${pad('ITL p90', 10)}${pad('req/s', 8)}${pad('goodput', 9)}${pad('per GPU', 9)}${pad('local', 7)}`,
    );
  }
  console.log(
    `${r.split.padEnd(12)}${pad(r.ttftMs.p90.toFixed(1), 10)}${pad(r.itlMs.p90.toFixed(2), 10)}${pad(r.requestsPerS, 8)}${pad(r.goodputPerS, 9)}${pad((r.goodputPerS / r.gpus).toFixed(2), 9)}${pad(r.disaggregation?.localPrefills ?? '-', 7)}`,
  );
});
const report = { ...disaggSweepReport(setup, SHAPES, runs), quick: false };
await writeReport(values.out, report, { startedAt, wallS: (performance.now() - t0) / 1000 });
console.log(`\n${report.conclusions.join('\n')}\n\nreport ${join(values.out, 'report.md')}`);
if (values.docs) {
  const docs = new URL('../docs/', import.meta.url);
  await copyFile(join(values.out, 'goodput-per-gpu.svg'), new URL('disagg-sweep-goodput.svg', docs));
  await copyFile(join(values.out, 'ttft-itl-tradeoff.svg'), new URL('disagg-sweep-tradeoff.svg', docs));
  console.log('charts copied to docs/disagg-sweep-goodput.svg and docs/disagg-sweep-tradeoff.svg');
}
const failed = report.checks.filter((c) => !c.ok);
for (const c of failed) console.error(`FAILED ${c.name}: ${c.detail}`);
if (failed.length > 0) process.exit(1);
