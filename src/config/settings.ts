/**
 * Every setting nimsim reads, declared once: its environment variable, its flag, its schema (over
 * the raw string), its default, and how `--help` shows it. The CLI's options, the config loader,
 * `GET /admin/config` and the settings table of docs/settings.md are all derived from this table,
 * so a setting cannot exist in one place and be missing in another. Names are a stable interface
 * (docs/interface.md#settings).
 *
 * Adding a setting: one entry in the group file under settings/ where it belongs (server.ts,
 * model-hardware.ts, engine-kv-cache.ts, fleet.ts, lora.ts, replies.ts, faults.ts,
 * request-limits.ts, kv-events.ts, logging.ts); the file is its `--help` heading, and the entry's
 * type (settings/define.ts) asks for everything else: env, schema, help, arg, and a default or
 * what unset means. Nothing in this file or in src/cli-options.ts changes. Then a row in
 * docs/settings.md and a line in docs/interface.md (tests/unit/readme.test.ts checks both).
 * A new group: a file under settings/, its heading in SETTING_GROUPS, and its spread below.
 */
import type { SettingDef } from './settings/define.js';
import { ENGINE_KV_CACHE_SETTINGS } from './settings/engine-kv-cache.js';
import { FAULT_SETTINGS } from './settings/faults.js';
import { FLEET_SETTINGS } from './settings/fleet.js';
import { KV_EVENTS_SETTINGS } from './settings/kv-events.js';
import { LOGGING_SETTINGS } from './settings/logging.js';
import { LORA_SETTINGS } from './settings/lora.js';
import { MODEL_HARDWARE_SETTINGS } from './settings/model-hardware.js';
import { REPLIES_SETTINGS } from './settings/replies.js';
import { REQUEST_LIMIT_SETTINGS } from './settings/request-limits.js';
import { SERVER_SETTINGS } from './settings/server.js';

export {
  SETTING_GROUPS,
  type SettingDef,
  type SettingGroup,
  type SettingsCommand,
} from './settings/define.js';
export { SERVE_DEFAULT_JITTER } from './settings/engine-kv-cache.js';
export {
  FAULT_TYPE_NAMES,
  MAX_INJECTED_DELAY_MS,
  STATUS_FAULT_NAMES,
  type FaultType,
} from './settings/faults.js';
export { MAX_REPLICAS, ROUTER_NAMES } from './settings/fleet.js';
export { LORA_RANKS } from './settings/lora.js';
export { MIN_TIME_SCALE } from './settings/server.js';

/** All settings, group by group in the order of SETTING_GROUPS (the order `--help` lists them). */
export const SETTINGS = {
  ...SERVER_SETTINGS,
  ...MODEL_HARDWARE_SETTINGS,
  ...ENGINE_KV_CACHE_SETTINGS,
  ...FLEET_SETTINGS,
  ...LORA_SETTINGS,
  ...REPLIES_SETTINGS,
  ...FAULT_SETTINGS,
  ...REQUEST_LIMIT_SETTINGS,
  ...KV_EVENTS_SETTINGS,
  ...LOGGING_SETTINGS,
} as const;

export type SettingKey = keyof typeof SETTINGS;

/** The flag of a setting: the env name without NIMSIM_/NIM_, kebab-case (docs/interface.md#settings). */
export function flagOf(key: SettingKey): string {
  const def: SettingDef = SETTINGS[key];
  return (
    def.flag ??
    def.env
      .replace(/^NIMSIM_|^NIM_/, '')
      .toLowerCase()
      .replace(/_/g, '-')
  );
}
