/**
 * Settings that change at run time through PATCH /admin/config. Each entry is keyed by its env
 * name (as GET /admin/config shows it), validates a raw JSON value and applies it; a PATCH
 * validates every key before applying any, so a bad body changes nothing.
 */
import type { z } from 'zod';
import { SETTINGS, type SettingKey } from '../../config/settings.js';
import type { AdjustableClock } from '../../engine/clock.js';
import type { AdjustableJitter } from '../../engine/jitter.js';
import { ApiError } from '../../serving/errors.js';
import type { FaultInjector } from '../faults/faults.js';

export interface LiveEntry<T = unknown> {
  /** Throws ApiError 400 when `raw` is not acceptable. */
  parse(raw: unknown): T;
  apply(value: T): void;
  /** The effective value, as GET /admin/config shows it. */
  current(): unknown;
}

export interface LiveConfig {
  /** Adds a patchable key (the scripted replies' `rules` key registers here too). */
  register<T>(key: string, entry: LiveEntry<T>): void;
  readonly keys: readonly string[];
  /** Validates every key of `body`, then applies them all; returns the keys changed. */
  patch(body: unknown): string[];
  /** The effective values of every patchable key. */
  effective(): Record<string, unknown>;
}

export function createLiveConfig(): LiveConfig {
  const entries = new Map<string, LiveEntry>();
  return {
    register(key, entry) {
      entries.set(key, entry as LiveEntry);
    },
    get keys() {
      return [...entries.keys()];
    },
    patch(body) {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new ApiError(400, 'The body must be a JSON object of settings to change.', 'body');
      }
      const parsed: [LiveEntry, unknown][] = [];
      for (const [key, raw] of Object.entries(body)) {
        const entry = entries.get(key);
        if (!entry) {
          throw new ApiError(
            400,
            `${key} cannot be changed at run time; these can: ${[...entries.keys()].join(', ')}.`,
            key,
          );
        }
        parsed.push([entry, entry.parse(raw)]);
      }
      for (const [entry, value] of parsed) entry.apply(value);
      return Object.keys(body);
    },
    effective() {
      const out: Record<string, unknown> = {};
      for (const [key, entry] of entries) out[key] = entry.current();
      return out;
    },
  };
}

/** Parses a JSON value with a setting's own schema (numbers and lists given as JSON are accepted). */
export function parseSetting<K extends SettingKey>(
  key: K,
  raw: unknown,
): z.output<(typeof SETTINGS)[K]['schema']> {
  const def = SETTINGS[key];
  const text = Array.isArray(raw)
    ? raw.map(String).join(',')
    : typeof raw === 'number' || typeof raw === 'string'
      ? String(raw)
      : undefined;
  const result = text === undefined ? undefined : (def.schema as z.ZodType).safeParse(text);
  if (!result?.success) {
    const reason = result?.error.issues[0]?.message ?? 'must be a number, a string or a list';
    throw new ApiError(400, `Invalid ${def.env}=${JSON.stringify(raw)}: ${reason} (${def.help}).`, def.env);
  }
  return result.data as z.output<(typeof SETTINGS)[K]['schema']>;
}

export interface LiveTargets {
  readonly faults: FaultInjector;
  readonly clock: AdjustableClock;
  readonly jitter: AdjustableJitter;
}

/** The run-time knobs of `serve`: fault rate, types and delay, time scale, jitter. */
export function createServeLiveConfig(t: LiveTargets): LiveConfig {
  const live = createLiveConfig();
  live.register('NIMSIM_FAULT_RATE', {
    parse: (raw) => parseSetting('faultRate', raw),
    apply: (rate) => t.faults.update({ rate }),
    current: () => t.faults.settings.rate,
  });
  live.register('NIMSIM_FAULT_TYPES', {
    parse: (raw) => parseSetting('faultTypes', raw),
    apply: (types) => t.faults.update({ types }),
    current: () => [...t.faults.settings.types],
  });
  live.register('NIMSIM_FAULT_DELAY_MS', {
    parse: (raw) => parseSetting('faultDelayMs', raw),
    apply: (delayMs) => t.faults.update({ delayMs }),
    current: () => t.faults.settings.delayMs,
  });
  live.register('NIMSIM_TIME_SCALE', {
    parse: (raw) => parseSetting('timeScale', raw),
    apply: (scale) => t.clock.setTimeScale(scale),
    current: () => t.clock.timeScale,
  });
  live.register('NIMSIM_JITTER', {
    parse: (raw) => parseSetting('jitter', raw),
    apply: (sigma) => t.jitter.setSigma(sigma),
    current: () => t.jitter.sigma,
  });
  // Scripted replies register their `rules` key on this object in server.ts.
  return live;
}
