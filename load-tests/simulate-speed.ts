/**
 * How much faster than real time `nimsim simulate` runs.
 *
 *   npm run build && npx tsx load-tests/simulate-speed.ts [--runs 8] [--warm-runs 4]
 *     [--concurrency 250] [--requests 10000] [--replicas 1] [--router kv-aware]
 *
 * Cold: `runs` fresh `node dist/cli.js simulate … --json` processes, as a user runs it; each
 * report's `speedup` is simulated time / wall time of the simulation (process start-up excluded).
 * Warm: `warm-runs` more simulations in this one process after a first, so the JIT has optimized
 * the engine (what a longer run converges to). A sub-second run spends a good part of its time
 * before the JIT has optimized the hot paths, so cold is well below warm.
 *
 * This machine is shared and its speed drifts by several times from one second to the next: each
 * run is preceded by a fixed CPU-bound reference loop, timed, and every run is also given as
 * simulate wall / reference wall, a ratio that drift moves much less than either figure. Min and
 * median are printed; the min is the best estimate of the machine's undisturbed speed.
 *
 * `--replicas N` (and `--router`) time a fleet of N engines behind that router instead of one
 * engine, on the same workload.
 *
 * `--fleet` times large fleets instead (lib/fleet-speed.ts): 32 replicas × 100,000 requests of
 * single-turn and multi-tenant traffic behind the kv-aware and round-robin routers, in CPU and
 * wall seconds, optionally against another build in the same run:
 *
 *   npx tsx load-tests/simulate-speed.ts --fleet [--baseline DIR] [--runs 2] [--replicas 32]
 *     [--requests 100000] [--concurrency 1024] [--only tenants-kv-aware,single-round-robin]
 */
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../src/config/config.js';
import { runSimulation, type WorkloadOptions } from '../src/simulate/simulate.js';
import { runFleetSpeed } from './lib/fleet-speed.js';
import { intArg } from './lib/int-arg.js';

const stringArg = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};

if (process.argv.includes('--fleet')) {
  runFleetSpeed({
    runs: intArg('runs', 2),
    replicas: intArg('replicas', 32),
    requests: intArg('requests', 100_000),
    concurrency: intArg('concurrency', 1024),
    baseline: stringArg('baseline'),
    only: stringArg('only')?.split(',') ?? [],
  });
  process.exit();
}

const runs = intArg('runs', 8);
const warmRuns = intArg('warm-runs', 4);
const concurrency = intArg('concurrency', 250);
const requests = intArg('requests', 10_000);
const replicas = intArg('replicas', 1);
const router = stringArg('router');
const fleetArgs =
  replicas > 1 ? ['--replicas', String(replicas), ...(router ? ['--router', router] : [])] : [];

/** A fixed amount of integer work (~50-100 ms on this machine when it is quiet). */
function referenceMs(): number {
  const start = performance.now();
  let h = 0;
  for (let i = 0; i < 60_000_000; i++) h = Math.imul(h ^ i, 0x9e3779b1) | 0;
  const ms = performance.now() - start;
  if (h === 42) process.stdout.write(''); // keeps the loop from being optimized away
  return ms;
}

interface Sample {
  wallMs: number;
  speedup: number;
  refMs: number;
}

const stats = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor((sorted.length - 1) / 2)]! };
};

function print(label: string, samples: readonly Sample[], simulatedS: number): void {
  const wall = stats(samples.map((s) => s.wallMs));
  const ratio = stats(samples.map((s) => s.wallMs / s.refMs));
  const factor = (ms: number) => Math.round((simulatedS * 1000) / ms);
  process.stdout.write(
    `${label.padEnd(6)} wall min ${wall.min.toFixed(0)} ms (${factor(wall.min)}× real time), ` +
      `median ${wall.median.toFixed(0)} ms (${factor(wall.median)}×); ` +
      `wall / reference loop: min ${ratio.min.toFixed(2)}, median ${ratio.median.toFixed(2)}\n`,
  );
}

const args = [
  'simulate',
  '--concurrency',
  String(concurrency),
  '--requests',
  String(requests),
  ...fleetArgs,
  '--json',
];
process.stdout.write(`${args.slice(0, -1).join(' ')}: ${runs} cold runs, ${warmRuns} warm runs\n\n`);

let simulatedS = 0;
const cold: Sample[] = [];
for (let i = 0; i < runs; i++) {
  const refMs = referenceMs();
  const out = execFileSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });
  const report = JSON.parse(out) as { wall_s: number; speedup: number; duration_s: number };
  simulatedS = report.duration_s;
  cold.push({ wallMs: report.wall_s * 1000, speedup: report.speedup, refMs });
  process.stdout.write(
    `cold ${i + 1}: ${(report.wall_s * 1000).toFixed(0)} ms, ${report.speedup}× (reference ${refMs.toFixed(0)} ms)\n`,
  );
}

// The same settings as the cold runs' flags (a bad --router exits 2 there first).
const config = loadConfig(
  {},
  replicas > 1 ? { replicas: String(replicas), ...(router ? { router } : {}) } : {},
);
const workload: WorkloadOptions = {
  concurrency,
  requests,
  inputTokens: 200,
  outputTokens: 200,
  sharedPrefixTokens: 0,
  turns: 1,
  thinkTimeMs: 0,
};
runSimulation(config, workload); // the first run in this process is a cold one
const warm: Sample[] = [];
for (let i = 0; i < warmRuns; i++) {
  const refMs = referenceMs();
  const report = runSimulation(config, workload);
  warm.push({ wallMs: report.wall_s * 1000, speedup: report.speedup, refMs });
  process.stdout.write(
    `warm ${i + 1}: ${(report.wall_s * 1000).toFixed(0)} ms, ${report.speedup}× (reference ${refMs.toFixed(0)} ms)\n`,
  );
}

process.stdout.write(`\n${simulatedS} s simulated\n`);
print('cold', cold, simulatedS);
print('warm', warm, simulatedS);
