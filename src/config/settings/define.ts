/**
 * What one setting declares, all in one entry: where its value comes from (environment variable,
 * flag, default), how the raw text is parsed, and how `--help` shows it (its group's heading, the
 * placeholder after the flag, what leaving it unset means). The group files beside this one
 * (server.ts, fleet.ts, …) each declare one group's settings with `settingGroup`.
 */
import type { z } from 'zod';

/** Headings of the settings' groups, in the order `--help` prints them (and SETTINGS lists them). */
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

export type SettingGroup = keyof typeof SETTING_GROUPS;

/** The commands whose options are settings. */
export type SettingsCommand = 'serve' | 'simulate' | 'list-model-profiles';

interface SettingBase<S extends z.ZodType> {
  readonly env: string;
  /** Overrides the flag derived from the env name (docs/interface.md#settings: port, model, profile). */
  readonly flag?: string;
  readonly schema: S;
  /**
   * One phrase for `--help` (shown with the default and the variable; docs/interface.md holds the
   * detail). Not repeated by a refusal, which says what is allowed in its own words.
   */
  readonly help: string;
  /** What the value is, after the flag in `--help`: `<n>`, `<ms>`, `<0|1>`, `<url>`… */
  readonly arg: string;
  /**
   * Only the HTTP server reads it: `simulate` runs the engine on a virtual clock with no socket,
   * client, fault or rule, so it does not offer it, and passing it there is an unknown-flag error
   * (exit 2) rather than a flag silently ignored.
   */
  readonly serveOnly?: true;
  /** Masked in GET /admin/config. */
  readonly secret?: true;
}

/**
 * A setting has a raw default, parsed by the schema like any other value, or says what leaving it
 * unset means (`--help` shows that in the default's place): one or the other, never neither.
 */
export type SettingSpec<S extends z.ZodType = z.ZodType> = SettingBase<S> &
  (
    | { readonly default: string; readonly unsetMeans?: never }
    | {
        readonly default?: never;
        /** Shown as the default; per command when the commands differ (jitter: serve 0.03, simulate 0). */
        readonly unsetMeans: string | Readonly<Partial<Record<SettingsCommand, string>>>;
      }
  );

/** A setting as SETTINGS holds it: its spec and the group its file declared it in. */
export type SettingDef<S extends z.ZodType = z.ZodType> = SettingSpec<S> & { readonly group: SettingGroup };

/**
 * The settings of one group, each stamped with the group: a setting's `--help` heading is the file
 * it is declared in.
 */
export function settingGroup<const G extends SettingGroup, const T extends Record<string, SettingSpec>>(
  group: G,
  specs: T,
): { readonly [K in keyof T]: T[K] & { readonly group: G } } {
  const out: Record<string, SettingDef> = {};
  for (const [key, spec] of Object.entries(specs)) out[key] = { ...spec, group };
  return out as { readonly [K in keyof T]: T[K] & { readonly group: G } };
}
