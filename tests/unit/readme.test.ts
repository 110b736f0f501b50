import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS, flagOf, type SettingKey } from '../../src/config/settings.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const settingsPage = readFileSync(new URL('../../docs/settings.md', import.meta.url), 'utf8');

describe('docs/settings.md', () => {
  it('documents every setting with its env name, flag and default', () => {
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      const def = SETTINGS[key];
      const row = settingsPage.split('\n').find((l) => l.startsWith(`| \`${def.env}\` |`));
      expect(row, def.env).toBeDefined();
      expect(row).toContain(`\`--${flagOf(key)}\``);
      if ('default' in def) expect(row).toContain(`\`${def.default}\``);
    }
  });
});

const interfacePage = readFileSync(new URL('../../docs/interface.md', import.meta.url), 'utf8');

describe('docs/interface.md', () => {
  it('lists every setting with its flag in the public interface', () => {
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      const def = SETTINGS[key];
      const row = interfacePage.split('\n').find((l) => l.startsWith(`| \`${def.env}\``));
      expect(row, def.env).toBeDefined();
      expect(row).toContain(`\`--${flagOf(key)}\``);
    }
  });
});

describe('README', () => {
  it('keeps the two quick-start commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
