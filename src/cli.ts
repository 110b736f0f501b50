#!/usr/bin/env node
/**
 * The `nimsim` command: serve, simulate, list-model-profiles. Every setting is a flag too (the
 * env name without NIMSIM_/NIM_, kebab-case; docs/interface.md#settings). A bad value or an unknown
 * flag prints one line and exits 2.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Command, CommanderError, Option } from 'commander';
import { DeploymentError, formatProfileList, listModelProfiles } from './catalog/deployment.js';
import { ConfigError, loadConfig, type RawSettings } from './config/config.js';
import { SETTINGS, flagOf, type SettingKey } from './config/settings.js';
import { createLogger } from './logging.js';
import {
  formatReport,
  runSimulation,
  SIMULATE_FLAGS,
  WorkloadError,
  type WorkloadOptions,
} from './simulate/simulate.js';
import type { LoraWorkloadOptions } from './simulate/loras.js';
import type { TenantOptions } from './simulate/tenants.js';
import { parseTrace } from './simulate/trace.js';
import { runTraceSimulation, TRACE_BLOCK_SIZE } from './simulate/trace-replay.js';
import { VERSION } from './version.js';

class UsageError extends Error {}

function addSettingOptions(cmd: Command, only?: readonly SettingKey[]): Command {
  for (const key of only ?? (Object.keys(SETTINGS) as SettingKey[])) {
    const def = SETTINGS[key];
    cmd.addOption(new Option(`--${flagOf(key)} <value>`, `${def.help} [env ${def.env}]`));
  }
  return cmd;
}

/**
 * Settings only the HTTP server reads: `simulate` runs the engine on a virtual clock with no
 * socket, client, fault or rule, so it does not offer them, and passing one is an unknown-flag
 * error (exit 2) rather than a flag silently ignored.
 */
const SERVE_ONLY_SETTINGS: ReadonlySet<SettingKey> = new Set<SettingKey>([
  'port',
  'host',
  'servedModelName',
  'timeScale',
  'readyDelayMs',
  'apiKey',
  'adminToken',
  'faultRate',
  'faultTypes',
  'faultDelayMs',
  'faultHeaders',
  'rulesFile',
  'apiCompat',
  'perReqMetricsEnable',
  'responsesStoreSize',
  'maxBodyBytes',
  'streamBufferBytes',
  'maxHeaderBytes',
  'requestTimeoutMs',
  'maxTokensPerRequest',
  'maxLogprobsPerRequest',
  'peftSource',
  'peftRefreshInterval',
  'maxLoraRank',
  'kvEventsEndpoint',
  'kvEventsTopic',
  'kvEventsReplayEndpoint',
  'kvEventsFormat',
]);
const SIMULATE_SETTINGS = (Object.keys(SETTINGS) as SettingKey[]).filter((k) => !SERVE_ONLY_SETTINGS.has(k));

function rawSettings(cmd: Command): RawSettings {
  const raw: RawSettings = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const opt = cmd.options.find((o) => o.long === `--${flagOf(key)}`);
    if (!opt) continue;
    const value = cmd.getOptionValue(opt.attributeName()) as string | undefined;
    if (value !== undefined) raw[key] = value;
  }
  return raw;
}

function positiveInt(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new UsageError(`invalid --${name}=${JSON.stringify(value)}: must be an integer ≥ ${min}`);
  return Number(value);
}

function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n))
    throw new UsageError(`invalid --${name}=${JSON.stringify(value)}: must be a number > 0`);
  return n;
}

function nonNegativeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n) || value.trim() === '')
    throw new UsageError(`invalid --${name}=${JSON.stringify(value)}: must be a number ≥ 0`);
  return n;
}

/** The multi-tenant population of `simulate --tenants` (undefined without it). */
function tenantOptions(str: (k: string) => string | undefined): TenantOptions | undefined {
  const tenants = str('tenants');
  if (tenants === undefined) {
    for (const [key, flag] of [
      ['usersPerTenant', 'users-per-tenant'],
      ['tenantZipf', 'tenant-zipf'],
      ['userZipf', 'user-zipf'],
    ] as const) {
      if (str(key) !== undefined) throw new UsageError(`--${flag} needs --tenants`);
    }
    return undefined;
  }
  return {
    tenants: positiveInt('tenants', tenants, 1),
    usersPerTenant: positiveInt('users-per-tenant', str('usersPerTenant'), 100),
    tenantZipf: nonNegativeNumber('tenant-zipf', str('tenantZipf'), 1),
    userZipf: nonNegativeNumber('user-zipf', str('userZipf'), 1),
  };
}

/** The LoRA adapters of `simulate --loras` (undefined without it). */
function loraOptions(str: (k: string) => string | undefined): LoraWorkloadOptions | undefined {
  const loras = str('loras');
  if (loras === undefined) {
    for (const [key, flag] of [
      ['loraZipf', 'lora-zipf'],
      ['loraRank', 'lora-rank'],
    ] as const) {
      if (str(key) !== undefined) throw new UsageError(`--${flag} needs --loras`);
    }
    return undefined;
  }
  return {
    adapters: positiveInt('loras', loras, 1),
    zipf: nonNegativeNumber('lora-zipf', str('loraZipf'), 1),
    rank: positiveInt('lora-rank', str('loraRank'), 16),
  };
}

