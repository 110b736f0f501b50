/**
 * `simulate` with a reasoning model: each turn reasons before its answer, and the next turn's
 * prompt drops that reasoning as the model's chat template does, so the prefix cache serves the
 * next turn only up to where the reasoning began (simulate/reasoning.ts). On the virtual clock.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { runSimulation, WorkloadError } from '../../src/simulate/simulate.js';
import type { WorkloadOptions } from '../../src/simulate/workload.js';
import type { SimulationReport } from '../../src/simulate/report.js';
import { runSimulateCommand, UsageError } from '../../src/simulate/simulate-command.js';

const R1 = { modelName: 'deepseek-ai/deepseek-r1', gpu: 'h200', gpus: '8', tp: '8', precision: 'fp8' };
const r1Config = (extra: Record<string, string> = {}) => loadConfig({}, { ...R1, ...extra });

/** One session at a time: nothing evicts, nothing batches with it, so each turn's figures are exact. */
const workload: WorkloadOptions = {
  concurrency: 1,
  requests: 12,
  inputTokens: 300,
  outputTokens: 100,
  sharedPrefixTokens: 0,
  turns: 4,
  thinkTimeMs: 0,
};
const reasoning = { medianTokens: 400 };

/** Whole blocks of `n` tokens: what a later prompt sharing exactly `n` tokens finds cached. */
const whole = (n: number, block: number) => Math.floor(n / block) * block;

describe('simulate: multi-turn reasoning', () => {
  const config = r1Config();
  const block = config.kvBlockSize;
  const chat = runSimulation(config, workload);
  const reasoned = runSimulation(config, { ...workload, reasoning });

  it("caches a later turn only up to where the previous turn's reasoning began", () => {
    const turns = reasoned.by_turn!;
    expect(turns.map((t) => t.turn)).toEqual([1, 2, 3, 4]);
    for (let k = 1; k < turns.length; k++) {
      const previous = turns[k - 1]!;
      const turn = turns[k]!;
      // The prompt resends the previous prompt and answer (not its reasoning) plus new input.
      expect(turn.prompt_tokens_mean).toBe(
        previous.prompt_tokens_mean + workload.outputTokens + workload.inputTokens,
      );
      // The previous prompt's whole blocks hit; its answer, computed after the reasoning, does not.
      expect(turn.cached_tokens_mean).toBe(whole(previous.prompt_tokens_mean, block));
    }
  });

  it('caches a chat turn up to the end of the previous answer, with prompts of the same shape', () => {
    const turns = chat.by_turn!;
    for (let k = 1; k < turns.length; k++) {
      const previous = turns[k - 1]!;
      expect(turns[k]!.prompt_tokens_mean).toBe(reasoned.by_turn![k]!.prompt_tokens_mean);
      // The answer's last token was sampled but never fed back: it has no KV to share.
      expect(turns[k]!.cached_tokens_mean).toBe(
        whole(previous.prompt_tokens_mean + workload.outputTokens - 1, block),
      );
    }
    expect(chat).not.toHaveProperty('reasoning');
    expect(chat.by_turn![0]).not.toHaveProperty('reasoning_tokens_mean');
  });

  it('prefills the resent answer again: later turns wait longer for their first token', () => {
    for (let k = 1; k < workload.turns; k++) {
      expect(reasoned.by_turn![k]!.ttft_ms.mean).toBeGreaterThan(chat.by_turn![k]!.ttft_ms.mean);
    }
    expect(reasoned.prefix_cache_hit_rate).toBeLessThan(chat.prefix_cache_hit_rate);
  });

  it('generates the reasoning as output tokens, reported per turn', () => {
    const r = reasoned.reasoning!;
    expect(r).toMatchObject({ median_tokens: 400, history: 'dropped' });
    for (const t of reasoned.by_turn!) expect(t.reasoning_tokens_mean).toBeGreaterThan(0);
    // Reasoning and answer are both decoded: the reasoning run takes longer to finish its turns.
    expect(reasoned.e2e_ms.mean).toBeGreaterThan(chat.e2e_ms.mean + 100 * reasoned.itl_ms.mean);
  });

  it('draws reasoning lengths around the median (lognormal σ 0.6: mean ≈ 1.2 × median)', () => {
    const many = runSimulation(config, {
      ...workload,
      concurrency: 64,
      requests: 800,
      turns: 1,
      inputTokens: 50,
      outputTokens: 10,
      reasoning,
    });
    expect(many.reasoning!.reasoning_tokens_mean).toBeGreaterThan(1.05 * 400);
    expect(many.reasoning!.reasoning_tokens_mean).toBeLessThan(1.35 * 400);
    // Each request's completion tokens count its reasoning (as vLLM's usage does).
    const outputPerRequest = many.output_tokens_per_s / many.requests_per_s;
    expect(outputPerRequest).toBeCloseTo(many.reasoning!.reasoning_tokens_mean + 10, -1);
  });

  it('is the same run for the same seed', () => {
    const again = runSimulation(config, { ...workload, reasoning });
    const strip = (r: SimulationReport) => ({ ...r, wall_s: 0, speedup: 0 });
    expect(strip(again)).toEqual(strip(reasoned));
  });

  it("counts the longest reasoning in the last turn's context, once", () => {
    const small = r1Config({ maxModelLen: '2000' });
    const fits: WorkloadOptions = { ...workload, turns: 3, inputTokens: 200, outputTokens: 100 };
    expect(() => runSimulation(small, fits)).not.toThrow();
    expect(() => runSimulation(small, { ...fits, reasoning: { medianTokens: 200 } })).toThrow(WorkloadError);
    expect(() => runSimulation(small, { ...fits, reasoning: { medianTokens: 200 } })).toThrow(
      /the longest reasoning/,
    );
  });
});

