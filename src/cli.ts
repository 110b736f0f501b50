#!/usr/bin/env node
/**
 * The `nimsim` command: serve, simulate, list-model-profiles. Every setting is a flag too (the
 * env name without NIMSIM_/NIM_, kebab-case; docs/interface.md#settings). A bad value or an unknown
 * flag prints one line and exits 2.
 */
import { Command, CommanderError } from 'commander';
import {
  addSettingOptions,
  addSimulateOptions,
  ENV_RULE,
  HELP_LAYOUT,
  SIMULATE_SETTINGS,
} from './cli-options.js';
import { DeploymentError, formatProfileList, listModelProfiles } from './catalog/deployment.js';
import { ConfigError, loadConfig, type Config, type RawSettings } from './config/config.js';
import { restateForUser } from './config/setting-names.js';
import { SETTINGS, flagOf, type SettingKey } from './config/settings.js';
import { createLogger } from './logging.js';
import { WorkloadError } from './simulate/simulate.js';
import { runSimulateCommand, UsageError, type SimulateFlagValues } from './simulate/simulate-command.js';
import { VERSION } from './version.js';

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

/** What the running command loaded, for its error messages. */
interface CommandState {
  /** The configuration: a refusal names a setting as the user gave it (flag or env). */
  config?: Config;
}

function buildProgram(state: CommandState): Command {
  const load = (flags: RawSettings) => (state.config = loadConfig(process.env, flags));
  const program = new Command('nimsim')
    .description('A simulator of an NVIDIA NIM for LLMs inference microservice.')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError(false)
    // Before the subcommands: they inherit it.
    .configureHelp(HELP_LAYOUT)
    .addHelpText(
      'after',
      '\nEvery setting is both a flag and an environment variable: `nimsim serve --help` lists\n' +
        'them, grouped, with their defaults.',
    );

  addSettingOptions(
    program.command('serve').description(`Serve the OpenAI-compatible NIM API over HTTP.\n\n${ENV_RULE}`),
    Object.keys(SETTINGS) as SettingKey[],
    'serve',
  ).action(async (_opts, cmd: Command) => {
    const config = load(rawSettings(cmd));
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
      'Run a synthetic workload or a trace through the engine on a virtual clock and print a ' +
        `report.\n\n${ENV_RULE}`,
    );
  addSimulateOptions(sim);
  addSettingOptions(sim, SIMULATE_SETTINGS, 'simulate').action((opts: SimulateFlagValues, cmd: Command) => {
    const config = load(rawSettings(cmd));
    runSimulateCommand(config, opts, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      stderrIsTty: process.stderr.isTTY === true,
      // A terminal that does not say its width (0) is taken as 80 columns wide.
      stderrColumns: process.stderr.isTTY ? process.stderr.columns || 80 : undefined,
      command: ['nimsim', ...process.argv.slice(2)].join(' '),
    });
  });

  addSettingOptions(
    program
      .command('list-model-profiles')
      .description(
        `Print the model profiles compatible and incompatible with the simulated system.\n\n${ENV_RULE}`,
      ),
    ['modelName', 'gpu', 'gpus'],
    'list-model-profiles',
  ).action((_opts, cmd: Command) => {
    const config = load(rawSettings(cmd));
    const list = listModelProfiles(config.modelName, config.gpu, config.gpus);
    process.stdout.write(formatProfileList(list, true) + '\n');
  });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const state: CommandState = {};
  const program = buildProgram(state);
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed its one-line complaint otherwise.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof DeploymentError) {
      const restated = state.config ? restateForUser(state.config, err) : undefined;
      process.stderr.write(`nimsim: ${restated ?? err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof UsageError || err instanceof WorkloadError) {
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
