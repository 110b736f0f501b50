/**
 * Multi-turn reasoning against chat of the same shape, per turn (docs/simulate.md#reasoning-models).
 *
 *   npx tsx load-tests/reasoning-turns.ts [--model deepseek-ai/deepseek-r1] [--gpu h200] [--gpus 8]
 *     [--precision fp8] [--concurrency 32] [--requests 1920] [--turns 6]
 *
 * Two `simulate` runs on the virtual clock with the same sessions — the same system prompt, new
 * tokens and answer lengths, turn for turn — one with the model's reasoning (`simulate` with the
 * model alone) and one without (`--reasoning off`). It prints one Markdown table: each turn's
 * prompt, cached tokens, prefix hit rate (cached ÷ prompt) and TTFT in both runs. The figures are
 * the same on every machine (virtual clock, seeded); only the run time varies.
 */
import { loadConfig } from '../src/config/config.js';
import { findModel } from '../src/catalog/models.js';
import { workloadReasoning } from '../src/simulate/reasoning.js';
import type { SimulationReport, TurnReport } from '../src/simulate/report.js';
import { runSimulation, type WorkloadOptions } from '../src/simulate/simulate.js';
import { intArg } from './lib/int-arg.js';

const stringArg = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? (process.argv[at + 1] ?? fallback) : fallback;
};

const model = stringArg('model', 'deepseek-ai/deepseek-r1');
const settings = {
  modelName: model,
  gpu: stringArg('gpu', 'h200'),
  gpus: stringArg('gpus', '8'),
  precision: stringArg('precision', 'fp8'),
};
const config = loadConfig({}, settings);
const card = findModel(model);
const reasoning = card ? workloadReasoning(card, {}, config.meanReasoningTokens) : undefined;
if (reasoning === undefined || 'problem' in reasoning) {
  process.stderr.write(`${model} does not reason by default: pick DeepSeek-R1 or gpt-oss\n`);
  process.exit(2);
}

// A chat product's sessions: a 2,000-token system prompt, 300 ± 100 new tokens and a 300 ± 100
// token answer per turn, about 3 s of reading and typing between turns (the spreads and the pause
// keep sessions out of lockstep, as users are).
const workload: WorkloadOptions = {
  concurrency: intArg('concurrency', 32),
  requests: intArg('requests', 1920),
  turns: intArg('turns', 6),
  sharedPrefixTokens: 2000,
  inputTokens: 300,
  inputTokensStddev: 100,
  outputTokens: 300,
  outputTokensStddev: 100,
  thinkTimeMs: 3000,
};

const chat = runSimulation(config, workload);
const reasoned = runSimulation(config, { ...workload, reasoning });

const hit = (t: TurnReport) => `${((100 * t.cached_tokens_mean) / t.prompt_tokens_mean).toFixed(1)} %`;
const ms = (x: number) => x.toFixed(1);
const rows = chat.by_turn!.map((c, i) => {
  const r = reasoned.by_turn![i]!;
  return `| ${c.turn} | ${c.prompt_tokens_mean.toFixed(0)} | ${c.cached_tokens_mean.toFixed(0)} / ${r.cached_tokens_mean.toFixed(0)} | ${hit(c)} / ${hit(r)} | ${r.reasoning_tokens_mean?.toFixed(0)} | ${ms(c.ttft_ms.mean)} / ${ms(r.ttft_ms.mean)} | ${ms(c.ttft_ms.p90)} / ${ms(r.ttft_ms.p90)} |`;
});
const whole = (x: SimulationReport) =>
  `${(100 * x.prefix_cache_hit_rate).toFixed(1)} %, TTFT ${ms(x.ttft_ms.mean)} ms (p90 ${ms(x.ttft_ms.p90)}), ITL ${ms(x.itl_ms.mean)} ms, ${x.output_tokens_per_s} output tok/s, ${x.requests_per_s} req/s`;

process.stdout.write(
  [
    `${model} on ${settings.gpus} × ${settings.gpu} ${settings.precision}, ${workload.concurrency} sessions of ${workload.turns} turns, ${workload.requests} requests; reasoning median ${reasoning.medianTokens} tokens`,
    '',
    '| turn | prompt tokens | cached: chat / reasoning | prefix hit: chat / reasoning | reasoning tokens | TTFT mean ms: chat / reasoning | TTFT p90 ms: chat / reasoning |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `chat:      ${whole(chat)}`,
    `reasoning: ${whole(reasoned)}`,
    '',
  ].join('\n'),
);