/**
 * The entries of a trace file, gzipped (`.gz`, as AIPerf also reads them) or not; a file that
 * cannot be read or parsed is a usage error (exit 2).
 */
function readTrace(file: string) {
  let text: string;
  try {
    const bytes = readFileSync(file);
    text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (err) {
    throw new UsageError(`--trace ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let entries: ReturnType<typeof parseTrace>;
  try {
    entries = parseTrace(text);
  } catch (err) {
    throw new UsageError(`--trace ${file}: ${(err as Error).message}`);
  }
  // An all-zero report of nothing would read as a result.
  if (entries.length === 0) throw new UsageError(`--trace ${file}: the trace has no requests`);
  return entries;
}

function buildProgram(): Command {
  const program = new Command('nimsim')
    .description('A simulator of an NVIDIA NIM for LLMs inference microservice.')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError(false);

  addSettingOptions(
    program.command('serve').description('serve the OpenAI-compatible NIM API over HTTP'),
  ).action(async (_opts, cmd: Command) => {
    const config = loadConfig(process.env, rawSettings(cmd));
    const logger = createLogger(config.logLevel, config.jsonlLogging);
    // Loaded on demand: the HTTP stack is most of the command's start-up time, and `simulate` and
    // `list-model-profiles` never need it.
    const { startServer } = await import('./server.js');
    const running = await startServer(config, logger);
    const stop = (signal: string) => {
      logger.info(`received ${signal}`);
      void running.shutdown().then(() => process.exit(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });

  const sim = program
    .command('simulate')
    .description(
      'run a synthetic workload or a trace through the engine on a virtual clock and print a report',
    );
  for (const f of SIMULATE_FLAGS) sim.addOption(new Option(f.flag, f.help));
  addSettingOptions(sim, SIMULATE_SETTINGS).action(
    (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const config = loadConfig(process.env, rawSettings(cmd));
      const str = (k: string) => (typeof opts[k] === 'string' ? (opts[k] as string) : undefined);
      const print = (report: ReturnType<typeof runSimulation>) =>
        process.stdout.write(
          opts['json'] ? JSON.stringify(report, null, 2) + '\n' : formatReport(report) + '\n',
        );
      const sloTtft = positiveNumber('slo-ttft-ms', str('sloTtftMs'));
      const sloItl = positiveNumber('slo-itl-ms', str('sloItlMs'));
      const slo =
        sloTtft === undefined && sloItl === undefined ? undefined : { ttftMs: sloTtft, itlMs: sloItl };
      const traceFile = str('trace');
      const loras = loraOptions(str);
      if (traceFile !== undefined) {
        if (loras) throw new UsageError('--loras does not apply to --trace (a trace names no adapters)');
        print(
          runTraceSimulation(config, readTrace(traceFile), {
            blockSize: positiveInt('trace-block-size', str('traceBlockSize'), TRACE_BLOCK_SIZE),
            requests: str('requests') === undefined ? undefined : positiveInt('requests', str('requests'), 1),
            slo,
          }),
        );
        return;
      }
      const workload: WorkloadOptions = {
        concurrency: positiveInt('concurrency', str('concurrency'), 1),
        requests: positiveInt('requests', str('requests'), 100),
        inputTokens: positiveInt('input-tokens', str('inputTokens'), 200),
        outputTokens: positiveInt('output-tokens', str('outputTokens'), 200),
        inputTokensStddev: positiveInt('input-tokens-stddev', str('inputTokensStddev'), 0, 0),
        outputTokensStddev: positiveInt('output-tokens-stddev', str('outputTokensStddev'), 0, 0),
        sharedPrefixTokens: positiveInt('shared-prefix-tokens', str('sharedPrefixTokens'), 0, 0),
        turns: positiveInt('turns', str('turns'), 1),
        thinkTimeMs: positiveInt('think-time-ms', str('thinkTimeMs'), 0, 0),
        requestRate: positiveNumber('request-rate', str('requestRate')),
        slo,
        tenants: tenantOptions(str),
        loras,
      };
      print(runSimulation(config, workload));
    },
  );

  program
    .command('list-model-profiles')
    .description('print the model profiles compatible and incompatible with the simulated system')
    .option('--gpu <gpu>', `simulated GPU [env ${SETTINGS.gpu.env}]`)
    .option('--gpus <n>', `number of GPUs [env ${SETTINGS.gpus.env}]`)
    .option('--model <name>', `catalog model [env ${SETTINGS.modelName.env}]`)
    .action((opts: { gpu?: string; gpus?: string; model?: string }) => {
      const config = loadConfig(process.env, { gpu: opts.gpu, gpus: opts.gpus, modelName: opts.model });
      const list = listModelProfiles(config.modelName, config.gpu, config.gpus);
      process.stdout.write(formatProfileList(list, true) + '\n');
    });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed its one-line complaint otherwise.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (
      err instanceof ConfigError ||
      err instanceof DeploymentError ||
      err instanceof UsageError ||
      err instanceof WorkloadError
    ) {
      process.stderr.write(`nimsim: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`nimsim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

const code = await main(process.argv);
// serve keeps running (its listening socket holds the loop open); the others exit with their code.
if (code !== 0) process.exit(code);
