/**
 * `simulate-speed.ts --fleet`: times large fleets (32 replicas × 100,000 requests by default) on
 * four workloads — single-turn and multi-tenant multi-turn traffic, each behind the kv-aware router
 * and behind round robin (which reads no cache state, so the difference is the router's cost) —
 * optionally against another build of nimsim in the same run.
 *
 * Each run is a fresh `node dist/cli.js simulate … --json` process with a preload that reports its
 * CPU time (cpu-on-exit.mjs). With `--baseline DIR` (a checkout of another commit, built: DIR/dist
 * exists) every run of this build is paired with one of the baseline, their order alternating,
 * so the machine's drift falls on both alike; each pair's CPU ratio is printed, and the two
 * builds' reports are compared field by field (minus the wall-time fields): a speed-up must
 * leave them identical.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CPU_HOOK = join(ROOT, 'load-tests', 'lib', 'cpu-on-exit.mjs');
const WALL_TIME_FIELDS = ['wall_s', 'speedup'];

export interface FleetSpeedOptions {
  readonly runs: number;
  readonly replicas: number;
  readonly requests: number;
  readonly concurrency: number;
  /** A checkout of another build (DIR/dist/cli.js) to time against, or undefined. */
  readonly baseline: string | undefined;
  /** Workload names to run (all when empty). */
  readonly only: readonly string[];
}

interface FleetWorkload {
  readonly name: string;
  readonly args: readonly string[];
}

/** The multi-tenant chat of the fleet goal: 64 tenants' system prompts, 8-turn sessions. */
const TENANTS = [
  '--tenants',
  '64',
  '--users-per-tenant',
  '200',
  '--shared-prefix-tokens',
  '500',
  '--turns',
  '8',
  '--input-tokens',
  '150',
  '--output-tokens',
  '250',
  '--think-time-ms',
  '5000',
];

function workloads(o: FleetSpeedOptions): FleetWorkload[] {
  const common = ['--replicas', String(o.replicas), '--concurrency', String(o.concurrency)];
  const requests = ['--requests', String(o.requests)];
  const all = (['kv-aware', 'round-robin'] as const).flatMap((router) => [
    { name: `single-${router}`, args: [...common, '--router', router, ...requests] },
    { name: `tenants-${router}`, args: [...common, '--router', router, ...TENANTS, ...requests] },
  ]);
  return o.only.length > 0 ? all.filter((w) => o.only.includes(w.name)) : all;
}

interface Run {
  readonly cpuS: number;
  readonly wallS: number;
  /** Simulated time ÷ the simulation's wall time (the report's `speedup`). */
  readonly speedup: number;
  /** The report without its wall-time fields, as JSON. */
  readonly report: string;
}

function runOnce(checkout: string, args: readonly string[]): Run {
  const cli = join(checkout, 'dist', 'cli.js');
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--import', CPU_HOOK, cli, 'simulate', ...args, '--json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallS = (performance.now() - started) / 1000;
  if (child.status !== 0) throw new Error(`${cli} simulate ${args.join(' ')} failed: ${child.stderr}`);
  const cpu = /nimsim-cpu-s ([\d.]+)/.exec(child.stderr);
  const report = JSON.parse(child.stdout) as Record<string, unknown>;
  const speedup = Number(report['speedup']);
  for (const field of WALL_TIME_FIELDS) delete report[field];
  return { cpuS: cpu ? Number(cpu[1]) : NaN, wallS, speedup, report: JSON.stringify(report) };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const min = (xs: readonly number[]) => Math.min(...xs);
const f1 = (x: number) => x.toFixed(1);

function summary(label: string, runs: readonly Run[]): string {
  const cpu = runs.map((r) => r.cpuS);
  const wall = runs.map((r) => r.wallS);
  const speedup = runs.map((r) => r.speedup);
  return (
    `  ${label.padEnd(8)} CPU s min ${f1(min(cpu))} median ${f1(median(cpu))}; ` +
    `wall s min ${f1(min(wall))} median ${f1(median(wall))}; ` +
    `simulated/wall ${median(speedup).toFixed(0)}×`
  );
}

export function runFleetSpeed(o: FleetSpeedOptions): void {
  if (o.baseline && !existsSync(join(o.baseline, 'dist', 'cli.js'))) {
    process.stderr.write(`--baseline ${o.baseline}: no dist/cli.js there (build it first)\n`);
    process.exit(2);
  }
  const list = workloads(o);
  process.stdout.write(
    `${o.replicas} replicas × ${o.requests} requests, concurrency ${o.concurrency}; ${o.runs} run(s) each` +
      (o.baseline ? `, paired with ${o.baseline}` : '') +
      '\n',
  );
  let differing = 0;
  for (const w of list) {
    process.stdout.write(`\n${w.name}: simulate ${w.args.join(' ')}\n`);
    const now: Run[] = [];
    const base: Run[] = [];
    for (let i = 0; i < o.runs; i++) {
      // Alternate which build goes first, so a drift within a pair does not favour one.
      if (o.baseline && i % 2 === 1) base.push(runOnce(o.baseline, w.args));
      now.push(runOnce(ROOT, w.args));
      if (o.baseline && i % 2 === 0) base.push(runOnce(o.baseline, w.args));
      const pair = o.baseline
        ? `, baseline ${f1(base[i]!.cpuS)} CPU s (${(base[i]!.cpuS / now[i]!.cpuS).toFixed(2)}×)`
        : '';
      process.stdout.write(`  run ${i + 1}: ${f1(now[i]!.cpuS)} CPU s, ${f1(now[i]!.wallS)} s wall${pair}\n`);
    }
    process.stdout.write(`${summary('this', now)}\n`);
    if (!o.baseline) continue;
    process.stdout.write(`${summary('baseline', base)}\n`);
    const ratios = now.map((r, i) => base[i]!.cpuS / r.cpuS);
    const same =
      base.every((b) => b.report === now[0]!.report) && now.every((r) => r.report === now[0]!.report);
    if (!same) differing++;
    process.stdout.write(
      `  baseline / this: CPU ${median(ratios).toFixed(2)}× (median of pairs), ` +
        `wall ${(median(base.map((r) => r.wallS)) / median(now.map((r) => r.wallS))).toFixed(2)}×, ` +
        `simulated/wall ${(median(now.map((r) => r.speedup)) / median(base.map((r) => r.speedup))).toFixed(2)}×; ` +
        `reports ${same ? 'identical' : 'DIFFER'}\n`,
    );
  }
  if (differing > 0) {
    process.stdout.write(`\n${differing} workload(s) reported differently from the baseline\n`);
    process.exitCode = 1;
  }
}
