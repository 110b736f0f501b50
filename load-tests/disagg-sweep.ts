/**
 * Disaggregation sweep (docs/disaggregation.md#sweep): for a fixed number of single-GPU replicas,
 * every prefill:decode split and the aggregated baseline, on a prefill-heavy and a decode-heavy
 * workload at one request rate each, reporting goodput per GPU under TTFT and ITL objectives.
 * Runs `simulate` in-process on the virtual clock (seconds, not minutes).
 *
 *   npx tsx load-tests/disagg-sweep.ts [--gpus 4] [--requests 600] [--link nvlink-4]
 *     [--slo-ttft-ms 1000] [--slo-itl-ms 10]
 */
import { parseArgs } from 'node:util';
import { loadConfig, type RawSettings } from '../src/config/config.js';
import { runSimulation, type WorkloadOptions } from '../src/simulate/simulate.js';

const { values } = parseArgs({
  options: {
    gpus: { type: 'string', default: '4' },
    requests: { type: 'string', default: '600' },
    link: { type: 'string', default: 'nvlink-4' },
    'slo-ttft-ms': { type: 'string', default: '1000' },
    'slo-itl-ms': { type: 'string', default: '10' },
  },
});
const gpus = Number(values.gpus);
const slo = { ttftMs: Number(values['slo-ttft-ms']), itlMs: Number(values['slo-itl-ms']) };

interface Shape {
  readonly name: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Sessions per second per GPU. */
  readonly ratePerGpu: number;
}

const SHAPES: readonly Shape[] = [
  { name: 'prefill-heavy', inputTokens: 6000, outputTokens: 150, ratePerGpu: 5 },
  { name: 'decode-heavy', inputTokens: 2000, outputTokens: 1000, ratePerGpu: 5 },
];

function run(shape: Shape, flags: RawSettings) {
  const config = loadConfig({}, { ...flags, kvTransferLink: values.link });
  const workload: WorkloadOptions = {
    concurrency: 1,
    requests: Number(values.requests),
    inputTokens: shape.inputTokens,
    outputTokens: shape.outputTokens,
    inputTokensStddev: 0,
    outputTokensStddev: 0,
    sharedPrefixTokens: 0,
    turns: 1,
    thinkTimeMs: 0,
    requestRate: shape.ratePerGpu * gpus,
    slo,
    tenants: undefined,
  };
  return runSimulation(config, workload);
}

const pad = (v: string | number, n: number) => String(v).padStart(n);
console.log(
  `${gpus} GPUs (h100-sxm, llama-3.1-8b, one GPU per replica), SLO TTFT ≤ ${slo.ttftMs} ms and ITL ≤ ${slo.itlMs} ms`,
);
for (const shape of SHAPES) {
  console.log(
    `\n${shape.name}: ${shape.inputTokens} in, ${shape.outputTokens} out, ${shape.ratePerGpu * gpus} req/s`,
  );
  console.log(
    `${'split'.padEnd(12)}${pad('TTFT p90', 10)}${pad('ITL p90', 10)}${pad('req/s', 8)}${pad('goodput', 9)}${pad('per GPU', 9)}${pad('local', 7)}`,
  );
  const splits: [string, RawSettings][] = [['aggregated', { replicas: String(gpus) }]];
  for (let p = 1; p < gpus; p++)
    splits.push([`${p}P:${gpus - p}D`, { prefillReplicas: String(p), decodeReplicas: String(gpus - p) }]);
  for (const [name, flags] of splits) {
    const r = run(shape, flags);
    const good = r.goodput?.requests_per_s ?? 0;
    console.log(
      `${name.padEnd(12)}${pad(r.ttft_ms.p90.toFixed(1), 10)}${pad(r.itl_ms.p90.toFixed(2), 10)}${pad(r.requests_per_s, 8)}${pad(good, 9)}${pad((good / gpus).toFixed(2), 9)}${pad(r.disaggregation?.local_prefills ?? '-', 7)}`,
    );
  }
}
