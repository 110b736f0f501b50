/**
 * `nimsim simulate` from its flags: reads and checks them (a bad one, or one the chosen mode does
 * not read, is a UsageError: exit 2 with one line), runs the synthetic workload or the trace with
 * a progress line on a terminal, and prints the report. The report is the same whatever the
 * terminal: progress goes to stderr, only when it is a TTY, and is erased at the end.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Config } from '../config/config.js';
import { settingProblem } from '../config/setting-names.js';
import { readProblem } from '../util/read-problem.js';
import { SYNTHETIC_ONLY_FLAGS, simulateDefault } from './flags.js';
import type { RuntimeWatcher, SimulationProgress } from './harness.js';
import { renderHtmlReport } from './html-report.js';
import { createTimelineRecorder } from './html-timeline.js';
import { createProgressLine, type ProgressLine } from './progress-line.js';
import { formatReport, type SimulationReport } from './report.js';
import { runSimulation, type WorkloadOptions } from './simulate.js';
import type { LoraWorkloadOptions } from './loras.js';
import type { TenantOptions } from './tenants.js';
import { parseTrace, type TraceEntry } from './trace.js';
import { runTraceSimulation } from './trace-replay.js';
import { concurrencyProblem } from './concurrency-bound.js';
import { findModel } from '../catalog/models.js';
import { workloadReasoning, type ReasoningEffort, type WorkloadReasoning } from './reasoning.js';

/** A flag the user got wrong: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The parsed flags of `simulate`, by commander's attribute name (`inputTokens`). */
export type SimulateFlagValues = Readonly<Record<string, string | boolean | undefined>>;

/** Where the command writes; stderr's TTY-ness decides whether a progress line is drawn. */
export interface SimulateIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Set when stderr is a terminal: its width. */
  readonly stderrColumns?: number | undefined;
  readonly stderrIsTty: boolean;
  /** The command line, as the HTML report shows it (`nimsim simulate …`). */
  readonly command?: string | undefined;
}

/** A refusal of a `simulate` flag, in the settings' shape: `--flag=value: problem`. */
const flagProblem = (name: string, value: string, problem: string) =>
  new UsageError(settingProblem(`--${name}`, value, problem));

/** `input-tokens` → `inputTokens`. */
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function integer(name: string, value: string | undefined, min: number): number {
  if (value === undefined) return simulateDefault(name);
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw flagProblem(name, value, `must be an integer ≥ ${min}`);
  return Number(value);
}

function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw flagProblem(name, value, 'must be a number > 0');
  return n;
}

function nonNegativeNumber(name: string, value: string | undefined): number {
  if (value === undefined) return simulateDefault(name);
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n) || value.trim() === '')
    throw flagProblem(name, value, 'must be a number ≥ 0');
  return n;
}

