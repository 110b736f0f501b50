/**
 * Loads the effective configuration: flags win over the environment, the environment over the
 * defaults in SETTINGS. Parsed once at startup and frozen; a bad value is a ConfigError whose
 * message is one line naming the setting, so the CLI can print it and exit 2.
 */
import type { z } from 'zod';
import {
  describeSettingProblem,
  nameFrom,
  originOf,
  recordOrigins,
  settingName,
  settingProblem,
  type SettingSource,
} from './setting-names.js';
import { SETTINGS, type SettingKey } from './settings.js';

type Settings = typeof SETTINGS;
type HasDefault<K extends SettingKey> = Settings[K] extends { default: string } ? K : never;
type ValueOf<K extends SettingKey> = z.output<Settings[K]['schema']>;

export type Config = {
  readonly [K in SettingKey as HasDefault<K>]: ValueOf<K>;
} & {
  readonly [K in SettingKey as Exclude<K, HasDefault<K>>]?: ValueOf<K> | undefined;
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Raw values by setting key, e.g. from parsed command-line flags. */
export type RawSettings = Partial<Record<SettingKey, string>>;

export function loadConfig(env: NodeJS.ProcessEnv, flags: RawSettings = {}): Config {
  const out: Record<string, unknown> = {};
  const origins = new Map<SettingKey, { source: SettingSource; raw: string | undefined }>();
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const def = SETTINGS[key];
    const fromFlag = flags[key];
    const fromEnv = env[def.env];
    const source: SettingSource =
      fromFlag !== undefined ? 'flag' : fromEnv !== undefined && fromEnv !== '' ? 'env' : 'default';
    const value =
      source === 'flag' ? fromFlag : source === 'env' ? fromEnv : 'default' in def ? def.default : undefined;
    origins.set(key, { source, raw: value });
    if (value === undefined) continue;
    const parsed = (def.schema as z.ZodType).safeParse(value);
    if (!parsed.success) {
      // The schema's own message says what is allowed; the help text is for --help, not for this line.
      const reason = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError(settingProblem(nameFrom(key, source), value, reason));
    }
    out[key] = parsed.data;
  }
  const config = Object.freeze(out) as Config;
  recordOrigins(config, origins);
  checkDisaggregation(config);
  return config;
}

/** Whether the settings ask for disaggregated prefill and decode (both pools > 0). */
export function isDisaggregated(config: Pick<Config, 'prefillReplicas' | 'decodeReplicas'>): boolean {
  return config.prefillReplicas > 0 && config.decodeReplicas > 0;
}

/** Settings that make sense only together (docs/disaggregation.md#settings), named as the user gave them. */
function checkDisaggregation(config: Config): void {
  const name = (key: SettingKey) => settingName(config, key);
  const given = (key: SettingKey) => originOf(config, key).source !== 'default';
  const prefill = config.prefillReplicas;
  const decode = config.decodeReplicas;
  if (prefill > 0 !== decode > 0) {
    const [set, unset] =
      prefill > 0
        ? (['prefillReplicas', 'decodeReplicas'] as const)
        : (['decodeReplicas', 'prefillReplicas'] as const);
    throw new ConfigError(
      describeSettingProblem(config, set, `needs ${name(unset)} above 0 too (disaggregated serving)`),
    );
  }
  const disaggregated = prefill > 0;
  if (disaggregated && given('replicas')) {
    throw new ConfigError(
      describeSettingProblem(
        config,
        'replicas',
        `not with ${name('prefillReplicas')} and ${name('decodeReplicas')}: those are the replicas`,
      ),
    );
  }
  if (!disaggregated) {
    for (const key of ['prefillTp', 'decodeTp', 'prefillMaxWaiting', 'decodeMaxWaiting'] as const) {
      if (given(key)) {
        throw new ConfigError(
          describeSettingProblem(
            config,
            key,
            `needs ${name('prefillReplicas')} and ${name('decodeReplicas')} above 0`,
          ),
        );
      }
    }
  }
}

/**
 * The engines' max LoRAs per batch when LoRA is on — NIM_PEFT_SOURCE set (NIM passes vLLM
 * --enable-lora only then), or `enableLora` (simulate --loras) — else undefined: LoRA off
 * (docs/lora.md).
 */
export function maxLorasOf(config: Config, enableLora = false): number | undefined {
  return config.peftSource !== undefined || enableLora ? config.maxGpuLoras : undefined;
}

/** The served model names: NIM_SERVED_MODEL_NAME, else the simulated model's name. */
export function servedModelNames(config: Config): readonly string[] {
  return config.servedModelName ?? [config.modelName];
}

/** The effective configuration for GET /admin/config: secrets masked. */
export function describeConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const def = SETTINGS[key];
    const value = (config as Record<string, unknown>)[key];
    out[def.env] = 'secret' in def && def.secret && value !== undefined ? '***' : (value ?? null);
  }
  return out;
}
