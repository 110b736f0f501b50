/** `simulate --input-tokens-stddev / --output-tokens-stddev`: lengths drawn around their means. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { runSimulation, WorkloadError } from '../../src/simulate/simulate.js';
import { answerOf, Session, type WorkloadOptions } from '../../src/simulate/workload.js';

const base: WorkloadOptions = {
  concurrency: 16,
  requests: 400,
  inputTokens: 500,
  outputTokens: 120,
  sharedPrefixTokens: 0,
  turns: 1,
  thinkTimeMs: 0,
};

/** The first turn's prompt and output lengths of `n` sessions. */
function lengths(w: WorkloadOptions, n: number, seed = 0) {
  const answer = answerOf(w, seed);
  const prompts: number[] = [];
  const outputs: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = new Session(i, w, [], answer, seed);
    prompts.push(s.nextPrompt().length);
    outputs.push(s.nextOutput().length);
  }
  return { prompts, outputs };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stddev = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
};

describe('simulate with variable lengths', () => {
  it('draws each length around its mean with the given spread, within [1, mean + 3σ]', () => {
    const { prompts, outputs } = lengths({ ...base, inputTokensStddev: 150, outputTokensStddev: 60 }, 4000);
    /** Sample mean within 2 % and spread within 7 % of the asked ones; no draw outside the bounds. */
    const expectDrawn = (xs: readonly number[], wantMean: number, wantStddev: number) => {
      expect(Math.abs(mean(xs) - wantMean)).toBeLessThan(0.02 * wantMean);
      expect(Math.abs(stddev(xs) - wantStddev)).toBeLessThan(0.07 * wantStddev);
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...xs)).toBeLessThanOrEqual(wantMean + 3 * wantStddev);
    };
    expectDrawn(prompts, 500, 150);
    expectDrawn(outputs, 120, 60);
  });

  it('keeps exact lengths, and the same report, when the spreads are 0', () => {
    const { prompts, outputs } = lengths({ ...base, inputTokensStddev: 0, outputTokensStddev: 0 }, 50);
    expect(new Set(prompts)).toEqual(new Set([500]));
    expect(new Set(outputs)).toEqual(new Set([120]));
    const config = loadConfig({});
    const strip = ({ wall_s: _w, speedup: _s, ...rest }: ReturnType<typeof runSimulation>) => rest;
    expect(strip(runSimulation(config, { ...base, inputTokensStddev: 0, outputTokensStddev: 0 }))).toEqual(
      strip(runSimulation(config, base)),
    );
  });

  it('is reproducible under a seed, and another seed draws other lengths', () => {
    const w = { ...base, inputTokensStddev: 100, outputTokensStddev: 40 };
    expect(lengths(w, 200, 7)).toEqual(lengths(w, 200, 7));
    expect(lengths(w, 200, 7)).not.toEqual(lengths(w, 200, 8));
    const strip = ({ wall_s: _w, speedup: _s, ...rest }: ReturnType<typeof runSimulation>) => rest;
    const config = loadConfig({});
    const report = strip(runSimulation(config, w));
    expect(strip(runSimulation(config, w))).toEqual(report);
    // The throughputs carry the drawn lengths: about 500 prompt and 120 output tokens per request.
    expect(report.input_tokens_per_s / report.requests_per_s).toBeGreaterThan(480);
    expect(report.input_tokens_per_s / report.requests_per_s).toBeLessThan(520);
    expect(report.output_tokens_per_s / report.requests_per_s).toBeGreaterThan(112);
    expect(report.output_tokens_per_s / report.requests_per_s).toBeLessThan(128);
  });

  it('refuses a workload whose longest draw would not fit the context', () => {
    const config = loadConfig({}, { maxModelLen: '2048' });
    // 1,500 + 3 × 200 = 2,100 prompt tokens at most: more than 2,048 with any output.
    expect(() => runSimulation(config, { ...base, inputTokens: 1500, inputTokensStddev: 200 })).toThrow(
      WorkloadError,
    );
    expect(() => runSimulation(config, { ...base, inputTokens: 1500, inputTokensStddev: 100 })).not.toThrow();
  });
});