/** `nimsim simulate` with these flags: its JSON report, or the UsageError it throws. */
function simulate(settings: Record<string, string>, flags: Record<string, string>): SimulationReport {
  let out = '';
  runSimulateCommand(
    loadConfig({}, settings),
    { requests: '8', turns: '2', inputTokens: '100', outputTokens: '20', json: true, ...flags },
    { stdout: (t) => (out += t), stderr: () => {}, stderrIsTty: false },
  );
  return JSON.parse(out) as SimulationReport;
}

const GPT_OSS = { modelName: 'openai/gpt-oss-120b', gpu: 'h100-sxm', gpus: '2', tp: '2', precision: 'fp8' };
const NEMOTRON = {
  modelName: 'nvidia/llama-3.3-nemotron-super-49b-v1',
  gpu: 'h100-sxm',
  gpus: '2',
  tp: '2',
  precision: 'fp8',
};

describe('simulate --reasoning and --reasoning-effort', () => {
  it("follow each model's switch: DeepSeek-R1 and gpt-oss reason unless told not to, Nemotron when told to", () => {
    expect(simulate(R1, {}).reasoning?.median_tokens).toBe(1000);
    expect(simulate({ ...R1, meanReasoningTokens: '300' }, {}).reasoning?.median_tokens).toBe(300);
    expect(simulate(R1, { reasoning: 'off' })).not.toHaveProperty('reasoning');
    expect(simulate(GPT_OSS, {}).reasoning).toMatchObject({ median_tokens: 1000, effort: 'medium' });
    expect(simulate(NEMOTRON, {})).not.toHaveProperty('reasoning');
    expect(simulate(NEMOTRON, { reasoning: 'on' }).reasoning?.median_tokens).toBe(1000);
  });

  it("scales gpt-oss's reasoning with --reasoning-effort", () => {
    const low = simulate(GPT_OSS, { reasoningEffort: 'low' }).reasoning!;
    const high = simulate(GPT_OSS, { reasoningEffort: 'high' }).reasoning!;
    expect(low).toMatchObject({ median_tokens: 250, effort: 'low' });
    expect(high).toMatchObject({ median_tokens: 3000, effort: 'high' });
    expect(high.reasoning_tokens_mean).toBeGreaterThan(low.reasoning_tokens_mean);
  });

  it('refuses what a model does not read, naming the flag', () => {
    const refusal = (settings: Record<string, string>, flags: Record<string, string>) => {
      try {
        simulate(settings, flags);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refusal({}, { reasoning: 'on' })).toBe(
      '--reasoning=on: meta/llama-3.1-8b-instruct is not a reasoning model',
    );
    expect(refusal(R1, { reasoning: 'maybe' })).toBe('--reasoning=maybe: must be on or off');
    expect(refusal(R1, { reasoningEffort: 'low' })).toMatch(
      /^--reasoning-effort=low: .*takes no reasoning_effort/,
    );
    expect(refusal(GPT_OSS, { reasoningEffort: 'max' })).toBe(
      '--reasoning-effort=max: must be low, medium or high',
    );
    expect(refusal(GPT_OSS, { reasoning: 'off', reasoningEffort: 'high' })).toBe(
      '--reasoning-effort=high: not read with --reasoning off',
    );
  });
});
