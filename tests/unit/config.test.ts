import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, servedModelNames } from '../../src/config/config.js';
import { flagOf } from '../../src/config/settings.js';

describe('config', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.modelName).toBe('meta/llama-3.1-8b-instruct');
    expect(c.gpu).toBe('h100-sxm');
    expect(c.kvBlockSize).toBe(16);
    expect(c.kvEviction).toBe('lru');
    expect(c.maxNumSeqs).toBe(256);
    expect(c.maxWaiting).toBe(1024);
    expect(c.timeScale).toBe(1);
    expect(c.enableKvCacheReuse).toBe(true);
    expect(c.apiCompat).toBe(2);
    expect(c.apiKey).toBeUndefined();
  });

  it('lets flags win over env and env over defaults', () => {
    expect(loadConfig({ NIMSIM_TIME_SCALE: '10' }).timeScale).toBe(10);
    expect(loadConfig({ NIMSIM_TIME_SCALE: '10' }, { timeScale: '0' }).timeScale).toBe(0);
    expect(loadConfig({ NIM_ENABLE_KV_CACHE_REUSE: '0' }).enableKvCacheReuse).toBe(false);
  });

  it('derives flags from env names, with the three contract exceptions', () => {
    expect(flagOf('timeScale')).toBe('time-scale');
    expect(flagOf('maxModelLen')).toBe('max-model-len');
    expect(flagOf('port')).toBe('port');
    expect(flagOf('modelName')).toBe('model');
    expect(flagOf('profile')).toBe('profile');
  });

  it('reports a bad value as one line naming the setting and the allowed values', () => {
    expect(() => loadConfig({ NIMSIM_KV_EVICTION: 'random' })).toThrow(ConfigError);
    try {
      loadConfig({ NIM_SERVER_PORT: '70000' });
    } catch (err) {
      expect((err as Error).message).toMatch(/^invalid NIM_SERVER_PORT="70000": /);
      expect((err as Error).message).not.toContain('\n');
    }
    expect(() => loadConfig({}, { timeScale: 'fast' })).toThrow(/--time-scale/);
  });

  it('splits served model names and masks secrets', () => {
    const c = loadConfig({ NIM_SERVED_MODEL_NAME: 'a, b', NIMSIM_API_KEY: 'k' });
    expect(servedModelNames(c)).toEqual(['a', 'b']);
    expect(describeConfig(c)['NIMSIM_API_KEY']).toBe('***');
    expect(describeConfig(c)['NIMSIM_ADMIN_TOKEN']).toBeNull();
  });
});