export function runSimulateCommand(config: Config, flags: SimulateFlagValues, io: SimulateIo): void {
  const str = (flag: string) => {
    const v = flags[camel(flag)];
    return typeof v === 'string' ? v : undefined;
  };
  const given = (flag: string) => str(flag) !== undefined;
  const sloTtft = positiveNumber('slo-ttft-ms', str('slo-ttft-ms'));
  const sloItl = positiveNumber('slo-itl-ms', str('slo-itl-ms'));
  const slo = sloTtft === undefined && sloItl === undefined ? undefined : { ttftMs: sloTtft, itlMs: sloItl };
  // --html: a timeline watches the run, and the page is written beside the usual output.
  const htmlFile = str('html');
  const timeline = htmlFile === undefined ? undefined : createTimelineRecorder();
  const watch: RuntimeWatcher | undefined = timeline && ((runtime) => timeline.attach(runtime));
  const print = (report: SimulationReport) => {
    if (htmlFile !== undefined && timeline) {
      const html = renderHtmlReport(timeline.result(), report, { command: io.command });
      try {
        writeFileSync(htmlFile, html);
      } catch (err) {
        throw flagProblem(
          'html',
          htmlFile,
          `cannot write it (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        );
      }
    }
    io.stdout(flags['json'] ? JSON.stringify(report, null, 2) + '\n' : formatReport(report) + '\n');
  };

  const traceFile = str('trace');
  if (traceFile !== undefined) {
    // The trace says every length, session and arrival: a synthetic-workload flag beside it would
    // be silently ignored, and a `--concurrency 8` read as if it applied. Refuse it instead.
    const unread = SYNTHETIC_ONLY_FLAGS.find(given);
    if (unread !== undefined)
      throw flagProblem(
        unread,
        str(unread)!,
        "not read with --trace: the trace's lines set the lengths, sessions and arrival times",
      );
    const entries = readTrace(traceFile);
    const requests = given('requests') ? integer('requests', str('requests'), 1) : undefined;
    const report = withProgress(io, Math.min(requests ?? Infinity, entries.length), (onProgress) =>
      runTraceSimulation(config, entries, {
        blockSize: integer('trace-block-size', str('trace-block-size'), 1),
        requests,
        slo,
        onProgress,
        watch,
      }),
    );
    print(report);
    return;
  }
  if (given('trace-block-size'))
    throw flagProblem('trace-block-size', str('trace-block-size')!, 'needs --trace');

  const requestRate = positiveNumber('request-rate', str('request-rate'));
  // Open loop: arrivals follow the rate whatever is in flight, so a concurrency means nothing.
  if (requestRate !== undefined && given('concurrency'))
    throw flagProblem(
      'concurrency',
      str('concurrency')!,
      'not read with --request-rate (open loop: sessions arrive at the rate, however many are in flight)',
    );
  const workload: WorkloadOptions = {
    concurrency: integer('concurrency', str('concurrency'), 1),
    requests: integer('requests', str('requests'), 1),
    inputTokens: integer('input-tokens', str('input-tokens'), 1),
    outputTokens: integer('output-tokens', str('output-tokens'), 1),
    inputTokensStddev: integer('input-tokens-stddev', str('input-tokens-stddev'), 0),
    outputTokensStddev: integer('output-tokens-stddev', str('output-tokens-stddev'), 0),
    sharedPrefixTokens: integer('shared-prefix-tokens', str('shared-prefix-tokens'), 0),
    turns: integer('turns', str('turns'), 1),
    thinkTimeMs: integer('think-time-ms', str('think-time-ms'), 0),
    requestRate,
    slo,
    tenants: tenantOptions(str),
    loras: loraOptions(str),
    reasoning: reasoningOptions(config, str),
  };
  if (requestRate === undefined) {
    const problem = concurrencyProblem(config, workload);
    if (problem !== undefined) throw flagProblem('concurrency', str('concurrency')!, problem);
  }
  print(
    withProgress(io, workload.requests, (onProgress) =>
      runSimulation(config, workload, { onProgress, watch }),
    ),
  );
}

/** Runs `simulate` with a progress line on a terminal, erased when the run ends or fails. */
function withProgress(
  io: SimulateIo,
  total: number,
  run: (onProgress: ((p: SimulationProgress) => void) | undefined) => SimulationReport,
): SimulationReport {
  const line: ProgressLine | undefined = io.stderrIsTty
    ? createProgressLine({ write: io.stderr, now: () => performance.now(), total, columns: io.stderrColumns })
    : undefined;
  try {
    return run(line && ((p) => line.update(p)));
  } finally {
    line?.clear();
  }
}

/** The multi-tenant population of `simulate --tenants` (undefined without it). */
function tenantOptions(str: (flag: string) => string | undefined): TenantOptions | undefined {
  const tenants = str('tenants');
  if (tenants === undefined) {
    for (const flag of ['users-per-tenant', 'tenant-zipf', 'user-zipf']) {
      const value = str(flag);
      if (value !== undefined) throw flagProblem(flag, value, 'needs --tenants');
    }
    return undefined;
  }
  return {
    tenants: integer('tenants', tenants, 1),
    usersPerTenant: integer('users-per-tenant', str('users-per-tenant'), 1),
    tenantZipf: nonNegativeNumber('tenant-zipf', str('tenant-zipf')),
    userZipf: nonNegativeNumber('user-zipf', str('user-zipf')),
  };
}

/** How the model's turns reason (simulate/reasoning.ts): --reasoning, --reasoning-effort. */
function reasoningOptions(
  config: Config,
  str: (flag: string) => string | undefined,
): WorkloadReasoning | undefined {
  const onText = str('reasoning');
  if (onText !== undefined && onText !== 'on' && onText !== 'off')
    throw flagProblem('reasoning', onText, 'must be on or off');
  const effortText = str('reasoning-effort');
  if (effortText !== undefined && !['low', 'medium', 'high'].includes(effortText))
    throw flagProblem('reasoning-effort', effortText, 'must be low, medium or high');
  const model = findModel(config.modelName) ?? { name: config.modelName };
  const result = workloadReasoning(
    model,
    {
      on: onText === undefined ? undefined : onText === 'on',
      effort: effortText as ReasoningEffort | undefined,
    },
    config.meanReasoningTokens,
  );
  if (result !== undefined && 'problem' in result)
    throw flagProblem(result.flag, str(result.flag)!, result.problem);
  return result;
}

/** The LoRA adapters of `simulate --loras` (undefined without it). */
function loraOptions(str: (flag: string) => string | undefined): LoraWorkloadOptions | undefined {
  const loras = str('loras');
  if (loras === undefined) {
    for (const flag of ['lora-zipf', 'lora-rank']) {
      const value = str(flag);
      if (value !== undefined) throw flagProblem(flag, value, 'needs --loras');
    }
    return undefined;
  }
  return {
    adapters: integer('loras', loras, 1),
    zipf: nonNegativeNumber('lora-zipf', str('lora-zipf')),
    rank: integer('lora-rank', str('lora-rank'), 1),
  };
}

/**
 * The entries of a trace file, gzipped (`.gz`, as AIPerf also reads them) or not; a file that
 * cannot be read or parsed is a usage error (exit 2).
 */
function readTrace(file: string): TraceEntry[] {
  let text: string;
  try {
    const bytes = readFileSync(file);
    text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (err) {
    throw flagProblem('trace', file, readProblem(err));
  }
  let entries: TraceEntry[];
  try {
    entries = parseTrace(text);
  } catch (err) {
    throw flagProblem('trace', file, (err as Error).message);
  }
  // An all-zero report of nothing would read as a result.
  if (entries.length === 0) throw flagProblem('trace', file, 'the trace has no requests');
  return entries;
}
