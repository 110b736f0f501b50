/**
 * How a complaint about a setting names it: by what the user typed. A value given as a flag is
 * `--port=99999`, one from the environment `NIM_SERVER_PORT=99999`, and a default the user never
 * set is named by its flag (`--gpus=1`), the way to change it on the command line. Every message
 * about one setting has the one shape `<name>=<value>: <problem>[; allowed: <values>]`, on one
 * short line (docs/interface.md#settings).
 */
import { SETTINGS, flagOf, type SettingKey } from './settings.js';

/** Where a setting's value came from. */
export type SettingSource = 'flag' | 'env' | 'default';

interface Origin {
  readonly source: SettingSource;
  /** The text the user gave (or the default's), before parsing. */
  readonly raw: string | undefined;
}

/**
 * The origin of each setting of a loaded configuration, kept beside it rather than in it: the
 * configuration stays a plain frozen object of values (GET /admin/config, the library's `config`).
 */
const origins = new WeakMap<object, ReadonlyMap<SettingKey, Origin>>();

export function recordOrigins(config: object, byKey: ReadonlyMap<SettingKey, Origin>): void {
  origins.set(config, byKey);
}

/** The origin of `key` in `config` (a default when the configuration was not loaded from input). */
export function originOf(config: object, key: SettingKey): Origin {
  return origins.get(config)?.get(key) ?? { source: 'default', raw: undefined };
}

/** The name of a setting as its source spells it: `--flag`, or the environment variable. */
export function nameFrom(key: SettingKey, source: SettingSource): string {
  return source === 'env' ? SETTINGS[key].env : `--${flagOf(key)}`;
}

/** The name the user used for `key`: its flag, or its env variable when the value came from there. */
export function settingName(config: object, key: SettingKey): string {
  return nameFrom(key, originOf(config, key).source);
}

/** The setting whose environment variable is `env`, if any. */
export function settingOfEnv(env: string): SettingKey | undefined {
  return (Object.keys(SETTINGS) as SettingKey[]).find((k) => SETTINGS[k].env === env);
}

/** A value as it can be typed back: bare when it is one plain word, JSON-quoted otherwise. */
export function showValue(value: unknown): string {
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return /^[\w.,:/@+*%-]+$/.test(text) ? text : JSON.stringify(text);
}

/** `<name>=<value>: <problem>`, the one shape of a complaint about one setting. */
export function settingProblem(name: string, value: unknown, problem: string): string {
  return `${name}=${showValue(value)}: ${problem}`;
}

/**
 * `<name>=<value>` for the setting `key` of `config`: its name as the user gave it and the text
 * they typed (the parsed value when the configuration did not come from text).
 */
export function namedValue(config: object, key: SettingKey): string {
  const origin = originOf(config, key);
  const value = origin.raw ?? (config as Record<string, unknown>)[key];
  return `${nameFrom(key, origin.source)}=${showValue(value)}`;
}

/** `<name>=<value>: <problem>` for the setting `key` of `config` (see namedValue). */
export function describeSettingProblem(config: object, key: SettingKey, problem: string): string {
  return `${namedValue(config, key)}: ${problem}`;
}

/**
 * A refusal that names a setting by its environment variable (a DeploymentError), said again with
 * the name and text the user gave: `NIM_MODEL_NAME=x: …` becomes `--model=x: …` after `--model x`.
 * Undefined when `env` is no setting's.
 */
export function restateForUser(
  config: object,
  refusal: { readonly setting: string; readonly value: unknown; readonly detail: string },
): string | undefined {
  const key = settingOfEnv(refusal.setting);
  if (key === undefined) return undefined;
  const origin = originOf(config, key);
  // What the user typed, else the value refused (a default, or one the deployment derived).
  const value = origin.source === 'default' ? refusal.value : origin.raw;
  const name = nameFrom(key, origin.source);
  return value === undefined ? `${name}: ${refusal.detail}` : settingProblem(name, value, refusal.detail);
}

/** Longest list of allowed values a one-line message spells out. */
const MAX_LISTED_CHARS = 72;

/**
 * Allowed values for a message: all of them when they fit in a short line, else how many there are
 * and where `--help` lists them (a message that lists eight model names is four terminal lines).
 */
export function allowedValues(values: readonly string[], what: string): string {
  const all = values.join(', ');
  return all.length <= MAX_LISTED_CHARS
    ? `allowed: ${all}`
    : `allowed: the ${values.length} ${what} --help lists`;
}

/**
 * "unknown model; …": the allowed values when they fit, else the one the user probably meant
 * ("did you mean meta/llama-3.1-8b-instruct?"), else where they are listed.
 */
export function unknownValue(what: string, value: string, values: readonly string[], plural: string): string {
  const meant = values.join(', ').length <= MAX_LISTED_CHARS ? undefined : closestValue(value, values);
  return meant !== undefined
    ? `unknown ${what}; did you mean ${meant}?`
    : `unknown ${what}; ${allowedValues(values, plural)}`;
}

/**
 * The allowed value closest to a mistyped one, when one is close enough to be what was meant:
 * the same but for case or an organisation prefix (`llama-3.1-8b-instruct`), the start of only one
 * name (`h100`), or a typo or two.
 */
export function closestValue(value: string, values: readonly string[]): string | undefined {
  const v = value.trim().toLowerCase();
  if (v.length === 0) return undefined;
  const same = values.filter((c) => c.toLowerCase() === v || c.toLowerCase().endsWith(`/${v}`));
  if (same.length === 1) return same[0];
  // A name cut short (`h100` for `h100-sxm`) when only one name starts so.
  const started = values.filter((c) => c.toLowerCase().startsWith(v));
  if (started.length === 1) return started[0];
  // The nearest within a typo or two (one per five characters), when no other is as near.
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(v.length / 5)) + 1;
  let tied = false;
  for (const c of values) {
    const d = editDistance(v, c.toLowerCase());
    if (d < bestDistance) [best, bestDistance, tied] = [c, d, false];
    else if (d === bestDistance) tied = true;
  }
  return tied ? undefined : best;
}

/** Levenshtein distance (two short strings: a catalog name against what was typed). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
