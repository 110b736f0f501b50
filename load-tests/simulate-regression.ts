/**
 * Byte-identical `simulate` across a refactor: runs a fixed set of varied `nimsim simulate --json`
 * workloads and either saves their reports as a baseline or compares them with one.
 *
 *   npm run build && npx tsx load-tests/simulate-regression.ts --save DIR      # before the change
 *   npm run build && npx tsx load-tests/simulate-regression.ts --compare DIR   # after each step
 *     [--only NAME[,NAME…]] [--list]
 *
 * `simulate` runs on a virtual clock with seeded randomness, so the same build gives the same
 * report to the byte; a refactor that must not change behaviour must leave every report as it
 * was. The only fields that depend on the machine are `wall_s` and `speedup` (wall time and
 * simulated ÷ wall time): they are removed before saving and comparing, and nothing else is.
 *
 * `--save DIR` writes DIR/<workload>.json per workload: `{ workload, args, report }`, the report
 * with its wall-time fields removed and printed with sorted keys. `--compare DIR` runs every
 * workload again and compares the whole file: it prints, per workload that differs, the first
 * differing fields (path: baseline → now), and exits 1 naming every workload that differs, is
 * missing from DIR, or whose run failed. A workload whose arguments changed since the baseline
 * counts as differing too (its report would not be comparable). Exit 2: bad arguments or no
 * build. Each run is bounded by a timeout; the whole set takes about a minute on 2 cores. The
 * workloads, and why each is in the set, are lib/simulate-regression-workloads.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKLOADS, type Workload } from './lib/simulate-regression-workloads.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli.js');
/** Fields of the report that measure the machine, not the simulation. */
const WALL_TIME_FIELDS = ['wall_s', 'speedup'] as const;
const RUN_TIMEOUT_MS = 120_000;
/** Differing fields printed per workload. */
const MAX_SHOWN_DIFFS = 8;

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npx tsx load-tests/simulate-regression.ts (--save DIR | --compare DIR | --list) [--only NAME[,NAME…]]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: readonly string[]): {
  mode: 'save' | 'compare' | 'list';
  dir: string;
  only: Set<string> | undefined;
} {
  let mode: 'save' | 'compare' | 'list' | undefined;
  let dir = '';
  let only: Set<string> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--save' || arg === '--compare') {
      if (mode) usage('give exactly one of --save, --compare, --list');
      mode = arg === '--save' ? 'save' : 'compare';
      dir = argv[++i] ?? '';
      if (!dir || dir.startsWith('--')) usage(`${arg} needs a directory`);
    } else if (arg === '--list') {
      if (mode) usage('give exactly one of --save, --compare, --list');
      mode = 'list';
    } else if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',').filter((n) => n !== '');
      const unknown = names.filter((n) => !WORKLOADS.some((w) => w.name === n));
      if (names.length === 0 || unknown.length > 0)
        usage(`--only: unknown workload ${unknown.join(', ') || '(none given)'}`);
      only = new Set(names);
    } else {
      usage(`unknown argument ${arg}`);
    }
  }
  if (!mode) usage('give one of --save DIR, --compare DIR, --list');
  return { mode, dir: resolve(dir), only };
}

/** JSON with object keys sorted at every level, so equal reports print equal text. */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/** Runs one workload; resolves to its report without the wall-time fields, or rejects with why. */
function runWorkload(w: Workload): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, 'simulate', '--json', ...w.args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString().trim();
      if (code !== 0) {
        const how = signal ? `killed by ${signal} (timeout ${RUN_TIMEOUT_MS / 1000} s?)` : `exit ${code}`;
        reject(new Error(`${how}${stderr ? `: ${stderr.split('\n').slice(-3).join(' | ')}` : ''}`));
        return;
      }
      let report: Record<string, unknown>;
      try {
        report = JSON.parse(Buffer.concat(out).toString()) as Record<string, unknown>;
      } catch (e) {
        reject(new Error(`stdout is not one JSON report: ${(e as Error).message}`));
        return;
      }
      for (const f of WALL_TIME_FIELDS) {
        if (!(f in report)) {
          reject(new Error(`the report has no ${f}: update WALL_TIME_FIELDS in this script`));
          return;
        }
        delete report[f];
      }
      resolvePromise(report);
    });
  });
}

/** Paths where `a` and `b` differ (at most `limit`), as `path: a → b`. */
function differences(a: unknown, b: unknown, path: string, out: string[], limit: number): void {
  if (out.length >= limit) return;
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  const bothObjects =
    a !== null &&
    b !== null &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path || '(root)'}: ${show(a)} → ${show(b)}`);
    return;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])];
  for (const k of keys)
    differences(ra[k], rb[k], Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k, out, limit);
}

const { mode, dir, only } = parseArgs(process.argv.slice(2));
const selected = WORKLOADS.filter((w) => !only || only.has(w.name));

if (mode === 'list') {
  for (const w of selected)
    process.stdout.write(`${w.name.padEnd(26)}${w.why}\n  simulate --json ${w.args.join(' ')}\n`);
  process.exit(0);
}
if (!existsSync(CLI)) usage('dist/cli.js is missing: run `npm run build` first');
if (mode === 'compare' && !existsSync(dir)) usage(`--compare: no baseline directory ${dir}`);
if (mode === 'save') mkdirSync(dir, { recursive: true });

const failed: string[] = [];
const started = performance.now();
for (const w of selected) {
  const file = join(dir, `${w.name}.json`);
  const t0 = performance.now();
  let text: string;
  try {
    text = canonical({ workload: w.name, args: w.args, report: await runWorkload(w) });
  } catch (e) {
    process.stdout.write(`FAIL     ${w.name}: the run failed: ${(e as Error).message}\n`);
    failed.push(w.name);
    continue;
  }
  const secs = `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  if (mode === 'save') {
    writeFileSync(file, text);
    process.stdout.write(`saved    ${w.name} (${secs})\n`);
    continue;
  }
  if (!existsSync(file)) {
    process.stdout.write(`MISSING  ${w.name}: no ${w.name}.json in the baseline\n`);
    failed.push(w.name);
    continue;
  }
  const baseline = readFileSync(file, 'utf8');
  if (baseline === text) {
    process.stdout.write(`same     ${w.name} (${secs})\n`);
    continue;
  }
  failed.push(w.name);
  const diffs: string[] = [];
  differences(JSON.parse(baseline), JSON.parse(text), '', diffs, MAX_SHOWN_DIFFS);
  process.stdout.write(`DIFFERS  ${w.name}\n${diffs.map((d) => `           ${d}\n`).join('')}`);
}

if (mode === 'compare' && !only) {
  const known = new Set(WORKLOADS.map((w) => `${w.name}.json`));
  const stale = readdirSync(dir).filter((f) => f.endsWith('.json') && !known.has(f));
  if (stale.length > 0)
    process.stdout.write(
      `note: the baseline has workloads this script no longer runs: ${stale.join(', ')}\n`,
    );
}
const total = `${selected.length} workloads in ${((performance.now() - started) / 1000).toFixed(0)} s`;
if (failed.length > 0) {
  process.stdout.write(`\n${mode === 'save' ? 'not saved' : 'differ'}: ${failed.join(', ')} (${total})\n`);
  process.exit(1);
}
process.stdout.write(
  `\n${mode === 'save' ? `saved to ${dir}` : 'all identical to the baseline'} (${total})\n`,
);
