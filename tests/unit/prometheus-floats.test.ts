import { describe, expect, it } from 'vitest';
import { goFloat } from '../../src/metrics/fast-metrics.js';

describe('bucket bounds as vLLM writes them (prometheus_client floatToGoString)', () => {
  it("matches Python's text for vLLM's and NIM's bounds", () => {
    // Values Python's prometheus_client writes for these floats (repr, then Go's exponent form).
    const expected: [number, string][] = [
      [0.001, '0.001'],
      [0.25, '0.25'],
      [1, '1.0'],
      [7.5, '7.5'],
      [2560, '2560.0'],
      [131072, '131072.0'],
      [999999, '999999.0'],
      [1_000_000, '1e+06'],
      [1_500_000, '1.5e+06'],
      [Infinity, '+Inf'],
    ];
    for (const [value, text] of expected) expect(goFloat(value), String(value)).toBe(text);
  });
});
