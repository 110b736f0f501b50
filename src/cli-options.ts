/**
 * How the settings appear as command-line options: grouped under headings (server, model and
 * hardware, engine, …), each with a placeholder that says what it takes, its default and its
 * environment variable, and a help layout that stays readable at 80 columns (a flag too long for
 * the flag column gets a line of its own).
 */
import { Help, Option, type Command } from 'commander';
import { MODEL_NAMES } from './catalog/models.js';
import { SERVE_DEFAULT_JITTER, SETTINGS, flagOf, type SettingKey } from './config/settings.js';
import { SIMULATE_FLAGS, SIMULATE_GROUPS } from './simulate/flags.js';

/** The commands whose options are settings. */
export type SettingsCommand = 'serve' | 'simulate' | 'list-model-profiles';

/**
 * Settings only the HTTP server reads: `simulate` runs the engine on a virtual clock with no
 * socket, client, fault or rule, so it does not offer them, and passing one is an unknown-flag
 * error (exit 2) rather than a flag silently ignored.
 */
export const SERVE_ONLY_SETTINGS: ReadonlySet<SettingKey> = new Set<SettingKey>([
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
  'ui',
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
/** The settings `simulate` accepts. */
export const SIMULATE_SETTINGS = (Object.keys(SETTINGS) as SettingKey[]).filter(
  (k) => !SERVE_ONLY_SETTINGS.has(k),
);

/** Headings of the settings' groups, in the order `--help` prints them. */
export const SETTING_GROUPS = {
  server: 'Server:',
  model: 'Model and hardware:',
  engine: 'Engine and KV cache:',
  fleet: 'Fleet (engine replicas behind a router, or prefill and decode pools):',
  lora: 'LoRA adapters:',
  replies: 'Replies:',
  faults: 'Fault injection:',
  limits: 'Request limits:',
  kvEvents: 'KV events (ZeroMQ):',
  logging: 'Logging:',
} as const;

type SettingGroup = keyof typeof SETTING_GROUPS;

/** Every setting's group: a new setting must pick one (the type says so). */
const GROUP_OF: Record<SettingKey, SettingGroup> = {
  port: 'server',
  host: 'server',
  servedModelName: 'server',
  timeScale: 'server',
  readyDelayMs: 'server',
  apiKey: 'server',
  adminToken: 'server',
  apiCompat: 'server',
  perReqMetricsEnable: 'server',
  responsesStoreSize: 'server',
  ui: 'server',
  modelName: 'model',
  profile: 'model',
  precision: 'model',
  tp: 'model',
  gpu: 'model',
  gpus: 'model',
  gpuMemoryUtilization: 'model',
  frontend: 'model',
  maxModelLen: 'model',
  enableKvCacheReuse: 'engine',
  kvBlockSize: 'engine',
  kvCacheBlocks: 'engine',
  kvEviction: 'engine',
  kvHostCacheBlocks: 'engine',
  kvDiskCacheBlocks: 'engine',
  kvDisk: 'engine',
  maxNumSeqs: 'engine',
  maxNumBatchedTokens: 'engine',
  maxWaiting: 'engine',
  jitter: 'engine',
  seed: 'engine',
  peftSource: 'lora',
  peftRefreshInterval: 'lora',
  maxGpuLoras: 'lora',
  maxLoraRank: 'lora',
  replicas: 'fleet',
  router: 'fleet',
  kvOverlapScoreWeight: 'fleet',
  routerTemperature: 'fleet',
  prefillReplicas: 'fleet',
  decodeReplicas: 'fleet',
  kvTransferLink: 'fleet',
  prefillTp: 'fleet',
  decodeTp: 'fleet',
  maxLocalPrefillLength: 'fleet',
  prefillMaxWaiting: 'fleet',
  decodeMaxWaiting: 'fleet',
  content: 'replies',
  meanOutputTokens: 'replies',
  meanReasoningTokens: 'replies',
  rulesFile: 'replies',
  faultRate: 'faults',
  faultTypes: 'faults',
  faultDelayMs: 'faults',
  faultHeaders: 'faults',
  maxBodyBytes: 'limits',
  streamBufferBytes: 'limits',
  maxHeaderBytes: 'limits',
  requestTimeoutMs: 'limits',
  maxTokensPerRequest: 'limits',
  maxLogprobsPerRequest: 'limits',
  kvEventsEndpoint: 'kvEvents',
  kvEventsTopic: 'kvEvents',
  kvEventsReplayEndpoint: 'kvEvents',
  kvEventsFormat: 'kvEvents',
  logLevel: 'logging',
  jsonlLogging: 'logging',
};

/** What a setting's value is, when `<value>` would say less. */
const ARG_OF: Partial<Record<SettingKey, string>> = {
  port: '<n>',
  host: '<addr>',
  servedModelName: '<names>',
  timeScale: '<x>',
  readyDelayMs: '<ms>',
  apiKey: '<key>',
  adminToken: '<token>',
  apiCompat: '<1|2>',
  perReqMetricsEnable: '<0|1>',
  responsesStoreSize: '<n>',
  ui: '<0|1>',
  modelName: '<name>',
  profile: '<name|id>',
  precision: '<p>',
  tp: '<n>',
  gpu: '<gpu>',
  gpus: '<n>',
  gpuMemoryUtilization: '<f>',
  frontend: '<nim|none>',
  maxModelLen: '<n>',
  enableKvCacheReuse: '<0|1>',
  kvBlockSize: '<n>',
  kvCacheBlocks: '<n>',
  kvEviction: '<policy>',
  kvHostCacheBlocks: '<n>',
  kvDiskCacheBlocks: '<n>',
  kvDisk: '<drive>',
  maxNumSeqs: '<n>',
  maxNumBatchedTokens: '<n>',
  maxWaiting: '<n>',
  jitter: '<sigma>',
  seed: '<n>',
  peftSource: '<dir>',
  peftRefreshInterval: '<s>',
  maxGpuLoras: '<n>',
  maxLoraRank: '<r>',
  replicas: '<n>',
  router: '<name>',
  kvOverlapScoreWeight: '<w>',
  routerTemperature: '<t>',
  prefillReplicas: '<n>',
  decodeReplicas: '<n>',
  kvTransferLink: '<link>',
  prefillTp: '<n>',
  decodeTp: '<n>',
  maxLocalPrefillLength: '<n>',
  prefillMaxWaiting: '<n>',
  decodeMaxWaiting: '<n>',
  content: '<mode>',
  meanOutputTokens: '<n>',
  meanReasoningTokens: '<n>',
  rulesFile: '<file>',
  faultRate: '<f>',
  faultTypes: '<types>',
  faultDelayMs: '<ms>',
  faultHeaders: '<0|1>',
  maxBodyBytes: '<bytes>',
  streamBufferBytes: '<bytes>',
  maxHeaderBytes: '<bytes>',
  requestTimeoutMs: '<ms>',
  maxTokensPerRequest: '<n>',
  maxLogprobsPerRequest: '<n>',
  kvEventsEndpoint: '<url>',
  kvEventsTopic: '<topic>',
  kvEventsReplayEndpoint: '<url>',
  kvEventsFormat: '<format>',
  logLevel: '<level>',
  jsonlLogging: '<0|1>',
};

/** What an unset setting without a literal default means. */
const UNSET_MEANS: Partial<Record<SettingKey, string>> = {
  servedModelName: 'the model name',
  profile: 'the best compatible',
  precision: "the profile's",
  tp: "the profile's",
  maxModelLen: "the model's",
  kvCacheBlocks: 'from GPU memory',
  router: 'kv-aware',
  peftSource: 'none, LoRA off',
  peftRefreshInterval: 'read once',
  kvTransferLink: "the GPU's NVLink",
  prefillTp: "the profile's",
  decodeTp: "the profile's",
  prefillMaxWaiting: '--max-waiting',
  decodeMaxWaiting: '--max-waiting',
  apiKey: 'none, open',
  adminToken: 'none, /admin off',
  rulesFile: 'none',
  kvEventsEndpoint: 'off',
  kvEventsReplayEndpoint: 'off',
};

/** A default that differs between the commands. */
const COMMAND_DEFAULT: Partial<Record<SettingKey, Partial<Record<SettingsCommand, string>>>> = {
  jitter: { serve: String(SERVE_DEFAULT_JITTER), simulate: '0' },
};

/** What `--help` adds to a setting's own phrase: the catalog models the error points to. */
const HELP_EXTRA: Partial<Record<SettingKey, () => string>> = {
  modelName: () => `: ${MODEL_NAMES.join(', ')}`,
};

/** The default `--help` shows for a setting in `command` (undefined: none to show). */
export function shownDefault(key: SettingKey, command: SettingsCommand): string | undefined {
  const def = SETTINGS[key];
  return COMMAND_DEFAULT[key]?.[command] ?? ('default' in def ? def.default : UNSET_MEANS[key]);
}

/** The variable a reader would guess from the flag: NIMSIM_ and the flag in capitals. */
const guessedEnv = (key: SettingKey) => `NIMSIM_${flagOf(key).toUpperCase().replace(/-/g, '_')}`;

/**
 * How `--help` introduces the settings: the variable of each is named only when the rule does not
 * give it (NIM's own variables: NIM_SERVER_PORT for --port), which keeps most options on two lines.
 */
export const ENV_RULE =
  'Every option below that is a setting is also an environment variable: NIMSIM_ and the flag in ' +
  'capitals (--max-num-seqs is NIMSIM_MAX_NUM_SEQS) unless the option names another. Flags win ' +
  'over the environment.';

function settingOption(key: SettingKey, command: SettingsCommand): Option {
  const def = SETTINGS[key];
  const shown = shownDefault(key, command);
  const env = def.env === guessedEnv(key) ? undefined : `env ${def.env}`;
  const tail = [shown === undefined ? undefined : `default: ${shown}`, env].filter(Boolean).join('; ');
  const description = `${def.help}${HELP_EXTRA[key]?.() ?? ''}${tail ? ` (${tail})` : ''}`;
  return new Option(`--${flagOf(key)} ${ARG_OF[key] ?? '<value>'}`, description).helpGroup(
    SETTING_GROUPS[GROUP_OF[key]],
  );
}

/** Adds the settings `keys` as options of `cmd`, group by group in the order of SETTING_GROUPS. */
export function addSettingOptions(
  cmd: Command,
  keys: readonly SettingKey[],
  command: SettingsCommand,
): Command {
  const order = Object.keys(SETTING_GROUPS) as SettingGroup[];
  const sorted = [...keys].sort((a, b) => order.indexOf(GROUP_OF[a]) - order.indexOf(GROUP_OF[b]));
  for (const key of sorted) cmd.addOption(settingOption(key, command));
  return cmd;
}

/** Adds `simulate`'s own flags (workload, tenants, trace, report), each with its default. */
export function addSimulateOptions(cmd: Command): Command {
  const order = Object.keys(SIMULATE_GROUPS) as (keyof typeof SIMULATE_GROUPS)[];
  const sorted = [...SIMULATE_FLAGS].sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group));
  for (const f of sorted) {
    const description = f.default === undefined ? f.help : `${f.help} (default: ${f.default})`;
    cmd.addOption(
      new Option(`--${f.name}${f.arg ? ` ${f.arg}` : ''}`, description).helpGroup(SIMULATE_GROUPS[f.group]),
    );
  }
  return cmd;
}

/** Widest flag column: a longer flag takes a line of its own, its description below. */
const MAX_TERM_WIDTH = 28;

/**
 * Help that keeps its descriptions wide enough to read at 80 columns: commander pads every flag
 * to the longest (`--kv-events-replay-endpoint <url>`), which leaves a narrow column of text;
 * here the flag column stops at MAX_TERM_WIDTH.
 */
export const HELP_LAYOUT: Partial<Help> = {
  padWidth(cmd: Command, helper: Help): number {
    return Math.min(MAX_TERM_WIDTH, Help.prototype.padWidth.call(helper, cmd, helper));
  },
  formatItem(term: string, termWidth: number, description: string, helper: Help): string {
    const plain = Help.prototype.formatItem;
    if (!description || helper.displayWidth(term) <= termWidth)
      return plain.call(helper, term, termWidth, description, helper);
    return `  ${term}\n${plain.call(helper, '', termWidth, description, helper)}`;
  },
};
