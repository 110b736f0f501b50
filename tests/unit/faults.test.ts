import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/serving/errors.js';
import { FAULT_TYPE_NAMES, createFaultInjector, faultError } from '../../src/api/faults/faults.js';
import { createAdjustableJitter } from '../../src/engine/jitter.js';

const all = [...FAULT_TYPE_NAMES];

describe('fault injector', () => {
  it('injects nothing at rate 0 unless a header forces it', () => {
    const f = createFaultInjector({ rate: 0, types: all, delayMs: 10 }, 0);
    for (let i = 0; i < 1000; i++) expect(f.choose(undefined)).toBeUndefined();
    expect(f.choose('rate_limit')).toBe('rate_limit');
    expect(f.choose(' Stall ')).toBe('stall');
  });

  it('draws the same faults for the same seed, about `rate` of the requests, only of the allowed types', () => {
    const draw = (seed: number) => {
      const f = createFaultInjector({ rate: 0.3, types: ['server_error', 'timeout'], delayMs: 10 }, seed);
      return Array.from({ length: 10_000 }, () => f.choose(undefined));
    };
    const a = draw(7);
    expect(draw(7)).toEqual(a);
    expect(draw(8)).not.toEqual(a);
    const hits = a.filter((x) => x !== undefined);
    expect(hits.length).toBeGreaterThan(2_850);
    expect(hits.length).toBeLessThan(3_150);
    expect(new Set(hits)).toEqual(new Set(['server_error', 'timeout']));
  });

  it('lets `none` skip the random draw and rejects unknown header values with a 400', () => {
    const f = createFaultInjector({ rate: 1, types: all, delayMs: 10 }, 0);
    expect(f.choose('none')).toBeUndefined();
    expect(f.choose(undefined)).toBeDefined();
    let err: unknown;
    try {
      f.choose('explode');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).param).toBe('x-nimsim-fault');
  });

  it('changes rate, types and delay at run time', () => {
    const f = createFaultInjector({ rate: 0, types: all, delayMs: 10 }, 0);
    f.update({ rate: 1, types: ['rate_limit'], delayMs: 25 });
    expect(f.choose(undefined)).toBe('rate_limit');
    expect(f.delayMs(undefined)).toBe(25);
    expect(f.delayMs('40')).toBe(40);
    expect(() => f.delayMs('-1')).toThrow(ApiError);
    expect(() => f.delayMs('1e9')).toThrow(ApiError);
  });

  it('answers each status fault with the status, type, wording and headers of the real failure', () => {
    const ctx = { model: 'm/x', maxModelLen: 4096 };
    const rate = faultError('rate_limit', ctx);
    expect([rate.status, rate.type, rate.headers]).toEqual([
      429,
      'RateLimitError',
      { 'x-nimsim-fault-injected': 'rate_limit', 'retry-after': '1' },
    ]);
    expect(faultError('server_error', ctx).status).toBe(500);
    expect(faultError('service_unavailable', ctx).headers['retry-after']).toBe('1');
    expect(faultError('context_length', ctx).message).toMatch(
      /^This model's maximum context length is 4096 tokens\. However, you requested 4097 tokens/,
    );
    expect(faultError('invalid_request', ctx).status).toBe(400);
    expect(faultError('model_not_found', ctx).message).toBe('The model `m/x` does not exist.');
  });
});

describe('adjustable jitter', () => {
  it('is 1 at sigma 0 and varies around 1 once sigma is raised', () => {
    let g = 0;
    const gaussian = () => ((g = (g + 0.7) % 2), g - 1);
    const j = createAdjustableJitter(0, gaussian);
    expect(j()).toBe(1);
    j.setSigma(0.5);
    expect(j.sigma).toBe(0.5);
    const draws = Array.from({ length: 10 }, () => j());
    expect(new Set(draws).size).toBeGreaterThan(1);
    expect(() => j.setSigma(-1)).toThrow(RangeError);
  });
});
