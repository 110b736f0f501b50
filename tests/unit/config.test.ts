import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, servedModelNames } from '../../src/config/config.js';
import { closestValue, unknownValue } from '../../src/config/setting-names.js';
import { SETTINGS, flagOf, type SettingKey } from '../../src/config/settings.js';

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
      expect((err as Error).message).toBe('NIM_SERVER_PORT=70000: must be an integer from 0 to 65535');
      expect((err as Error).message).not.toContain('\n');
    }
    expect(() => loadConfig({}, { timeScale: 'fast' })).toThrow(/--time-scale/);
  });

  it('says every refusal in its own words, naming the flag or the variable as given, in one short line', () => {
    const messageOf = (env: NodeJS.ProcessEnv, flags: Record<string, string>) => {
      try {
        loadConfig(env, flags);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      return undefined;
    };
    let refused = 0;
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      for (const bad of ['x', '-1', '1e400', '99999999999999999999', '2.5', 'foo,bar']) {
        const viaFlag = messageOf({}, { [key]: bad });
        if (viaFlag === undefined) continue;
        refused++;
        expect(viaFlag.startsWith(`--${flagOf(key)}=`), viaFlag).toBe(true);
        expect(viaFlag).not.toContain('\n');
        expect(viaFlag.length, viaFlag).toBeLessThan(150);
        // zod's own wording is for developers; the help text is for --help (a short one may be
        // just the allowed values, which the message says too).
        expect(viaFlag, viaFlag).not.toMatch(
          /Too big|Too small|Invalid (option|input)|expected (number|one of)/,
        );
        if (SETTINGS[key].help.length > 60) expect(viaFlag, viaFlag).not.toContain(SETTINGS[key].help);
        const viaEnv = messageOf({ [SETTINGS[key].env]: bad }, {});
        expect(viaEnv, key).toBe(viaFlag.replace(`--${flagOf(key)}=`, `${SETTINGS[key].env}=`));
      }
    }
    expect(refused).toBeGreaterThan(100);
    expect(messageOf({}, { port: '99999' })).toBe('--port=99999: must be an integer from 0 to 65535');
    expect(messageOf({}, { maxWaiting: '-1' })).toBe('--max-waiting=-1: must be an integer ≥ 0');
    expect(messageOf({}, { gpuMemoryUtilization: '2' })).toBe(
      '--gpu-memory-utilization=2: must be a number from 0.05 to 1',
    );
    expect(messageOf({}, { timeScale: '0.0001' })).toBe(
      '--time-scale=0.0001: must be 0 or a number from 0.001 to 1000000',
    );
    expect(messageOf({}, { jsonlLogging: 'maybe' })).toBe(
      '--jsonl-logging=maybe: must be 1 or 0 (or true/false, yes/no, on/off)',
    );
    expect(messageOf({}, { apiCompat: '3' })).toBe('--api-compat=3: must be 1 or 2');
    expect(messageOf({ NIMSIM_FAULT_TYPES: 'rate_limit, foo' }, {})).toBe(
      'NIMSIM_FAULT_TYPES="rate_limit, foo": unknown fault type foo; allowed: all, or a comma-separated list of the 10 types --help lists',
    );
    // A flag wins over the environment, so a bad flag is named even with a good variable set.
    expect(messageOf({ NIM_SERVER_PORT: '8001' }, { port: 'abc' })).toBe(
      '--port=abc: must be an integer from 0 to 65535',
    );
  });

  it('suggests the value meant only when one is close, and lists short choices instead', () => {
    const models = ['meta/llama-3.1-8b-instruct', 'meta/llama-3.3-70b-instruct', 'openai/gpt-oss-120b'];
    expect(closestValue('llama-3.1-8b-instruct', models)).toBe('meta/llama-3.1-8b-instruct');
    expect(closestValue('META/LLAMA-3.3-70B-INSTRUCT', models)).toBe('meta/llama-3.3-70b-instruct');
    expect(closestValue('meta/llama-3.1-8b-instruc', models)).toBe('meta/llama-3.1-8b-instruct');
    expect(closestValue('gpt-4o', models)).toBeUndefined();
    expect(closestValue('h100', ['a100-80gb', 'h100-sxm', 'h200'])).toBe('h100-sxm');
    expect(unknownValue('GPU', 'h100', ['a100-80gb', 'h100-sxm', 'h200'], 'GPUs')).toBe(
      'unknown GPU; allowed: a100-80gb, h100-sxm, h200',
    );
    const many = Array.from({ length: 12 }, (_, i) => `vendor/model-number-${i}`);
    expect(unknownValue('model', 'vendor/model-numbr-11', many, 'models')).toBe(
      'unknown model; did you mean vendor/model-number-11?',
    );
    // Two as near: no guess.
    expect(closestValue('vendor/model-number-1O', many)).toBeUndefined();
    expect(unknownValue('model', 'gpt-4o', many, 'models')).toBe(
      'unknown model; allowed: the 12 models --help lists',
    );
  });

  it('splits served model names and masks secrets', () => {
    const c = loadConfig({ NIM_SERVED_MODEL_NAME: 'a, b', NIMSIM_API_KEY: 'k' });
    expect(servedModelNames(c)).toEqual(['a', 'b']);
    expect(describeConfig(c)['NIMSIM_API_KEY']).toBe('***');
    expect(describeConfig(c)['NIMSIM_ADMIN_TOKEN']).toBeNull();
  });
});
