/**
 * How the settings appear as command-line options: grouped under headings (server, model and
 * hardware, engine, …), each with a placeholder that says what it takes, its default and its
 * environment variable, and a help layout that stays readable at 80 columns (a flag too long for
 * the flag column gets a line of its own). What to show of each setting (its group, placeholder,
 * default or what unset means, whether `simulate` takes it) is on its definition
 * (src/config/settings/); nothing here is keyed by setting.
 */
import { Help, Option, type Command } from 'commander';
import {
  SETTING_GROUPS,
  SETTINGS,
  flagOf,
  type SettingDef,
  type SettingGroup,
  type SettingKey,
  type SettingsCommand,
} from './config/settings.js';
import { SIMULATE_FLAGS, SIMULATE_GROUPS } from './simulate/flags.js';

export type { SettingsCommand } from './config/settings.js';

/** The settings `simulate` accepts: all but those only the HTTP server reads (`serveOnly`). */
export const SIMULATE_SETTINGS = (Object.keys(SETTINGS) as SettingKey[]).filter(
  (k) => !(SETTINGS[k] as SettingDef).serveOnly,
);

/** The default `--help` shows for a setting in `command` (undefined: none to show). */
export function shownDefault(key: SettingKey, command: SettingsCommand): string | undefined {
  const def: SettingDef = SETTINGS[key];
  if (def.default !== undefined) return def.default;
  return typeof def.unsetMeans === 'string' ? def.unsetMeans : def.unsetMeans[command];
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
  const def: SettingDef = SETTINGS[key];
  const shown = shownDefault(key, command);
  const env = def.env === guessedEnv(key) ? undefined : `env ${def.env}`;
  const tail = [shown === undefined ? undefined : `default: ${shown}`, env].filter(Boolean).join('; ');
  const description = `${def.help}${tail ? ` (${tail})` : ''}`;
  return new Option(`--${flagOf(key)} ${def.arg}`, description).helpGroup(SETTING_GROUPS[def.group]);
}

/** Adds the settings `keys` as options of `cmd`, group by group in the order of SETTING_GROUPS. */
export function addSettingOptions(
  cmd: Command,
  keys: readonly SettingKey[],
  command: SettingsCommand,
): Command {
  const order = Object.keys(SETTING_GROUPS) as SettingGroup[];
  const groupRank = (key: SettingKey) => order.indexOf(SETTINGS[key].group);
  const sorted = [...keys].sort((a, b) => groupRank(a) - groupRank(b));
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
