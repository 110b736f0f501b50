import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTING_GROUPS, SETTINGS, flagOf, type SettingKey } from '../../src/config/settings.js';

const GROUP_DIR = new URL('../../src/config/settings/', import.meta.url);
/** The files that declare settings (define.ts and value-schemas.ts declare none). */
const groupFiles = readdirSync(GROUP_DIR).filter(
  (f) => f.endsWith('.ts') && !/^(define|value-schemas)\.ts$/.test(f),
);

describe('SETTINGS assembled from its group files', () => {
  it('holds every setting of every group file, none declared twice (a spread would drop one silently)', async () => {
    const declared: string[] = [];
    for (const file of groupFiles) {
      const module = (await import(new URL(file, GROUP_DIR).href)) as Record<string, unknown>;
      const groups = Object.entries(module).filter(([name]) => name.endsWith('_SETTINGS'));
      expect(groups.length, `${file} exports one *_SETTINGS group`).toBe(1);
      declared.push(...Object.keys(groups[0]![1] as object));
    }
    expect(declared.length).toBe(new Set(declared).size);
    expect([...declared].sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it('lists the groups in the order of SETTING_GROUPS, each group together', () => {
    const order = Object.keys(SETTING_GROUPS);
    const ranks = Object.values(SETTINGS).map((def) => order.indexOf(def.group));
    expect(ranks.every((r) => r >= 0)).toBe(true);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  it('gives every setting its own variable and flag', () => {
    const keys = Object.keys(SETTINGS) as SettingKey[];
    expect(new Set(keys.map((k) => SETTINGS[k].env)).size).toBe(keys.length);
    expect(new Set(keys.map(flagOf)).size).toBe(keys.length);
  });
});
